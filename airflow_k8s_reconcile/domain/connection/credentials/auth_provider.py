"""Turn a legacy kubeconfig ``auth-provider`` (``oidc``, ``gcp``) into a bearer token, or say why it cannot.

kubectl refreshes these tokens by calling the identity provider (OIDC) or ``gcloud`` (gcp, removed in kubectl
1.26). This provider uses the token the kubeconfig already holds while it is valid, and otherwise fails with the
expiry and the migration path (an exec credential plugin), instead of sending requests without credentials.
Called by ``hooks._resolution.resolve.materialize``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error
from airflow_k8s_reconcile.domain.common.wording import iso, span
from airflow_k8s_reconcile.domain.connection.credentials.certificates import parse_timestamp
from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    AUTH_PROVIDER_TOKEN_KEYS,
    AuthProviderCredential,
    TokenCredential,
    decode_jwt_claims,
    epoch_timestamp,
)

_MIGRATION = {
    "oidc": "use an exec credential plugin such as kubelogin (kubectl oidc-login), which refreshes tokens itself",
    "gcp": "use the gke-gcloud-auth-plugin exec plugin (gcloud components install gke-gcloud-auth-plugin)",
}


def _expiry(name: str, config: Mapping[str, Any], token: str) -> datetime | None:
    """Return when the provider's token expires, through the guarded parsers shared with token inspection.

    The gcp provider stores ``expiry`` as RFC 3339 (Go's ``time.RFC3339Nano``); text without an offset is read as
    UTC instead of being compared with an aware time (a ``TypeError``). An OIDC ``exp`` out of range is no expiry
    rather than an ``OverflowError``; the API server judges such a token.
    """
    if name == "gcp" and isinstance(config.get("expiry"), str):
        return parse_timestamp(config["expiry"].replace("Z", "+00:00"))
    return epoch_timestamp((decode_jwt_claims(token) or {}).get("exp"))


def auth_provider_token(credential: AuthProviderCredential, *, label: str, now: datetime) -> TokenCredential:
    """Return the provider's current token as a bearer credential.

    :param credential: the ``auth-provider`` of a kubeconfig user.
    :param label: how messages name its owner, e.g. ``user 'dev' in kubeconfig file '/x'``.
    :param now: the current UTC time.
    :raises ConnectionConfigError: ``CONN_AUTH_PROVIDER_UNSUPPORTED`` when there is no token or it has expired.
    """
    name = credential.name
    fix = "Refresh the kubeconfig, or better " + _MIGRATION.get(name, "use an exec credential plugin") + "."
    key = AUTH_PROVIDER_TOKEN_KEYS.get(name)
    token = credential.config.get(key) if key else None
    if not isinstance(token, str) or not token.strip():
        raise config_error(
            codes.CONN_AUTH_PROVIDER_UNSUPPORTED,
            f"The {name} auth-provider of {label} holds no {key or 'token'}, and refreshing it needs the identity "
            "provider, which this provider does not call.",
            fix,
            evidence={"auth_provider": name},
        )
    expires = _expiry(name, credential.config, token)
    if expires is not None and expires <= now:
        raise config_error(
            codes.CONN_AUTH_PROVIDER_UNSUPPORTED,
            f"The {key} of the {name} auth-provider of {label} expired at {iso(expires)}, {span(now - expires)} ago, "
            "and refreshing it needs the identity provider, which this provider does not call.",
            fix,
            evidence={"auth_provider": name, "expired_at": iso(expires)},
        )
    return TokenCredential(token=token.strip(), origin="auth_provider", expires_at=expires)
