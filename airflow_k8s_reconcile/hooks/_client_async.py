"""The async (``kubernetes_asyncio``) client, built exactly like the sync one in :mod:`._client`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubernetes_asyncio import client as k8s_async

from airflow_k8s_reconcile.hooks._client import Material, configure

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource


class _TimeoutAsyncApiClient(k8s_async.ApiClient):
    """Async client that applies a default timeout to every request and owns its PEM files."""

    def __init__(self, configuration: Any, *, timeout: float, material: Material) -> None:
        super().__init__(configuration=configuration)
        self._default_timeout = timeout
        self._material = material

    def call_api(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("_request_timeout") is None:
            kwargs["_request_timeout"] = self._default_timeout
        return super().call_api(*args, **kwargs)

    async def close(self) -> None:
        await super().close()
        self._material.cleanup()


def build_async_client(source: ClusterSource) -> k8s_async.ApiClient:
    """Return an async ``ApiClient`` on a fresh ``Configuration`` with the source's timeout on every request."""
    material = Material()
    cfg = k8s_async.Configuration()
    configure(cfg, source, material)
    return _TimeoutAsyncApiClient(cfg, timeout=source.request_timeout, material=material)
