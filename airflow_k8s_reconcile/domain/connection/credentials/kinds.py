"""Credential values, and the inspection of tokens, client certificates and CA bundles.

Decides what a credential is (token, token file, client certificate, both, exec plugin, auth provider, none),
whether it can work right now (JWT ``exp``/``nbf``, certificate validity, key/certificate match, PEM parses), and what
may be shown about it: JWT claims that are not secret, certificate subjects and dates, and a token fingerprint
(``sha256:`` plus 8 hex digits). Secrets live only in fields with ``repr=False``. Exec plugin output is interpreted by
:mod:`~airflow_k8s_reconcile.domain.connection.credentials.exec_plugin`. Called by the resolution modules and by hooks.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import posixpath
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import finding
from airflow_k8s_reconcile.domain.common.redaction import fingerprint
from airflow_k8s_reconcile.domain.common.wording import clip, iso, span
from airflow_k8s_reconcile.domain.connection.credentials.certificates import (
    CLOCK_LEEWAY,
    Summary,
    inspect_ca_bundle,
    inspect_client_certificate,
)

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding

__all__ = [
    "AUTH_PROVIDER_TOKEN_KEYS",
    "AuthProviderCredential",
    "ClientCertCredential",
    "Credential",
    "ExecCredential",
    "ExecSpec",
    "NoCredential",
    "TokenCredential",
    "decode_jwt_claims",
    "describe_credential",
    "epoch_timestamp",
    "fingerprint",
    "inspect_ca_bundle",
    "inspect_client_certificate",
    "inspect_token",
    "tls_client_certificate",
]

TOKEN_EXPIRY_WARNING = timedelta(minutes=10)
TokenOrigin = Literal[
    "service_account_token_file", "kubeconfig_token", "kubeconfig_token_file", "exec_plugin", "auth_provider"
]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TokenCredential:
    """A bearer token.

    :param token: the token. SECRET.
    :param origin: where it came from.
    :param token_file: the file to re-read for rotated tokens (service account or kubeconfig ``tokenFile``).
    :param expires_at: when an exec plugin said it expires, if it did.
    :param client_cert: a TLS client certificate sent with the token, as kubectl sends both when a kubeconfig user
        has both (client-go keeps the TLS and ``Authorization`` settings apart; the API server tries the
        certificate first).
    """

    token: str = dataclasses.field(repr=False)
    origin: TokenOrigin
    token_file: str | None = None
    expires_at: datetime | None = None
    client_cert: ClientCertCredential | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ClientCertCredential:
    """A TLS client certificate and its private key (PEM).

    :param cert_pem: certificate (chain) PEM; public, but long, so not in ``repr``.
    :param key_pem: private key PEM. SECRET.
    :param expires_at: when an exec plugin said it expires, if it did.
    """

    cert_pem: bytes = dataclasses.field(repr=False)
    key_pem: bytes = dataclasses.field(repr=False)
    expires_at: datetime | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ExecSpec:
    """A kubeconfig ``exec`` credential plugin, to be run by the hook.

    :param command: the executable (absolute, or looked up on ``PATH``).
    :param args: its arguments.
    :param env: extra ``(name, value)`` environment pairs; values may be secret, so ``repr`` shows names only.
    :param api_version: the ``client.authentication.k8s.io`` version the plugin must answer with.
    :param install_hint: the kubeconfig's ``installHint``, shown when the command is missing.
    :param provide_cluster_info: pass the cluster in ``KUBERNETES_EXEC_INFO``.
    :param interactive_mode: ``Never``, ``IfAvailable`` or ``Always``.
    """

    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str
    install_hint: str = ""
    provide_cluster_info: bool = False
    interactive_mode: str = "IfAvailable"

    @property
    def env_names(self) -> tuple[str, ...]:
        """Return the names of the extra environment variables."""
        return tuple(name for name, _ in self.env)

    def __repr__(self) -> str:
        return (
            f"ExecSpec(command={self.command!r}, args={self.args!r}, env_names={self.env_names!r}, "
            f"api_version={self.api_version!r}, install_hint={self.install_hint!r}, "
            f"provide_cluster_info={self.provide_cluster_info!r}, interactive_mode={self.interactive_mode!r})"
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ExecCredential:
    """Credentials obtained by running an exec plugin (see :func:`exec_plugin.interpret_exec_output`).

    :param spec: the plugin to run.
    """

    spec: ExecSpec


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AuthProviderCredential:
    """A legacy kubeconfig ``auth-provider`` (``oidc``, ``gcp``).

    :param name: the provider name.
    :param config: its configuration (refresh tokens, client secrets). SECRET.
    """

    name: str
    config: Mapping[str, Any] = dataclasses.field(repr=False, default_factory=lambda: MappingProxyType({}))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NoCredential:
    """No credentials: requests are anonymous (``system:anonymous``)."""


Credential = TokenCredential | ClientCertCredential | ExecCredential | AuthProviderCredential | NoCredential


def tls_client_certificate(credential: Credential) -> ClientCertCredential | None:
    """Return the client certificate a client must present in the TLS handshake, if any.

    Either the credential itself, or the certificate that travels with a bearer token (kubectl sends both).

    :param credential: the materialised credential.
    :return: the certificate and key, or ``None``.
    """
    if isinstance(credential, ClientCertCredential):
        return credential
    return credential.client_cert if isinstance(credential, TokenCredential) else None


def decode_jwt_claims(token: str) -> dict[str, Any] | None:
    """Decode a JWT payload WITHOUT verifying it (for diagnosis only; the API server verifies).

    :param token: the bearer token.
    :return: the claims, or ``None`` when the token is not a JWT.
    """
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(_b64url(parts[0]))
        payload = json.loads(_b64url(parts[1]))
    except (ValueError, binascii.Error):
        return None
    return payload if isinstance(header, dict) and isinstance(payload, dict) else None


def inspect_token(
    token: str, *, origin: TokenOrigin, label: str, now: datetime
) -> tuple[Summary, list[Finding]]:
    """Describe a bearer token without revealing it, and check its JWT validity window.

    :param token: the token. SECRET: only its fingerprint and non-secret claims are returned.
    :param origin: where it came from (shapes the fix).
    :param label: how messages name it, e.g. ``service account token '/var/run/.../token'``.
    :param now: the current UTC time.
    :return: a JSON-safe summary and the findings (``CONN_TOKEN_EXPIRED``, ``_EXPIRING``, ``_NOT_YET_VALID``).
    """
    summary: Summary = {"fingerprint": fingerprint(token.strip()), "length": len(token.strip()), "jwt": False}
    claims = decode_jwt_claims(token)
    if claims is None:
        return summary, []
    summary["jwt"] = True
    summary["claims"] = _public_claims(claims)
    findings: list[Finding] = []
    expires = epoch_timestamp(claims.get("exp"))
    not_before = epoch_timestamp(claims.get("nbf"))
    fix = _TOKEN_FIXES[origin]
    if expires is None and "exp" in claims:
        # RFC 7519 §4.1.4: exp is a NumericDate. One out of range (a huge number overflows datetime) or not a number
        # cannot be checked here; the API server will judge the token, so say so instead of failing or staying silent.
        cause = f"The {label} has an exp claim ({clip(repr(claims['exp']), 40)}) that is not a valid time, so its expiry cannot be checked."
        findings.append(finding(codes.CONN_TOKEN_BAD_EXPIRY, cause, fix))
    if expires is not None:
        summary["expires_at"] = iso(expires)
        if expires <= now:
            cause = f"The {label} expired at {iso(expires)}, {span(now - expires)} ago (now {iso(now)})."
            findings.append(finding(codes.CONN_TOKEN_EXPIRED, cause, fix))
        elif expires - now < TOKEN_EXPIRY_WARNING:
            cause = f"The {label} expires at {iso(expires)}, in {span(expires - now)}."
            findings.append(finding(codes.CONN_TOKEN_EXPIRING, cause, fix))
    if not_before is not None and not_before > now + CLOCK_LEEWAY:
        cause = f"The {label} is valid only from {iso(not_before)}, but this worker's clock says {iso(now)}."
        findings.append(finding(codes.CONN_TOKEN_NOT_YET_VALID, cause, "Fix the clock (NTP) of this host."))
    return summary, findings


def describe_credential(
    credential: Credential, *, owner: str, now: datetime
) -> tuple[Summary, list[Finding]]:
    """Return the secret-free description of a credential and the findings of inspecting it.

    :param credential: the credential.
    :param owner: who holds it, e.g. ``user 'admin' in kubeconfig file '/x'`` or ``the pod's service account``.
    :param now: the current UTC time.
    :return: a JSON-safe summary whose ``kind`` is e.g. ``bearer token`` or ``exec plugin aws``, and the findings.
    """
    match credential:
        case TokenCredential(token=token, origin=origin, token_file=path, client_cert=cert):
            label = f"token file {path!r} of {owner}" if path else f"token of {owner}"
            summary, findings = inspect_token(token, origin=origin, label=label, now=now)
            described: Summary = {"kind": _TOKEN_KINDS[origin], "token_file": path, **summary}
            if cert is not None:
                cert_summary, cert_findings = inspect_client_certificate(
                    cert.cert_pem, cert.key_pem, label=owner, now=now
                )
                described["kind"] = f"{described['kind']} and client certificate"
                described["client_certificate"] = cert_summary
                findings += cert_findings
            return described, findings
        case ClientCertCredential(cert_pem=cert, key_pem=key):
            summary, findings = inspect_client_certificate(cert, key, label=owner, now=now)
            return {"kind": "client certificate", **summary}, findings
        case ExecCredential(spec=spec):
            return {
                "kind": f"exec plugin {posixpath.basename(spec.command)}",
                "command": spec.command,
                "api_version": spec.api_version,
                "env_names": list(spec.env_names),
                "provide_cluster_info": spec.provide_cluster_info,
                "install_hint": clip(spec.install_hint) or None,
            }, []
        case AuthProviderCredential(name=name, config=config):
            token_key = AUTH_PROVIDER_TOKEN_KEYS.get(name)
            held = config.get(token_key) if token_key else None
            if not isinstance(held, str) or not held.strip():
                return {"kind": f"auth provider {name}"}, []
            summary, findings = inspect_token(
                held,
                origin="auth_provider",
                label=f"{token_key} of the {name} auth-provider of {owner}",
                now=now,
            )
            # An expired held token is decided when it is used (auth_provider_token), with the migration fix.
            kept = [item for item in findings if item.code != codes.CONN_TOKEN_EXPIRED]
            return {"kind": f"auth provider {name}", **summary}, kept
    return {"kind": "none"}, []


# Where each legacy auth-provider keeps its current token in the kubeconfig (client-go's oidc and gcp plugins).
AUTH_PROVIDER_TOKEN_KEYS: Mapping[str, str] = MappingProxyType({"oidc": "id-token", "gcp": "access-token"})

_TOKEN_KINDS: Mapping[str, str] = MappingProxyType(
    {
        "service_account_token_file": "service-account token file",
        "kubeconfig_token": "bearer token",
        "kubeconfig_token_file": "bearer token file",
        "exec_plugin": "exec plugin token",
        "auth_provider": "auth-provider token",
    }
)
_TOKEN_FIXES: Mapping[str, str] = MappingProxyType(
    {
        "service_account_token_file": (
            "The kubelet should have rotated this projected token; check the pod's serviceAccountToken volume "
            "and the node, or restart the pod."
        ),
        "kubeconfig_token": (
            "Static tokens expire; issue a new one (kubectl create token <sa> --duration=...), or use tokenFile, an "
            "exec plugin or in-cluster auth instead."
        ),
        "kubeconfig_token_file": "Whatever writes the token file has stopped refreshing it; check that process.",
        "exec_plugin": "Run the plugin again; if it keeps returning stale tokens, clear its cache.",
        "auth_provider": (
            "Legacy auth-providers cannot be refreshed here: refresh the kubeconfig, or better use an exec credential "
            "plugin (kubelogin for OIDC, gke-gcloud-auth-plugin for GKE)."
        ),
    }
)


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _public_claims(claims: Mapping[str, Any]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key in ("iss", "sub"):
        if isinstance(claims.get(key), str):
            out[key] = clip(claims[key])
    aud = claims.get("aud")
    if isinstance(aud, str):
        out["aud"] = [clip(aud)]
    elif isinstance(aud, list):
        out["aud"] = [clip(item) for item in aud[:5] if isinstance(item, str)]
    for key in ("exp", "iat", "nbf"):
        stamp = epoch_timestamp(claims.get(key))
        if stamp is not None:
            out[key] = iso(stamp)
    k8s = claims.get("kubernetes.io")
    if isinstance(k8s, dict):
        sa = k8s.get("serviceaccount")
        namespace, account = k8s.get("namespace"), sa.get("name") if isinstance(sa, dict) else None
    else:  # legacy Secret-based service account tokens
        namespace = claims.get("kubernetes.io/serviceaccount/namespace")
        account = claims.get("kubernetes.io/serviceaccount/service-account.name")
    if isinstance(namespace, str):
        out["kubernetes.io/namespace"] = clip(namespace)
    if isinstance(account, str):
        out["kubernetes.io/serviceaccount"] = clip(account)
    return out


def epoch_timestamp(value: Any) -> datetime | None:
    """Return a JWT NumericDate (``exp``, ``nbf``, ``iat``) as an aware UTC time.

    ``None`` when it is not a number or out of range (a huge ``exp`` raises ``OverflowError`` in
    ``datetime.fromtimestamp``).
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
