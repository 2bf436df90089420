"""``test_connection``, ``doctor`` and ``airflow connections test`` against a real API server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes_asyncio import client as k8s_async

from airflow_k8s_reconcile.compat import AIRFLOW_V_3_3_PLUS
from airflow_k8s_reconcile.exceptions import ClusterAccessError, PermissionDeniedError
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook

CLI = [sys.executable, "-m", "airflow_k8s_reconcile.cli.main"]
# The network path to the local control plane (127.0.0.1): no proxy, no name to resolve, TCP, verified TLS.
NETWORK = [
    ("NET_PROXY_NONE", "pass"),
    ("NET_DNS_NOT_NEEDED", "info"),
    ("NET_TCP_CONNECTED", "pass"),
    ("TLS_VERIFIED", "pass"),
]


def _with_token(identity, tmp_path: Path, token: str) -> Path:
    config = yaml.safe_load(identity.kubeconfig_path.read_text())
    config["users"][0]["user"]["token"] = token
    path = tmp_path / "bad-token.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


def test_identity_with_permissions_passes(reader, connection):
    ok, message = K8sReconcileHook(
        connection("ok", {"kube_config_path": str(reader.kubeconfig_path)})
    ).test_connection()
    assert ok, message
    first = message.splitlines()[0]
    assert first.startswith("PASS: connected to https://")
    assert f"authenticated as {reader.username}" in first
    assert "configmaps" in first


def test_identity_without_permissions_is_not_a_plain_success(nobody, connection):
    hook = K8sReconcileHook(connection("none", {"kube_config_path": str(nobody.kubeconfig_path)}))
    ok, message = hook.test_connection()
    assert ok is False
    assert message.startswith("WARN: Identity has no permissions")
    assert nobody.username in message
    assert "RBAC_NO_PERMISSIONS" in message
    assert len(message) <= 300
    assert "kubectl create rolebinding" in hook.diagnose().render()  # doctor's report keeps the whole fix


def test_rejected_token_is_diagnosed_not_a_traceback(reader, connection, tmp_path):
    bad = _with_token(reader, tmp_path, "SECRET-not-a-real-token-0123456789")
    hook = K8sReconcileHook(connection("bad", {"kube_config_path": str(bad)}))
    ok, message = hook.test_connection()
    assert ok is False
    assert message.startswith("FAIL: Credentials rejected")
    assert "SECRET-not-a-real-token" not in message
    message = hook.diagnose().render()  # the skipped checks are in doctor's report
    assert "AUTH_CREDENTIALS_REJECTED" in message
    assert "Traceback" not in message
    # Regression: the server answered 401, so the skipped checks must not blame reachability.
    assert "unreachable" not in message
    assert (
        "Credentials not checked: blocked by the failed check 'API server' (AUTH_CREDENTIALS_REJECTED"
        in message
    )
    assert "SECRET-not-a-real-token" not in message


def test_unreachable_server_is_a_network_finding(reader, connection):
    ok, message = K8sReconcileHook(
        connection(
            "down", {"kube_config_path": str(reader.kubeconfig_path), "api_server": "https://127.0.0.1:9"}
        )
    ).test_connection()
    assert ok is False
    assert "NET_CONNECTION_REFUSED" in message


def test_forbidden_call_names_user_verb_and_fix(nobody, k8s_namespace, connection):
    hook = K8sReconcileHook(connection("deny", {"kube_config_path": str(nobody.kubeconfig_path)}))
    with (
        hook.get_conn() as api,
        pytest.raises(PermissionDeniedError) as raised,
        hook.diagnosed(f"list configmaps in {k8s_namespace}"),
    ):
        k8s.CoreV1Api(api).list_namespaced_config_map(k8s_namespace)
    err = raised.value
    assert isinstance(err.__cause__, ApiException)
    assert err.status == 403
    assert err.finding.code == "RBAC_FORBIDDEN"
    assert err.finding.evidence["user"] == nobody.username
    assert err.finding.evidence["verb"] == "list"
    assert f"--serviceaccount={nobody.namespace}:{nobody.name}" in err.finding.fix
    assert "HTTP response headers" not in str(err)


def test_async_forbidden_call_is_diagnosed_the_same_way(nobody, k8s_namespace, connection):
    hook = AsyncK8sReconcileHook(connection("adeny", {"kube_config_path": str(nobody.kubeconfig_path)}))

    async def call():
        async with hook.get_conn() as api:
            with hook.diagnosed("list configmaps"):
                await k8s_async.CoreV1Api(api).list_namespaced_config_map(k8s_namespace)

    with pytest.raises(PermissionDeniedError) as raised:
        asyncio.run(call())
    assert raised.value.finding.code == "RBAC_FORBIDDEN"
    assert raised.value.finding.evidence["user"] == nobody.username


def test_unreachable_server_inside_diagnosed_block(reader, connection):
    hook = K8sReconcileHook(
        connection(
            "gone", {"kube_config_path": str(reader.kubeconfig_path), "api_server": "https://127.0.0.1:9"}
        )
    )
    with (
        hook.get_conn() as api,
        pytest.raises(ClusterAccessError) as raised,
        hook.diagnosed("read the version"),
    ):
        k8s.VersionApi(api).get_code()
    assert raised.value.finding.code == "NET_CONNECTION_REFUSED"
    assert raised.value.status is None


def _doctor(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "doctor", *args], capture_output=True, text=True, env=env, timeout=120)


def test_doctor_json_shape_and_exit_codes(reader, nobody, k8s_namespace, tmp_path):
    passing = _doctor("--kubeconfig", str(reader.kubeconfig_path), "-n", k8s_namespace, "--json")
    assert passing.returncode == 0, passing.stderr
    report = json.loads(passing.stdout)
    assert set(report) == {"verdict", "findings", "connection", "checks", "identity"}
    assert report["identity"]["username"] == reader.username
    assert report["verdict"] == "pass"
    assert [(f["code"], f["status"]) for f in report["findings"]] == [
        ("CONN_SOURCE_SELECTED", "pass"),
        ("CONN_RESOLVED", "pass"),
        *NETWORK,
        ("API_REACHABLE", "pass"),
        ("AUTH_ACCEPTED", "pass"),
        ("AUTH_IDENTITY", "pass"),
        ("RBAC_PERMISSIONS", "pass"),
    ]
    assert all({"code", "status", "title", "cause", "fix"} <= set(f) for f in report["findings"])
    assert report["findings"][8]["evidence"]["user"] == reader.username
    assert [c["id"] for c in report["checks"]] == [
        "proxy",
        "dns",
        "tcp",
        "tls",
        "reachability",
        "credentials",
        "identity",
        f"permissions:{k8s_namespace}",
    ]
    assert all(c["duration_ms"] >= 0 for c in report["checks"])
    assert report["connection"]["mode"] == "kubeconfig_file"

    warned = _doctor(
        "--kubeconfig", str(nobody.kubeconfig_path), "-n", k8s_namespace, "-n", "default", "--json"
    )
    assert warned.returncode == 0
    assert [(f["code"], f["status"]) for f in json.loads(warned.stdout)["findings"]] == [
        ("CONN_SOURCE_SELECTED", "pass"),
        ("CONN_RESOLVED", "pass"),
        *NETWORK,
        ("API_REACHABLE", "pass"),
        ("AUTH_ACCEPTED", "pass"),
        ("AUTH_IDENTITY", "pass"),
        ("RBAC_NO_PERMISSIONS", "warn"),
        ("RBAC_NO_PERMISSIONS", "warn"),
    ]

    failed = _doctor("--kubeconfig", str(tmp_path / "missing"), "--json")
    assert failed.returncode == 1
    assert [(f["code"], f["status"]) for f in json.loads(failed.stdout)["findings"]] == [
        ("CONN_KUBECONFIG_NOT_FOUND", "fail")
    ]

    usage = _doctor("--service-account-dir", "/x")
    assert usage.returncode == 2
    assert "--service-account-dir needs --in-cluster" in usage.stderr
    assert _doctor("--kubeconfig", "a", "--in-cluster").returncode == 2


def test_doctor_in_cluster(reader, pod_env, k8s_cluster):
    env = {**pod_env(reader), "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    result = _doctor(
        "--in-cluster", "--service-account-dir", str(reader.in_cluster.service_account_dir), env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"PASS: connected to {k8s_cluster.server}")
    assert reader.username in result.stdout
    assert "mode: in_cluster" in result.stdout


def test_doctor_with_an_airflow_connection(reader):
    env = {
        **os.environ,
        "AIRFLOW_CONN_DOCTOR_CONN": json.dumps(
            {"conn_type": "k8s_reconcile", "extra": {"kube_config_path": str(reader.kubeconfig_path)}}
        ),
    }
    result = _doctor("--conn-id", "doctor_conn", "--json", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["verdict"] == "pass"
    missing = _doctor("--conn-id", "no_such_conn", "--json", env=env)
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["findings"][0]["code"] == "CONN_CONNECTION_NOT_FOUND"


def _airflow_test(extra: dict) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW_CONN_K8S_RECONCILE_DEFAULT": json.dumps({"conn_type": "k8s_reconcile", "extra": extra}),
    }
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.run(
        [str(airflow), "connections", "test", "k8s_reconcile_default"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )


def test_airflow_connections_test_prints_the_verdict(reader, nobody):
    good = _airflow_test({"kube_config_path": str(reader.kubeconfig_path)})
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Connection success!" in good.stdout
    bad = _airflow_test({"kube_config_path": str(nobody.kubeconfig_path)})
    assert bad.returncode == (
        1 if AIRFLOW_V_3_3_PLUS else 0
    )  # Airflow's CLI exits 1 on a failed test since 3.3
    assert "Connection failed!" in bad.stdout
    assert "WARN: Identity has no permissions" in bad.stdout


def test_anonymous_identity_is_not_a_success(reader, connection, tmp_path):
    config = yaml.safe_load(reader.kubeconfig_path.read_text())
    config["users"][0]["user"] = {}
    path = tmp_path / "anonymous.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    hook = K8sReconcileHook(connection("anon", {"kube_config_path": str(path)}))
    ok, message = hook.test_connection()
    assert ok is False
    assert message.startswith("FAIL: No credentials were sent")
    assert "AUTH_ANONYMOUS" in message
    message = hook.diagnose().render()  # doctor's report names both findings
    assert "CONN_NO_CREDENTIALS" in message
    assert "AUTH_ANONYMOUS" in message
