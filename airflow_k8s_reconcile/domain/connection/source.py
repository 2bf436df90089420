"""A credential source: the draft each mode builds (kubeconfig or in-cluster), and the final :class:`ClusterSource`.

A :class:`SourceDraft` is what one source (a kubeconfig context, or the pod's service account) yields before the
connection's overrides (server, CA, TLS name, proxy, timeout) and the credential checks are applied; resolution
turns it into the frozen :class:`ClusterSource` that hooks build clients from.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from airflow_k8s_reconcile.domain.common.redaction import redact_url

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.credentials.kinds import Credential
    from airflow_k8s_reconcile.domain.connection.setting_parsers import AuthMode
    from airflow_k8s_reconcile.findings import Finding


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSource:
    """Everything a hook needs to build an isolated client ``Configuration``.

    :param mode: the source used (never ``auto``).
    :param server: API server URL.
    :param credential: how to authenticate; secrets are in its ``repr=False`` fields.
    :param ca_pem: CA bundle PEM, or ``None`` for the system trust store.
    :param ca_source: where the CA came from.
    :param verify_ssl: verify the server certificate.
    :param tls_server_name: name to verify the server certificate against.
    :param proxy_url: the proxy requests use, exactly as :mod:`~airflow_k8s_reconcile.domain.connection.network.proxy`
        decided (``None``: direct, whatever the environment says); may hold credentials, so not in ``repr`` (see
        :attr:`proxy_url_redacted`).
    :param request_timeout: client-side timeout per request, in seconds.
    :param context: kubeconfig context name, for kubeconfig modes.
    :param kubeconfig: kubeconfig path(s) joined by ``:``, or ``<inline>``, for kubeconfig modes.
    """

    mode: AuthMode
    server: str
    credential: Credential
    ca_pem: bytes | None = dataclasses.field(default=None, repr=False)
    ca_source: str = "system trust store"
    verify_ssl: bool = True
    tls_server_name: str | None = None
    proxy_url: str | None = dataclasses.field(default=None, repr=False)
    request_timeout: float = 30.0
    context: str | None = None
    kubeconfig: str | None = None

    @property
    def proxy_url_redacted(self) -> str | None:
        """Return the proxy URL with any ``user:password@`` replaced by ``***@``."""
        return redact_url(self.proxy_url) if self.proxy_url else None


@dataclasses.dataclass(slots=True, kw_only=True)
class SourceDraft:
    """A credential source before the connection's overrides and the credential checks are applied.

    Mutable and private to the resolution modules; :class:`~airflow_k8s_reconcile.domain.connection.resolution.Resolution`
    is the frozen result.
    """

    mode: AuthMode
    server: str | None
    credential: Credential
    credential_owner: str
    reason: str
    ca_pem: bytes | None = dataclasses.field(default=None, repr=False)
    ca_source: str = "system trust store"
    insecure: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = dataclasses.field(default=None, repr=False)
    proxy_origin: str = "kubeconfig proxy-url"
    context: str | None = None
    kubeconfig: str | None = None
    namespace: str | None = None
    namespace_source: str = ""
    attempts: list[Finding] = dataclasses.field(default_factory=list)
    warnings: list[Finding] = dataclasses.field(default_factory=list)
    sources_tried: list[str] = dataclasses.field(default_factory=list)
