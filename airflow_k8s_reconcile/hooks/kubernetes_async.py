"""``AsyncK8sReconcileHook``: the deferrable-side twin of :class:`K8sReconcileHook`.

It resolves through the very same function as the sync hook (arguments > connection > environment, in-cluster
detection included), so a task that works synchronously also works in the triggerer. Blocking work (reading
credential files, running an exec plugin) runs in a thread; the client is ``kubernetes_asyncio`` on its own
configuration.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from airflow_k8s_reconcile.compat import AirflowNotFoundException, aget_connection, amask_secret
from airflow_k8s_reconcile.domain.connection.explanation import explain
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.findings import Report
from airflow_k8s_reconcile.hooks._base import ConnectionHookBase
from airflow_k8s_reconcile.hooks._resolution.resolve import (
    materialize,
    resolve_connection,
    secrets_of,
)
from airflow_k8s_reconcile.hooks._transport.client_async import ReconcileAsyncApiClient, build_async_client
from airflow_k8s_reconcile.hooks._transport.credentials import cache_for
from airflow_k8s_reconcile.hooks.diagnosis import adiagnose
from airflow_k8s_reconcile.hooks.preflight import apreflight

if TYPE_CHECKING:
    from kubernetes_asyncio.client import ApiClient

    from airflow_k8s_reconcile.domain.connection.credentials.kinds import Credential
    from airflow_k8s_reconcile.domain.connection.resolution import Resolution
    from airflow_k8s_reconcile.hooks.arguments import ConnectionFields
    from airflow_k8s_reconcile.hooks.resolved import ResolvedConnection
    from airflow_k8s_reconcile.preflight import Checks, Permission


class AsyncK8sReconcileHook(ConnectionHookBase):
    """Async access to Kubernetes through a ``k8s_reconcile`` (or cncf ``kubernetes``) connection.

    Takes the same arguments as :class:`~airflow_k8s_reconcile.hooks.kubernetes.K8sReconcileHook`.
    """

    hook_name = "Kubernetes (reconcile, async)"
    _client: ReconcileAsyncApiClient | None = None
    _client_loop: asyncio.AbstractEventLoop | None = None
    _leases = 0
    _held = False

    async def connection_fields(self) -> ConnectionFields:
        """Return the connection's type and extras; a missing *default* connection counts as empty."""
        try:
            return self._fields(await aget_connection(self, self.k8s_reconcile_conn_id))
        except AirflowNotFoundException as err:
            return self._missing(err)

    async def resolve(self) -> ResolvedConnection:
        """Resolve the connection exactly as the sync hook does (cached per hook); a secret-free, read-only view."""
        return await self._resolved()

    async def _resolved(self) -> Resolution:
        if self._resolution is None:
            self._fields_used = await self.connection_fields()
            resolution = await asyncio.to_thread(
                resolve_connection, self.arguments, self._fields_used, environ=self.environ
            )
            await _amask(secrets_of(resolution.source))
            self._log_resolution(resolution)
            self._resolution = resolution
        return self._resolution

    async def explain(self) -> dict[str, object]:
        """Return the secret-free explanation of the resolved connection."""
        return explain(await self._resolved())

    async def get_namespace(self) -> str:
        """Return the namespace the connection resolves to."""
        return (await self._resolved()).namespace

    async def diagnose(self, namespaces: Sequence[str] = ()) -> Report:
        """Check reachability, credentials, identity and permissions, as the sync hook's ``diagnose`` does.

        Same plan and judgement as :meth:`K8sReconcileHook.diagnose
        <airflow_k8s_reconcile.hooks.kubernetes.K8sReconcileHook.diagnose>`, performed with ``kubernetes_asyncio``
        (the permissions of several namespaces concurrently), so a deferrable sensor sees what a task would. Never
        raises for configuration or API failures.

        :param namespaces: where to assess permissions (default: the connection's namespace).
        """
        try:
            fields = await self.connection_fields()
        except ConnectionConfigError as err:
            return Report.build([err.finding], {"conn_id": self.k8s_reconcile_conn_id})
        return await adiagnose(self.arguments, fields, environ=self.environ, namespaces=namespaces)

    async def preflight(
        self,
        permissions: Sequence[Permission] = (),
        namespaces: Sequence[str] = (),
        checks: Checks = "all",
        *,
        dry_run: bool = False,
    ) -> Report:
        """Run the preflight of the sync hook's ``preflight`` with ``kubernetes_asyncio``.

        See :func:`airflow_k8s_reconcile.hooks.preflight.apreflight`. Same plan and judgement (rules reviews and access reviews sent concurrently), so a deferrable sensor's
        trigger sees what a task would. Never raises for configuration or API failures.
        """
        try:
            fields = await self.connection_fields()
        except ConnectionConfigError as err:
            return Report.build([err.finding], {"conn_id": self.k8s_reconcile_conn_id})
        return await apreflight(
            self.arguments,
            fields,
            permissions=permissions,
            namespaces=namespaces,
            checks=checks,
            environ=self.environ,
            dry_run=dry_run,
        )

    @contextlib.asynccontextmanager
    async def get_conn(self) -> AsyncIterator[ApiClient]:
        """Yield the hook's ``kubernetes_asyncio`` ``ApiClient`` (one configuration, one connection pool).

        Nested blocks share the client; it is closed when the outermost block exits, unless the hook itself is
        entered (``async with hook:``), which keeps one client for every ``get_conn`` until the hook exits. The
        credential is the hook's either way: the exec plugin runs once per token lifetime (renewed shortly before
        expiry, and once after a 401), never per request or per ``get_conn``.
        """
        client = await self._open()
        self._leases += 1
        try:
            yield client
        finally:
            self._leases -= 1
            if self._leases == 0 and not self._held:
                await self.aclose()

    async def __aenter__(self) -> AsyncK8sReconcileHook:
        self._held = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._held = False
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client's connection pool (the credential is kept for the next client)."""
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def _open(self) -> ReconcileAsyncApiClient:
        loop = asyncio.get_running_loop()
        if self._client is not None and self._client_loop is loop:
            return self._client
        resolved = (await self._resolved()).source
        if self._credentials is None:
            obtained = (await asyncio.to_thread(materialize, resolved, environ=self.environ)).credential
            await _amask(secrets_of(dataclasses.replace(resolved, credential=obtained)))
            self._credentials = cache_for(resolved, obtained, lambda: self._refetch(resolved))
        credential = self._credentials.credential
        if self._credentials.due():
            credential = await asyncio.to_thread(self._credentials.current)
            await _amask(secrets_of(dataclasses.replace(resolved, credential=credential)))
        source = dataclasses.replace(resolved, credential=credential)

        async def masked(credential: Credential) -> None:
            await _amask(secrets_of(dataclasses.replace(resolved, credential=credential)))

        client = await build_async_client(
            source, credentials=self._credentials, policy=self.retry_policy, on_renew=masked
        )
        if self._client is not None and self._client_loop is loop:  # another task built one meanwhile
            await client.close()
            return self._client
        self._client, self._client_loop = client, loop
        return client


async def _amask(secrets: list[str]) -> None:
    for secret in secrets:
        await amask_secret(secret)
