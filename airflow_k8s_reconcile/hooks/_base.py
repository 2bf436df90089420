"""What the sync and async hooks share: identity in Airflow's hook registry, arguments, connection lookup."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Unpack

from airflow_k8s_reconcile.compat import BaseHook, get_conf
from airflow_k8s_reconcile.domain.connection import connection_test as probe
from airflow_k8s_reconcile.domain.connection.credentials.kinds import AuthProviderCredential
from airflow_k8s_reconcile.domain.connection.explanation import explain, explain_lines
from airflow_k8s_reconcile.domain.connection.settings import CONN_TYPE, DEFAULT_CONN_ID
from airflow_k8s_reconcile.exceptions import ConnectionConfigError, ReconcileError
from airflow_k8s_reconcile.hooks._errors import is_client_error, translate
from airflow_k8s_reconcile.hooks._resolution.resolve import materialize, resolve_connection
from airflow_k8s_reconcile.hooks._transport.retry import RetryPolicy, safe_to_retry
from airflow_k8s_reconcile.hooks.arguments import ConnectionArguments, ConnectionFields

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.credentials.kinds import Credential
    from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource, Resolution
    from airflow_k8s_reconcile.hooks._transport.credentials import CredentialCache


class ConnectionHookBase(BaseHook):
    """Base of :class:`K8sReconcileHook` and :class:`AsyncK8sReconcileHook`: same arguments, same lookup rules.

    :param k8s_reconcile_conn_id: the Airflow connection id (``k8s_reconcile`` or cncf ``kubernetes`` type); a
        missing *default* connection means ``auto``, any other missing id is ``CONN_CONNECTION_NOT_FOUND``.
    :param environ: environment to resolve against (default ``os.environ``); for tests and embedding.
    :param retry_policy: how requests are resent after 429, 5xx and connection resets (default
        :class:`~airflow_k8s_reconcile.hooks.RetryPolicy`: 5 attempts, idempotent methods only).
    :param arguments: :class:`~airflow_k8s_reconcile.hooks.arguments.ConnectionArguments`; each overrides the
        connection field of the same name.
    """

    conn_name_attr = "k8s_reconcile_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE

    def __init__(
        self,
        k8s_reconcile_conn_id: str = DEFAULT_CONN_ID,
        *,
        environ: Mapping[str, str] | None = None,
        logger_name: str | None = None,
        retry_policy: RetryPolicy | None = None,
        **arguments: Unpack[ConnectionArguments],
    ) -> None:
        super().__init__(logger_name=logger_name)
        self.k8s_reconcile_conn_id = k8s_reconcile_conn_id
        self.arguments: ConnectionArguments = arguments
        self.environ = environ
        self.retry_policy = retry_policy or RetryPolicy()
        self._resolution: Resolution | None = None
        self._fields_used: ConnectionFields | None = None
        self._credentials: CredentialCache | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k8s_reconcile_conn_id={self.k8s_reconcile_conn_id!r})"

    def safe_to_retry(self) -> contextlib.AbstractContextManager[None]:
        """Return a context in which non-idempotent requests (a create that handles ``AlreadyExists``) are retried too.

        Every request through :meth:`get_conn`'s client already follows :attr:`retry_policy`; by default it resends
        only idempotent methods, since a POST reset after the server received it may have created the object.
        """
        return safe_to_retry()

    def _refetch(self, resolved: ClusterSource) -> Credential:
        """Obtain the credential again (blocking): re-run the exec plugin, or re-read the kubeconfig's auth-provider."""
        if isinstance(resolved.credential, AuthProviderCredential) and self._fields_used is not None:
            resolved = resolve_connection(self.arguments, self._fields_used, environ=self.environ).source
        return materialize(resolved, environ=self.environ).credential

    def _log_resolution(self, resolution: Resolution) -> None:
        """Log how the connection resolved (one INFO line per fact) and each warning at WARNING level."""
        for line in explain_lines(explain(resolution)):
            if not line.startswith("WARN "):  # warnings follow with their fix, at WARNING level
                self.log.info("%s", line)
        for warning in resolution.warnings:
            self.log.warning("%s", warning.render())

    @contextlib.contextmanager
    def diagnosed(self, action: str = "") -> Iterator[None]:
        """Turn Kubernetes client errors raised in the block into this provider's errors, with their diagnosis.

        ``ApiException`` becomes :class:`~airflow_k8s_reconcile.exceptions.PermissionDeniedError` (401/403),
        ``NotFoundError``, ``ConflictError``, ``InvalidSpecError`` or ``ClusterAccessError``; DNS, TCP, TLS and
        timeout failures become ``ClusterAccessError``. Each carries a finding (e.g. ``RBAC_FORBIDDEN`` naming the
        user, verb, resource and namespace, with the least-privilege fix); the original is chained as the cause.

        :param action: what the block does, for the message, e.g. ``"list configmaps in jobs"``.
        """
        try:
            yield
        except ReconcileError:
            raise
        except Exception as err:
            if not is_client_error(err):
                raise
            server = self._resolution.source.server if self._resolution else ""
            proxy = self._resolution.source.proxy_url_redacted if self._resolution else None
            raise translate(err, server=server, action=action, proxy=proxy) from err

    def _fields(self, conn: Any) -> ConnectionFields:
        extra = conn.extra_dejson
        return ConnectionFields(
            self.k8s_reconcile_conn_id,
            conn.conn_type or CONN_TYPE,
            extra,
            True,
            password=conn.password,
            masked_keys=_masked_keys(extra),
        )

    def _missing(self, err: Exception) -> ConnectionFields:
        """Return empty fields for a missing default connection; raise the finding for any other id."""
        conn_id = self.k8s_reconcile_conn_id
        if conn_id == DEFAULT_CONN_ID:
            return ConnectionFields(conn_id, CONN_TYPE, {}, found=False)
        raise ConnectionConfigError(probe.connection_not_found(conn_id)) from err


def _masked_keys(extra: Mapping[str, Any]) -> frozenset[str]:
    """Return the extra keys Airflow hides because ``[core] sensitive_var_conn_names`` names them.

    Mirrors Airflow's rule (the key, lower-cased with non-word runs as ``_``, contains a configured name). Airflow's
    built-in names are left out on purpose: none matches ``kube_config``, the only key this is asked about.
    """
    conf = get_conf()
    if not conf.getboolean("core", "hide_sensitive_var_conn_fields", fallback=True):
        return frozenset()
    names = [
        name.strip().lower() for name in conf.get("core", "sensitive_var_conn_names", fallback="").split(",")
    ]
    names = [name for name in names if name]
    return frozenset(
        key for key in extra if any(name in re.sub(r"\W+", "_", key.strip().lower()) for name in names)
    )
