"""The async (``kubernetes_asyncio``) client, built like the sync one in :mod:`._client`, without blocking the loop.

Everything that touches files or runs a plugin happens in a thread: writing the PEM files (removed right after the
client is built, since ``kubernetes_asyncio`` loads them into its ``SSLContext`` in its constructor), renewing a
credential, re-reading a rotated token file. A triggerer runs every trigger on one event loop; blocking it for a
file read or a plugin run stalls them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp
from kubernetes_asyncio import client as k8s_async

from airflow_k8s_reconcile.domain.connection.credentials.kinds import Credential, TokenCredential
from airflow_k8s_reconcile.hooks._transport.client import configure, request_timeout_for, static_cache
from airflow_k8s_reconcile.hooks._transport.retry import RetryPolicy, acall_with_retries
from airflow_k8s_reconcile.hooks._transport.tls import write_for_async

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource
    from airflow_k8s_reconcile.hooks._transport.credentials import CredentialCache

OnRenew = Callable[[Credential], Awaitable[None]]
_ERRORS = (k8s_async.ApiException, aiohttp.ClientError, OSError, asyncio.TimeoutError)


async def _current(cache: CredentialCache, on_renew: OnRenew | None) -> Credential:
    """Return the cache's credential, renewing it in a thread when due."""
    if not cache.due():
        return cache.credential
    before = cache.credential
    credential = await asyncio.to_thread(cache.current)
    if credential is not before and on_renew is not None:
        await on_renew(credential)
    return credential


def _async_refresher(cache: CredentialCache, on_renew: OnRenew | None) -> Any:
    async def refresh(configuration: Any) -> None:
        credential = await _current(cache, on_renew)
        if isinstance(credential, TokenCredential):
            configuration.api_key["BearerToken"] = credential.token.strip()

    return refresh


class ReconcileAsyncApiClient(k8s_async.ApiClient):
    """Async client with timeouts, the retry policy and credential renewal on every request."""

    def __init__(
        self,
        configuration: Any,
        *,
        timeout: float,
        credentials: CredentialCache,
        policy: RetryPolicy,
        on_renew: OnRenew | None,
    ) -> None:
        super().__init__(configuration=configuration)
        # kubernetes_asyncio opens its aiohttp session with trust_env=True, which would take HTTPS_PROXY/NO_PROXY
        # (and ~/.netrc) from the environment; the proxy is decided by the core and set on the configuration.
        self.rest_client.pool_manager._trust_env = False
        self.default_timeout = timeout
        self.credentials = credentials
        self.retry_policy = policy
        self._on_renew = on_renew

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

        async def attempt() -> Any:
            headers = dict(header_params or {})
            return await self._authenticated(
                lambda: send(resource_path, method, path_params, query_params, headers, *args, **kwargs)
            )

        what = f"{method} {resource_path}"
        return acall_with_retries(attempt, policy=self.retry_policy, method=method, errors=_ERRORS, what=what)

    async def _authenticated(self, send: Callable[[], Awaitable[Any]]) -> Any:
        used = await _current(self.credentials, self._on_renew)
        try:
            return await send()
        except k8s_async.ApiException as err:
            if err.status != 401:
                raise
            rejected = err
        if not await asyncio.to_thread(self.credentials.renew_rejected, used):
            raise rejected
        if self._on_renew is not None:
            await self._on_renew(self.credentials.credential)
        return await send()


async def build_async_client(
    source: ClusterSource,
    *,
    credentials: CredentialCache | None = None,
    policy: RetryPolicy | None = None,
    on_renew: OnRenew | None = None,
) -> ReconcileAsyncApiClient:
    """Return an async ``ApiClient`` on a fresh ``Configuration``; its PEM files are gone when this returns.

    :param credentials: the hook's credential cache (default: the source's credential, token files re-read).
    :param policy: the retry policy (default :class:`RetryPolicy`).
    :param on_renew: awaited with each renewed credential (the hook registers it with the log masker).
    """
    cache = credentials or static_cache(source)
    credential = cache.credential
    cfg = k8s_async.Configuration()
    configure(cfg, source, credential)
    cfg.refresh_api_key_hook = _async_refresher(cache, on_renew)
    files, paths = await asyncio.to_thread(write_for_async, source, credential)
    client: ReconcileAsyncApiClient | None = None
    try:
        for name, path in paths.items():
            setattr(cfg, name, path)
        client = ReconcileAsyncApiClient(
            cfg,
            timeout=source.request_timeout,
            credentials=cache,
            policy=policy or RetryPolicy(),
            on_renew=on_renew,
        )
    finally:
        for name in paths:
            setattr(cfg, name, None)
        try:
            await asyncio.to_thread(files.remove)
        except BaseException:
            # Cancelled (a trigger stopped mid-build): the caller never gets the client, so its session is ours to
            # close; otherwise aiohttp's ClientSession leaks. The thread still removes the files.
            if client is not None:
                await client.close()
            raise
    return client
