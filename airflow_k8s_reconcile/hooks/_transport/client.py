"""Build isolated Kubernetes API clients (sync here, async in :mod:`.client_async`) from a resolved source.

Every client gets its own ``Configuration``; the client library's process-wide default is never read or written
(two connections in one worker or triggerer must not overwrite each other). Every request gets a timeout (the
generated clients otherwise wait forever on a half-open connection), except that a watch may stay silent as long
as the server keeps it open (:func:`request_timeout_for`). Each request goes through the hooks' one retry policy
(:mod:`._retry`) and, for bearer tokens, through the hook's :class:`~._credentials.CredentialCache`: renewed before
expiry, and renewed and resent once after a 401. urllib3's own retries are off, so the policy is the only one.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    ClientCertCredential,
    Credential,
    NoCredential,
    TokenCredential,
)
from airflow_k8s_reconcile.hooks._transport.credentials import CredentialCache, cache_for
from airflow_k8s_reconcile.hooks._transport.retry import NO_RETRY, RetryPolicy, call_with_retries
from airflow_k8s_reconcile.hooks._transport.tls import sync_ssl_context
from airflow_k8s_reconcile.hooks._transport.tls_warnings import quiet_unverified_requests

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource

# kube-apiserver ends a watch without timeoutSeconds after a random time in [min-request-timeout, 2x that];
# the flag's default is 1800 s (staging/src/k8s.io/apiserver/pkg/server/options/server_run_options.go).
SERVER_MAX_WATCH_SECONDS = 3600.0


def request_timeout_for(
    query_params: Sequence[tuple[str, Any]] | None, default: float
) -> float | tuple[float, float]:
    """Return the ``_request_timeout`` for a request: ``default``, or (connect, read) for a watch.

    A watch is silent while nothing changes, up to the ``timeoutSeconds`` the server was asked to hold it, so its
    read timeout is that plus ``default`` as a margin (client-go likewise exempts watches from its client timeout).
    """
    params = dict(query_params or ())
    if not params.get("watch"):
        return default
    seconds = params.get("timeoutSeconds")
    held = float(seconds) if isinstance(seconds, int | float) and seconds > 0 else SERVER_MAX_WATCH_SECONDS
    return (default, held + default)


def configure(cfg: Any, source: ClusterSource, credential: Credential) -> None:
    """Fill the parts a sync and an async ``Configuration`` share (same attribute names); TLS files excluded."""
    cfg.host = source.server
    cfg.verify_ssl = source.verify_ssl
    if not source.verify_ssl:  # CONN_TLS_VERIFY_DISABLED says it once; urllib3 would repeat it per request
        quiet_unverified_requests(source.server)
    cfg.tls_server_name = source.tls_server_name
    # The core decided the proxy as kubectl would (domain/connection/network/proxy.py); apply exactly that. The sync
    # Configuration() reads HTTP(S)_PROXY and NO_PROXY itself (HTTP_PROXY winning, even for https): overwrite both.
    cfg.proxy = source.proxy_url
    cfg.no_proxy = None
    cfg.proxy_headers = _proxy_authorization(source.proxy_url)
    cfg.api_key = {}
    cfg.api_key_prefix = {}
    match credential:
        case TokenCredential():
            cfg.api_key["BearerToken"] = credential.token.strip()
            cfg.api_key_prefix["BearerToken"] = "Bearer"
        case ClientCertCredential() | NoCredential():
            pass
        case _:
            # Exec plugins are run by the hook first and replaced by the token or certificate they return.
            raise TypeError(f"{type(credential).__name__} must be materialised before building a client")


def _proxy_authorization(proxy_url: str | None) -> dict[str, str] | None:
    """Return the ``Proxy-Authorization`` header for a proxy URL's ``user:password@``, as Go's transport sends it.

    urllib3's ``ProxyManager`` ignores credentials in the URL (the sync client would get 407); aiohttp sends the same
    header itself.
    """
    parts = urlsplit(proxy_url or "")
    if parts.username is None:
        return None
    userinfo = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return {"Proxy-Authorization": "Basic " + base64.b64encode(userinfo.encode()).decode()}


def static_cache(source: ClusterSource) -> CredentialCache:
    """Return a cache for a source built without a hook: nothing to renew, but token files are still re-read."""
    return cache_for(source, source.credential, lambda: source.credential)


def _sync_refresher(cache: CredentialCache) -> Any:
    def refresh(configuration: Any) -> None:
        credential = cache.current()
        if isinstance(credential, TokenCredential):
            configuration.api_key["BearerToken"] = credential.token.strip()

    return refresh


@functools.cache
def _sync_client_class() -> type[Any]:
    # Imported on first use: the Kubernetes client costs ~0.5 s to import, which `doctor` skips on config errors.
    from kubernetes import client as k8s
    from urllib3.exceptions import HTTPError

    errors = (k8s.ApiException, HTTPError, OSError)

    class _ReconcileApiClient(k8s.ApiClient):  # type: ignore[misc]
        """Sync client with timeouts, the retry policy and credential renewal on every request.

        ``close()`` (and ``with``) only stops the generated client's thread pool; the connection pool stays usable,
        so a hook can hand the same client out again. :meth:`shutdown` closes the pool.
        """

        def __init__(
            self, configuration: Any, *, timeout: float, credentials: CredentialCache, policy: RetryPolicy
        ) -> None:
            super().__init__(configuration=configuration)
            self.default_timeout = timeout
            self.credentials = credentials
            self.retry_policy = policy

        def call_api(
            self,
            resource_path: str,
            method: str,
            path_params: Any = None,
            query_params: Any = None,
            header_params: Any = None,
            *args: Any,
            **kwargs: Any,
        ) -> Any:
            if kwargs.get("_request_timeout") is None:
                kwargs["_request_timeout"] = request_timeout_for(query_params, self.default_timeout)
            send = super().call_api

            def attempt() -> Any:
                headers = dict(header_params or {})
                return self._authenticated(
                    lambda: send(resource_path, method, path_params, query_params, headers, *args, **kwargs)
                )

            what = f"{method} {resource_path}"
            return call_with_retries(
                attempt, policy=self.retry_policy, method=method, errors=errors, what=what
            )

        def _authenticated(self, send: Any) -> Any:
            used = self.credentials.current()
            try:
                return send()
            except k8s.ApiException as err:
                if err.status != 401:
                    raise
                rejected = err
            if not self.credentials.renew_rejected(used):
                raise rejected
            return send()

        def shutdown(self) -> None:
            self.close()
            self.rest_client.pool_manager.clear()

    return _ReconcileApiClient


def build_sync_client(
    source: ClusterSource,
    *,
    credentials: CredentialCache | None = None,
    policy: RetryPolicy | None = None,
) -> Any:
    """Return a sync ``ApiClient`` on a fresh ``Configuration``; no key material stays on disk.

    :param credentials: the hook's credential cache (default: the source's credential, token files re-read).
    :param policy: the retry policy (default :class:`RetryPolicy`; :data:`~._retry.NO_RETRY` for probes, where a
        dead endpoint would otherwise cost several timeouts).
    """
    from kubernetes import client as k8s

    cache = credentials or static_cache(source)
    credential = cache.credential
    cfg = k8s.Configuration()
    configure(cfg, source, credential)
    cfg.refresh_api_key_hook = _sync_refresher(cache)
    cfg.retries = 0
    client = _sync_client_class()(
        cfg, timeout=source.request_timeout, credentials=cache, policy=policy or RetryPolicy()
    )
    pool_kw = client.rest_client.pool_manager.connection_pool_kw
    for key in ("ca_certs", "cert_file", "key_file"):
        pool_kw.pop(key, None)
    pool_kw["ssl_context"] = sync_ssl_context(source, credential)
    return client


__all__ = ["NO_RETRY", "build_sync_client", "configure", "request_timeout_for", "static_cache"]
