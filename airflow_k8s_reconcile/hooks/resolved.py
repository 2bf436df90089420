"""What a hook's ``resolve()`` returns: a read-only, secret-free view of the resolved connection.

Public: DAG authors and tests read the server, context, namespace and the warnings of a connection through
:class:`ResolvedConnection` and :class:`ResolvedSource`. They are protocols, not the resolver's own classes, so the
resolver (``domain``, not public) can change its data while this contract stays; mypy checks that the resolver's
result still satisfies it. Credentials, the CA bundle and the proxy URL with its password are deliberately not part
of the view: use :meth:`~airflow_k8s_reconcile.hooks.K8sReconcileHook.get_conn` to talk to the cluster and
:meth:`~airflow_k8s_reconcile.hooks.K8sReconcileHook.explain` for the full secret-free explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding


class ResolvedSource(Protocol):
    """Where and how the connection reaches the API server (no secrets)."""

    @property
    def mode(self) -> str:
        """The source used: ``in_cluster``, ``kubeconfig_file`` or ``kubeconfig_inline`` (never ``auto``)."""

    @property
    def server(self) -> str:
        """The API server URL."""

    @property
    def context(self) -> str | None:
        """The kubeconfig context, for kubeconfig modes."""

    @property
    def kubeconfig(self) -> str | None:
        """The kubeconfig path(s) joined by ``:``, or ``<inline>``, for kubeconfig modes."""

    @property
    def ca_source(self) -> str:
        """Where the CA bundle came from."""

    @property
    def verify_ssl(self) -> bool:
        """Whether the server certificate is verified."""

    @property
    def tls_server_name(self) -> str | None:
        """The name the server certificate is verified against, when overridden."""

    @property
    def proxy_url_redacted(self) -> str | None:
        """The proxy URL with any ``user:password@`` replaced by ``***@``."""

    @property
    def request_timeout(self) -> float:
        """Client-side timeout per request, in seconds."""


class ResolvedConnection(Protocol):
    """The outcome of resolving a connection: source, namespace, and why each was chosen."""

    @property
    def source(self) -> ResolvedSource:
        """Where and how the connection reaches the API server."""

    @property
    def namespace(self) -> str:
        """The default namespace for the work."""

    @property
    def namespace_source(self) -> str:
        """Which rule chose the namespace, e.g. ``kubeconfig context 'dev'``."""

    @property
    def mode_reason(self) -> str:
        """Why this source was used."""

    @property
    def attempts(self) -> tuple[Finding, ...]:
        """One finding per source tried: rejected ones as INFO, the chosen one as PASS."""

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """WARN and INFO findings about the chosen source."""

    @property
    def credential_summary(self) -> Mapping[str, object]:
        """Secret-free description of the credential: kind, fingerprint, claims, expiry."""

    @property
    def sources_tried(self) -> tuple[str, ...]:
        """Short lines, one per source considered."""


__all__ = ["ResolvedConnection", "ResolvedSource"]
