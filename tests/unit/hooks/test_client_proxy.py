"""The clients use exactly the proxy the core decided, never one they find in the environment themselves."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime, timedelta

import urllib3
import yaml

from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook
from airflow_k8s_reconcile.testing import certs

_NOW = datetime.now(UTC)
CA, _ = certs.self_signed("ca", not_before=_NOW - timedelta(days=1), not_after=_NOW + timedelta(days=30))
SERVER = "https://api.example.com:6443"


def _kubeconfig(tmp_path, **cluster) -> str:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c1",
                "cluster": {
                    "server": SERVER,
                    "certificate-authority-data": base64.b64encode(CA).decode(),
                    **cluster,
                },
            }
        ],
        "users": [{"name": "u1", "user": {"token": "tok"}}],
        "contexts": [{"name": "dev", "context": {"cluster": "c1", "user": "u1"}}],
        "current-context": "dev",
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _sync_proxy(hook: K8sReconcileHook) -> str | None:
    with hook.get_conn() as api:
        manager = api.rest_client.pool_manager
        return manager.proxy.url if isinstance(manager, urllib3.ProxyManager) else None


def _async_proxy(path: str, env: dict[str, str]) -> tuple[str | None, bool]:
    async def build() -> tuple[str | None, bool]:
        async with AsyncK8sReconcileHook(kube_config_path=path, environ=env).get_conn() as api:
            return api.rest_client.proxy, api.rest_client.pool_manager.trust_env

    return asyncio.run(build())


def test_only_http_proxy_goes_direct_for_https_and_the_explanation_says_so(tmp_path, monkeypatch):
    env = {"HTTP_PROXY": "http://env-proxy:3128"}
    monkeypatch.setenv("HTTP_PROXY", "http://env-proxy:3128")  # what Configuration() reads on its own
    path = _kubeconfig(tmp_path)
    hook = K8sReconcileHook(kube_config_path=path, environ=env)
    assert _sync_proxy(hook) is None
    assert _async_proxy(path, env) == (None, False)
    explanation = hook.explain()
    assert explanation["proxy"] is None
    assert "HTTP_PROXY is set but applies only to http:// servers" in str(explanation["proxy_reason"])


def test_kubeconfig_proxy_url_is_used_even_when_no_proxy_covers_the_server(tmp_path, monkeypatch):
    env = {"NO_PROXY": "api.example.com"}
    monkeypatch.setenv("NO_PROXY", "api.example.com")
    path = _kubeconfig(tmp_path, **{"proxy-url": "http://kube-proxy:3128"})
    hook = K8sReconcileHook(kube_config_path=path, environ=env)
    assert _sync_proxy(hook) == "http://kube-proxy:3128"
    assert _async_proxy(path, env)[0] == "http://kube-proxy:3128"
    explanation = hook.explain()
    assert explanation["proxy"] == "http://kube-proxy:3128"
    assert explanation["proxy_origin"] == "proxy-url of cluster 'c1'"


def test_environment_proxy_bypassed_by_no_proxy_is_not_used_by_either_client(tmp_path, monkeypatch):
    env = {"HTTPS_PROXY": "http://env-proxy:3128", "NO_PROXY": ".example.com"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    path = _kubeconfig(tmp_path)
    hook = K8sReconcileHook(kube_config_path=path, environ=env)
    assert _sync_proxy(hook) is None
    assert _async_proxy(path, env) == (None, False)
    assert "NO_PROXY entry '.example.com' covers api.example.com" in str(hook.explain()["proxy_reason"])


def test_environment_https_proxy_is_used_by_both_clients_with_its_origin(tmp_path):
    env = {"HTTPS_PROXY": "http://user:PROXYSECRET@env-proxy:3128"}
    path = _kubeconfig(tmp_path)
    hook = K8sReconcileHook(kube_config_path=path, environ=env)
    assert _sync_proxy(hook) == "http://user:PROXYSECRET@env-proxy:3128"
    with hook.get_conn() as api:  # urllib3 ignores URL credentials: they must travel as a header, like Go's
        expected = "Basic " + base64.b64encode(b"user:PROXYSECRET").decode()
        assert api.rest_client.pool_manager.proxy_headers == {"Proxy-Authorization": expected}
    assert _async_proxy(path, env)[0] == "http://user:PROXYSECRET@env-proxy:3128"
    explanation = hook.explain()
    assert explanation["proxy"] == "http://***@env-proxy:3128"
    assert explanation["proxy_origin"] == "environment variable HTTPS_PROXY"
    assert "PROXYSECRET" not in repr(explanation)
