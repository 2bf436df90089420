"""Credential renewal: when the cache renews, after a 401 (fault server), one credential per hook across get_conn."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes_asyncio import client as k8s_async

from airflow_k8s_reconcile.domain.connection.credentials.kinds import ClientCertCredential, TokenCredential
from airflow_k8s_reconcile.hooks._transport.credentials import CredentialCache, expires_at
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook
from airflow_k8s_reconcile.testing.fault_server import FaultServer

ENV = {"HOME": "/nonexistent-home", "PATH": "/usr/bin:/bin"}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _token(name: str, expires: float | None = None) -> TokenCredential:
    stated = datetime.fromtimestamp(expires, tz=UTC) if expires is not None else None
    return TokenCredential(token=name, origin="exec_plugin", expires_at=stated)


def _jwt(exp: int) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'exp': exp, 'sub': 'x'})}.sig"


def _renewing(clock: Clock, lifetime: float) -> tuple[CredentialCache, list[TokenCredential]]:
    issued: list[TokenCredential] = []

    def renew() -> TokenCredential:
        issued.append(_token(f"token-{len(issued) + 1}", clock.now + lifetime))
        return issued[-1]

    return CredentialCache(_token("token-0", clock.now + lifetime), renew, clock=clock), issued


@pytest.mark.parametrize(
    ("lifetime", "not_yet", "due"),
    [
        pytest.param(900.0, 839.0, 840.0, id="eks-15min-renews-60s-early"),
        pytest.param(5.0, 3.9, 4.0, id="short-renews-at-80-percent"),
    ],
)
def test_renews_shortly_before_expiry_and_not_before(lifetime, not_yet, due):
    clock = Clock(1000.0)
    cache, issued = _renewing(clock, lifetime)
    clock.now = 1000.0 + not_yet
    assert cache.current().token == "token-0"
    clock.now = 1000.0 + due
    assert cache.current().token == "token-1"
    assert cache.current().token == "token-1"  # not again while the new one is fresh
    assert len(issued) == cache.renewals == 1


def test_a_401_renews_once_and_reports_whether_the_credential_changed():
    clock = Clock(1000.0)
    cache, issued = _renewing(clock, 600.0)
    rejected = cache.current()
    assert cache.renew_rejected(rejected)
    assert cache.renew_rejected(rejected)  # a second request rejected with the same token: no second run
    assert len(issued) == 1
    assert cache.rejections == 2


def test_a_static_credential_is_never_renewed():
    cache = CredentialCache(TokenCredential(token=_jwt(1), origin="kubeconfig_token"))
    assert not cache.due()
    assert not cache.renew_rejected(cache.credential)


@pytest.mark.parametrize(
    ("credential", "expected"),
    [
        pytest.param(_token("t", 2000.0), 2000.0, id="exec-expirationTimestamp"),
        pytest.param(TokenCredential(token=_jwt(3000), origin="exec_plugin"), 3000.0, id="jwt-exp"),
        pytest.param(TokenCredential(token="opaque", origin="exec_plugin"), None, id="opaque-token"),
        pytest.param(ClientCertCredential(cert_pem=b"c", key_pem=b"k"), None, id="certificate"),
    ],
)
def test_expiry_comes_from_the_plugin_else_the_jwt(credential, expected):
    assert expires_at(credential) == expected


@pytest.fixture
def exec_hook_args(tmp_path):
    """Hook arguments for an inline kubeconfig whose exec plugin counts its runs; no server is contacted."""
    runs = tmp_path / "runs"
    plugin = tmp_path / "plugin"
    plugin.write_text(
        f"#!/bin/sh\necho run >> {runs}\n"  # each run issues a new token: plugin-token-<run number>
        'echo \'{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", '
        f'"status": {{"token": "plugin-token-\'$(wc -l < {runs})\'"}}}}\'\n'
    )
    plugin.chmod(0o700)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [
            {
                "name": "u",
                "user": {
                    "exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin)}
                },
            }
        ],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
    }
    args = {
        "auth_mode": "kubeconfig_inline",
        "kube_config": yaml.safe_dump(config),
        "allow_exec_plugins": True,
    }
    return args, runs


def test_sync_hook_reuses_one_client_and_runs_the_plugin_once(exec_hook_args):
    args, runs = exec_hook_args
    hook = K8sReconcileHook(environ=ENV, **args)
    with hook.get_conn() as first:
        pass
    assert hook.get_conn() is first
    assert first.rest_client.pool_manager is hook.get_conn().rest_client.pool_manager
    hook.close()
    assert hook.get_conn() is not first  # a closed hook builds a new pool, with the same credential
    assert runs.read_text().splitlines() == ["run"]
    hook.close()


def test_async_hook_shares_its_client_while_entered_and_runs_the_plugin_once(exec_hook_args):
    args, runs = exec_hook_args
    hook = AsyncK8sReconcileHook(environ=ENV, **args)

    async def use() -> tuple[bool, bool]:
        async with hook:
            async with hook.get_conn() as first:
                pass
            async with hook.get_conn() as second:
                shared = second is first
        async with hook.get_conn() as third:
            rebuilt = third is not first
        return shared, rebuilt and first.rest_client.pool_manager.closed

    assert asyncio.run(use()) == (True, True)
    assert runs.read_text().splitlines() == ["run"]


def _against(server: FaultServer, args: dict) -> dict:
    config = yaml.safe_load(args["kube_config"])
    cluster = config["clusters"][0]["cluster"]
    cluster["server"] = server.url
    cluster["certificate-authority-data"] = base64.b64encode(server.ca_path.read_bytes()).decode()
    return {**args, "kube_config": yaml.safe_dump(config)}


def test_a_401_renews_the_exec_credential_once_and_resends(exec_hook_args):
    args, runs = exec_hook_args
    with FaultServer("status", statuses=(401, 200), retry_after="") as server:
        hook = K8sReconcileHook(environ=ENV, **_against(server, args))
        assert k8s.VersionApi(hook.get_conn()).get_code().git_version == "v1.20.2-fault"
        hook.close()
    assert server.requests == ["GET /version/", "GET /version/"]
    assert runs.read_text().splitlines() == ["run", "run"]


def test_async_a_401_renews_the_exec_credential_once_and_resends(exec_hook_args):
    args, runs = exec_hook_args

    async def version(hook: AsyncK8sReconcileHook) -> str:
        async with hook.get_conn() as api:
            return str((await k8s_async.VersionApi(api).get_code()).git_version)

    with FaultServer("status", statuses=(401, 401, 200), retry_after="") as server:
        hook = AsyncK8sReconcileHook(environ=ENV, **_against(server, args))
        with pytest.raises(k8s_async.ApiException) as rejected:
            asyncio.run(version(hook))
    assert rejected.value.status == 401  # renewed and resent once, never in a loop
    assert server.requests == ["GET /version/", "GET /version/"]
    assert runs.read_text().splitlines() == ["run", "run"]
