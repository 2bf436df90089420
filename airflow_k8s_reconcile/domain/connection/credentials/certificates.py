"""Inspection of X.509 material: client certificates and keys, CA bundles, and the time formats reports use.

Decides whether PEM parses, whether a client key belongs to its certificate, and whether a certificate is valid at
``now`` (expired, not yet valid, expiring within 30 days). Only subjects, dates and fingerprints are ever returned;
key material never is. Called by :mod:`~airflow_k8s_reconcile.domain.connection.credentials.kinds` (which re-exports the public
functions) and :mod:`~airflow_k8s_reconcile.domain.connection.resolution`.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import finding
from airflow_k8s_reconcile.domain.common.redaction import fingerprint
from airflow_k8s_reconcile.domain.common.wording import clip, iso, span

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding

CERT_EXPIRY_WARNING = timedelta(days=30)
CLOCK_LEEWAY = timedelta(seconds=60)
Summary = dict[str, object]


def inspect_client_certificate(
    cert_pem: bytes, key_pem: bytes, *, label: str, now: datetime
) -> tuple[Summary, list[Finding]]:
    """Check a client certificate and key: both parse, they match, and the certificate is valid now.

    :param cert_pem: certificate PEM (the first certificate is the client's).
    :param key_pem: private key PEM. SECRET.
    :param label: how messages name them, e.g. ``user 'admin' in kubeconfig file '/x'``.
    :param now: the current UTC time.
    :return: a JSON-safe summary (subject, validity, fingerprint) and the findings.
    """
    certs = _load_certs(cert_pem)
    if not certs:
        return {}, [_bad_pem(f"client certificate of {label}", cert_pem)]
    cert = certs[0]
    summary = _cert_summary(cert)
    findings: list[Finding] = []
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        findings.append(_bad_pem(f"client key of {label}", key_pem, key=True))
    else:
        if _spki(key.public_key()) != _spki(cert.public_key()):
            findings.append(
                finding(
                    codes.CONN_CLIENT_KEY_MISMATCH,
                    f"The client key of {label} does not belong to its certificate ({summary['subject']}).",
                    "Use the key generated together with this certificate; check client-key and client-certificate "
                    "point at the same pair.",
                )
            )
    findings.extend(_validity_findings(cert, label=label, now=now))
    return summary, findings


def inspect_ca_bundle(pem: bytes, *, label: str, now: datetime) -> tuple[Summary, list[Finding]]:
    """Check that a CA bundle parses as PEM certificates; warn when every certificate in it has expired.

    :param pem: the bundle.
    :param label: how messages name it, e.g. ``CA file '/etc/k8s/ca.crt'``.
    :param now: the current UTC time.
    :return: a JSON-safe summary and the findings (``CONN_BAD_PEM``, ``CONN_CA_EXPIRED``).
    """
    certs = _load_certs(pem)
    if not certs:
        return {}, [_bad_pem(label, pem)]
    summary: Summary = {
        "certificates": len(certs),
        "subjects": [_cert_summary(cert)["subject"] for cert in certs[:5]],
    }
    if all(cert.not_valid_after_utc <= now for cert in certs):
        last = max(cert.not_valid_after_utc for cert in certs)
        cause = f"Every certificate in the {label} expired, the last one at {iso(last)}."
        fix = "Use the cluster's current CA (kubectl config view --raw, or the pod's ca.crt)."
        return summary, [finding(codes.CONN_CA_EXPIRED, cause, fix)]
    return summary, []


def parse_timestamp(value: str) -> datetime | None:
    """Parse an RFC 3339 timestamp (``Z`` or an offset; naive means UTC).

    :param value: the text.
    :return: the aware datetime, or ``None`` when it does not parse.
    """
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _load_certs(pem: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError:
        return []


def _bad_pem(label: str, data: bytes, *, key: bool = False) -> Finding:
    text = data.strip()
    if not text:
        reason = "is empty"
    elif b"-----BEGIN" not in text and _is_base64_pem(text):
        reason = "looks base64-encoded instead of PEM (-----BEGIN ...-----)"
    elif key and b"ENCRYPTED" in text:
        reason = "is encrypted with a passphrase, which Kubernetes clients cannot use"
    else:
        reason = "is not a PEM private key" if key else "contains no PEM certificate"
    fix = "Use the PEM text itself in file fields, and base64 of the PEM in *-data fields."
    if key and b"ENCRYPTED" in text:
        fix = "Decrypt the key (openssl pkey -in key.pem -out plain.pem) and store it as a secret."
    return finding(codes.CONN_BAD_PEM, f"The {label} {reason}.", fix)


def _is_base64_pem(text: bytes) -> bool:
    try:
        decoded = base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return False
    return b"-----BEGIN" in decoded


def _spki(public_key: Any) -> bytes:
    data: bytes = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return data


def _cert_summary(cert: x509.Certificate) -> Summary:
    cn = [str(attr.value) for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    org = [str(attr.value) for attr in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    subject = f"CN={cn[0]}" if cn else cert.subject.rfc4514_string() or "(empty subject)"
    return {
        "subject": clip(subject),
        "common_name": clip(cn[0]) if cn else None,
        "organizations": [clip(item) for item in org],
        "not_before": iso(cert.not_valid_before_utc),
        "not_after": iso(cert.not_valid_after_utc),
        "sha256": fingerprint(cert.public_bytes(serialization.Encoding.DER)),
    }


def _validity_findings(cert: x509.Certificate, *, label: str, now: datetime) -> list[Finding]:
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    what = f"client certificate of {label}"
    if not_after <= now:
        cause = f"The {what} expired at {iso(not_after)}, {span(now - not_after)} ago (now {iso(now)})."
        fix = "Renew it (kubeadm certs renew admin.conf, or ask the cluster admin); or the worker clock is ahead."
        return [finding(codes.CONN_CLIENT_CERT_EXPIRED, cause, fix)]
    if not_before > now + CLOCK_LEEWAY:
        cause = f"The {what} is valid only from {iso(not_before)}, but this worker's clock says {iso(now)}."
        return [finding(codes.CONN_CLIENT_CERT_NOT_YET_VALID, cause, "Fix the worker clock (NTP), or wait.")]
    if not_after - now < CERT_EXPIRY_WARNING:
        cause = f"The {what} expires at {iso(not_after)}, in {span(not_after - now)}."
        return [finding(codes.CONN_CLIENT_CERT_EXPIRING, cause, "Renew it before it expires.")]
    return []
