"""A trigger-style watch on the real API server outlives request_timeout and its exec credential, losing nothing.

The exec plugin reports a credential valid for a few seconds and logs each run. The watch is held longer than
``request_timeout`` (so a per-request timeout would cut it) and re-opened from its resourceVersion when the server
ends it, as a trigger does, while ConfigMaps are created over several credential lifetimes. Every creation must be
seen, the plugin must be re-run as the credential nears expiry (no request may be rejected with 401 first), and not
on every request.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import yaml
from kubernetes import client as k8s, watch as k8s_watch
from kubernetes_asyncio import client as k8s_async, watch as k8s_async_watch

from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook

LIFETIME = 5  # seconds the plugin's credential says it is valid
REQUEST_TIMEOUT = 1.0
WATCH_SECONDS = 2  # each watch request is held by the server for longer than REQUEST_TIMEOUT
NAMES = [f"event-{n}" for n in range(6)]
CREATE_EVERY = 1.5  # seconds: the creations span about two credential lifetimes
WATCH_RULES = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}]


@pytest.fixture
def exec_kubeconfig(k8s_identity, tmp_path):
    """Return (kubeconfig path, run log): a kubeconfig whose user is an exec plugin issuing short-lived tokens."""
    watcher = k8s_identity(rules=WATCH_RULES)
    token_file = tmp_path / "token"
    token_file.write_text(watcher.token)
    token_file.chmod(0o600)
    runs = tmp_path / "plugin-runs"
    plugin = tmp_path / "short-lived-token"
    plugin.write_text(
        "#!/bin/sh\n"
        "now=$(date -u +%s)\n"
        f"expires=$((now + {LIFETIME}))\n"
        f'echo "$now $expires" >> {runs}\n'
        'printf \'{"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", '
        '"status": {"token": "%s", "expirationTimestamp": "%s"}}\\n\' '
        f'"$(cat {token_file})" "$(date -u -d "@$expires" +%Y-%m-%dT%H:%M:%SZ)"\n'
    )
    plugin.chmod(0o700)
    config = yaml.safe_load(watcher.kubeconfig_path.read_text())
    config["users"][0]["user"] = {
        "exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin)}
    }
    path = tmp_path / "exec.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path, runs


def _create_over_time(k8s_admin, namespace: str) -> threading.Thread:
    def create() -> None:
        api = k8s.CoreV1Api(k8s_admin)
        for name in NAMES:
            time.sleep(CREATE_EVERY)
            api.create_namespaced_config_map(namespace, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=name)))

    thread = threading.Thread(target=create, daemon=True)
    thread.start()
    return thread


def _runs(log) -> list[tuple[int, int]]:
    return [tuple(map(int, line.split())) for line in log.read_text().splitlines()]


def _check_plugin_runs(runs: list[tuple[int, int]], request_times: list[float], elapsed: float) -> None:
    """Check the plugin ran as the credential neared expiry, often enough that no request used an expired one."""
    assert len(runs) >= 2, "the plugin was never re-run although the watch outlived its credential"
    assert len(runs) <= elapsed / (LIFETIME * 0.5) + 1, (
        f"{len(runs)} runs in {elapsed:.1f}s: renewed too often"
    )
    assert len(runs) < len(request_times), f"{len(runs)} plugin runs for {len(request_times)} requests"
    for (ran, _), (_, previous_expiry) in zip(runs[1:], runs, strict=False):
        # Not renewed early: at most 20% of the lifetime before expiry (+1 s for whole-second timestamps).
        assert ran >= previous_expiry - LIFETIME * 0.2 - 1, (ran, previous_expiry)
    for sent in request_times:
        # The credential in use when a request went out: the last one issued by then (the request itself may
        # have run the plugin, within a second). It must not have expired yet.
        expiry = max(expires for ran, expires in runs if ran <= sent + 1)
        assert expiry > sent, f"a request at {sent:.1f} went out with a credential that expired at {expiry}"


def test_async_watch_outlives_request_timeout_and_the_exec_credential(
    exec_kubeconfig, k8s_admin, k8s_namespace
):
    path, runs_log = exec_kubeconfig
    hook = AsyncK8sReconcileHook(
        kube_config_path=str(path), request_timeout=REQUEST_TIMEOUT, namespace=k8s_namespace
    )

    async def trigger() -> tuple[list[str], bool]:
        seen: list[str] = []
        async with hook:
            async with hook.get_conn() as api:
                first = api
                core = k8s_async.CoreV1Api(api)
                sent.append(time.time())
                version = (await core.list_namespaced_config_map(k8s_namespace)).metadata.resource_version
                for _ in range(5):  # a burst while the credential is fresh: no plugin run
                    sent.append(time.time())
                    await core.list_namespaced_config_map(k8s_namespace)
                creator = _create_over_time(k8s_admin, k8s_namespace)
                deadline = time.monotonic() + len(NAMES) * CREATE_EVERY + 15
                while set(NAMES) - set(seen) and time.monotonic() < deadline:
                    watch = k8s_async_watch.Watch()
                    async with watch.stream(
                        core.list_namespaced_config_map,
                        k8s_namespace,
                        resource_version=version,
                        timeout_seconds=WATCH_SECONDS,
                    ) as stream:
                        sent.append(time.time())
                        async for event in stream:
                            if event["type"] == "ADDED":
                                seen.append(event["object"].metadata.name)
                    version = watch.resource_version or version
            async with hook.get_conn() as again:
                same_client = again is first
        await asyncio.to_thread(creator.join, 10)
        return seen, same_client

    sent: list[float] = []
    started = time.monotonic()
    seen, same_client = asyncio.run(trigger())
    elapsed = time.monotonic() - started
    assert [name for name in seen if name in NAMES] == NAMES
    assert same_client
    assert hook._credentials is not None
    assert hook._credentials.rejections == 0, "a request was sent with an expired credential and got 401"
    _check_plugin_runs(_runs(runs_log), sent, elapsed)


def test_sync_watch_outlives_request_timeout_and_the_exec_credential(
    exec_kubeconfig, k8s_admin, k8s_namespace
):
    path, runs_log = exec_kubeconfig
    hook = K8sReconcileHook(
        kube_config_path=str(path), request_timeout=REQUEST_TIMEOUT, namespace=k8s_namespace
    )
    started = time.monotonic()
    core = k8s.CoreV1Api(hook.get_conn())
    sent = [time.time()]
    version = core.list_namespaced_config_map(k8s_namespace).metadata.resource_version
    for _ in range(5):
        sent.append(time.time())
        core.list_namespaced_config_map(k8s_namespace)
    assert len(_runs(runs_log)) == 1
    creator = _create_over_time(k8s_admin, k8s_namespace)
    seen: list[str] = []
    deadline = time.monotonic() + len(NAMES) * CREATE_EVERY + 15
    while set(NAMES) - set(seen) and time.monotonic() < deadline:
        watch = k8s_watch.Watch()
        sent.append(time.time())
        for event in watch.stream(
            core.list_namespaced_config_map,
            k8s_namespace,
            resource_version=version,
            timeout_seconds=WATCH_SECONDS,
        ):
            if event["type"] == "ADDED":
                seen.append(event["object"].metadata.name)
        version = watch.resource_version or version
    creator.join(10)
    elapsed = time.monotonic() - started
    assert [name for name in seen if name in NAMES] == NAMES
    assert hook.get_conn() is core.api_client
    assert hook._credentials is not None
    assert hook._credentials.rejections == 0, "a request was sent with an expired credential and got 401"
    _check_plugin_runs(_runs(runs_log), sent, elapsed)
    hook.close()
