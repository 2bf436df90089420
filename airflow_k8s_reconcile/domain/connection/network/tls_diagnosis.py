"""Preflight check 5: the TLS handshake with the configured CA and server name, and why it failed.

The runner makes one handshake as the client would (configured CA, server name, verification on) and sends
nothing else. When it fails, the runner fetches the certificate the server presents on a second connection WITHOUT
verification, for diagnosis only: no credential is ever sent on it (no client certificate, no HTTP request), and
nothing proceeds over it (connection-and-preflight facts §5.5). This module reads that certificate with
``cryptography`` and names the fault against the local clock and the configured CA:

- not signed by the configured CA (another cluster's CA, a rebuilt cluster, a TLS-intercepting proxy);
- expired, or not yet valid (the local clock is wrong as often as the certificate);
- the name or IP used is not in its SANs: connect by a listed name, or set ``tls_server_name`` to one of them;
- plain HTTP on the port (the runner asks ``HEAD /`` in clear text, no credentials, when the handshake is not TLS).

It never suggests turning verification off.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
from datetime import UTC, datetime
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from airflow_k8s_reconcile.domain.common.catalogue import (
    CONN_TLS_VERIFY_DISABLED,
    NET_CONNECTION_RESET,
    NET_READ_TIMEOUT,
    TLS_CERT_EXPIRED,
    TLS_CERT_NOT_YET_VALID,
    TLS_HANDSHAKE_FAILED,
    TLS_HOSTNAME_MISMATCH,
    TLS_VERIFIED,
    TLS_VERIFY_FAILED,
    TLS_WRONG_PROTOCOL,
    finding,
)
from airflow_k8s_reconcile.domain.common.redaction import redact_text
from airflow_k8s_reconcile.domain.common.wording import iso
from airflow_k8s_reconcile.findings import Finding, Status

_NEVER_OFF = " Do not turn verification off: it would hide exactly this."


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TlsHandshake:
    """Handshake with ``address:port`` as the client would; observed as :class:`TlsAnswer`.

    :param address: the IP to connect to (from DNS), so the check tests the address TCP reached.
    :param server_name: the name to send (SNI) and verify: ``tls_server_name``, else the URL's host.
    :param ca_pem: the configured CA bundle, ``None`` for the system trust store.
    :param verify: verify the certificate (``verify_ssl``).
    """

    address: str
    port: int
    server_name: str
    ca_pem: bytes | None = dataclasses.field(default=None, repr=False)
    verify: bool = True
    timeout: float = 5.0

    @property
    def action(self) -> str:
        """Return what the request does, for failure messages."""
        return f"TLS handshake with {self.address}:{self.port} as {self.server_name}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TlsAnswer:
    """What the handshake observed.

    :param request: the handshake that was made.
    :param ok: the verified handshake succeeded.
    :param version: the TLS version negotiated (``TLSv1.3``).
    :param failure: ``verify``, ``protocol``, ``reset``, ``timeout`` or ``other`` when it failed.
    :param error: the handshake's error text.
    :param peer_der: the leaf certificate, DER, as served (fetched without verification after a failure).
    :param plain_http: the port answered a clear-text ``HEAD /`` with an HTTP status line.
    :param local_time: this machine's clock at the handshake (epoch seconds).
    """

    request: TlsHandshake
    ok: bool
    version: str = ""
    failure: Literal["", "verify", "protocol", "reset", "timeout", "other"] = ""
    error: str = ""
    peer_der: bytes = dataclasses.field(default=b"", repr=False)
    plain_http: bool = False
    local_time: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ServedCertificate:
    """The facts of a served certificate that a diagnosis names (all public)."""

    subject: str
    issuer: str
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    sha256: str
    signed_by_ca: bool | None  # None: no CA configured (system trust store), nothing to compare with

    def covers(self, name: str) -> bool:
        """Return whether ``name`` (host or IP) is in the SANs (one-label ``*.`` wildcards as RFC 6125 §6.4.3)."""
        try:
            return str(ipaddress.ip_address(name.strip("[]"))) in self.ip_addresses
        except ValueError:
            pass
        name = name.lower().rstrip(".")
        for pattern in self.dns_names:
            pattern = pattern.lower().rstrip(".")
            if pattern == name:
                return True
            if pattern.startswith("*.") and "." in name and name.split(".", 1)[1] == pattern[2:]:
                return True
        return False

    def evidence(self) -> dict[str, str]:
        """Return the certificate's facts as finding evidence."""
        sans = [*self.dns_names, *self.ip_addresses]
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "sans": ",".join(sans),
            "not_before": iso(self.not_before),
            "not_after": iso(self.not_after),
            "sha256": self.sha256,
        }


def _ca_certificates(ca_pem: bytes | None) -> list[x509.Certificate]:
    if not ca_pem:
        return []
    try:
        return x509.load_pem_x509_certificates(ca_pem)
    except ValueError:
        return []


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    """Return whether ``ca`` signed ``cert`` (issuer name and signature; InvalidSignature or a key mismatch: no)."""
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def served_certificate(der: bytes, ca_pem: bytes | None) -> ServedCertificate | None:
    """Return the facts of a served leaf certificate, or ``None`` when it does not parse."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = tuple(sans.get_values_for_type(x509.DNSName))
        ips = tuple(str(ip) for ip in sans.get_values_for_type(x509.IPAddress))
    except x509.ExtensionNotFound:
        dns_names, ips = (), ()
    signed: bool | None = None
    cas = _ca_certificates(ca_pem)
    if cas:
        signed = any(_issued_by(cert, ca) for ca in cas)
    common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return ServedCertificate(
        subject=cert.subject.rfc4514_string() or (str(common_names[0].value) if common_names else ""),
        issuer=cert.issuer.rfc4514_string(),
        dns_names=dns_names,
        ip_addresses=ips,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256=hashlib.sha256(der).hexdigest()[:16],
        signed_by_ca=signed,
    )


def judge_tls(request: TlsHandshake, answer: TlsAnswer, *, ca_source: str, server: str) -> Finding:
    """Return the TLS check's finding from the handshake and, after a failure, the certificate as served."""
    where = f"{request.address}:{request.port}"
    if answer.ok:
        if not request.verify:
            return finding(
                CONN_TLS_VERIFY_DISABLED,
                f"The TLS handshake with {where} succeeded ({answer.version}) but the certificate was not verified "
                "(verify_ssl is off).",
                "Configure the cluster's CA and turn verification back on.",
                status=Status.INFO,
            )
        return finding(
            TLS_VERIFIED,
            f"{where} presented a certificate valid for {request.server_name}, signed by the CA from {ca_source} "
            f"({answer.version}).",
            evidence={"server_name": request.server_name, "tls_version": answer.version},
        )
    error = redact_text(answer.error)
    base = {"server": server, "address": where, "server_name": request.server_name, "error": error}
    if answer.failure == "reset":
        return finding(
            NET_CONNECTION_RESET,
            f"{where} accepted TCP, then reset the connection during the TLS handshake ({error}).",
            "Check that the port is the API server's (not a proxy or load balancer that drops TLS), and the "
            "load balancer's health.",
            evidence=base,
        )
    if answer.failure == "timeout":
        return finding(
            NET_READ_TIMEOUT,
            f"{where} accepted TCP but did not answer the TLS handshake within {request.timeout:g} s.",
            "Check for a proxy, load balancer or firewall in the middle that accepts connections and stalls; the "
            "API server answers a handshake at once.",
            evidence=base,
        )
    if answer.plain_http:
        return finding(
            TLS_WRONG_PROTOCOL,
            f"{where} answered in plain HTTP on a port the connection uses for TLS: it is an HTTP port or an HTTP "
            "load balancer.",
            "Use the API server's HTTPS address and port (the kubeconfig's cluster.server, usually port 6443 or "
            "443).",
            evidence=base,
        )
    served = served_certificate(answer.peer_der, request.ca_pem) if answer.peer_der else None
    if served is None:
        return finding(
            TLS_HANDSHAKE_FAILED,
            f"The TLS handshake with {where} failed ({error}) and no certificate could be read.",
            "Check the server address and port, and any TLS-intercepting proxy on the way." + _NEVER_OFF,
            evidence=base,
        )
    return _judge_certificate(request, served, answer, ca_source, base | served.evidence())


def _judge_certificate(
    request: TlsHandshake,
    served: ServedCertificate,
    answer: TlsAnswer,
    ca_source: str,
    evidence: dict[str, str],
) -> Finding:
    now = datetime.fromtimestamp(answer.local_time, UTC)
    evidence["local_time"] = iso(now)
    where = f"{request.address}:{request.port}"
    lowered = answer.error.lower()
    untrusted = served.signed_by_ca is None and ("issuer" in lowered or "self-signed" in lowered)
    if served.signed_by_ca is False or untrusted:
        return finding(
            TLS_VERIFY_FAILED,
            f"{where} serves a certificate for {served.subject!r} issued by {served.issuer!r}, which the configured "
            f"CA (from {ca_source}) did not sign: a CA of another or rebuilt cluster, or a TLS-intercepting proxy "
            f"({evidence['error']}).",
            "Configure this cluster's CA: the kubeconfig's certificate-authority-data, the service account's "
            "ca.crt, or the connection's ca_bundle; if a proxy intercepts TLS, put the API server in NO_PROXY."
            + _NEVER_OFF,
            evidence=evidence,
        )
    if now > served.not_after:
        return finding(
            TLS_CERT_EXPIRED,
            f"The certificate {where} serves expired at {iso(served.not_after)}; this machine's clock says "
            f"{iso(now)}.",
            "Rotate the API server's serving certificate; if it is in fact still valid, this machine's clock is "
            "ahead: fix it (NTP)." + _NEVER_OFF,
            evidence=evidence,
        )
    if now < served.not_before:
        return finding(
            TLS_CERT_NOT_YET_VALID,
            f"The certificate {where} serves is valid only from {iso(served.not_before)}; this machine's clock "
            f"says {iso(now)}: the clock is probably behind.",
            "Fix this machine's clock (NTP)." + _NEVER_OFF,
            evidence=evidence,
        )
    if not served.covers(request.server_name):
        names = [*served.dns_names, *served.ip_addresses]
        suggestion = served.dns_names[0] if served.dns_names else (names[0] if names else "")
        fix = (
            f"Connect with a name the certificate lists ({', '.join(names)}), or set tls_server_name to "
            f"{suggestion!r} (kubeconfig tls-server-name) to verify it against that name."
            if names
            else "Reissue the serving certificate with the address used in its SANs."
        )
        return finding(
            TLS_HOSTNAME_MISMATCH,
            f"The certificate {where} serves is not valid for {request.server_name!r}: its SANs are "
            f"{', '.join(names) or 'empty'}.",
            fix + _NEVER_OFF,
            evidence=evidence,
        )
    return finding(
        TLS_HANDSHAKE_FAILED,
        f"The TLS handshake with {where} failed ({evidence['error']}) although the served certificate is valid "
        f"for {request.server_name!r}, current, and {'signed by the configured CA' if served.signed_by_ca else 'not compared with a CA (system trust store)'}.",
        "Check the CA bundle (an intermediate may be missing) and any TLS-intercepting proxy." + _NEVER_OFF,
        evidence=evidence,
    )
