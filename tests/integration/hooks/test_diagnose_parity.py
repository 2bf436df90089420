"""The sync and async connection tests run the same plan: same identity, same findings, on the real API server.

Also the API-status mapping on real answers: 404, 409 (AlreadyExists) and 422 from the local control plane become
NotFoundError, ConflictError and InvalidSpecError, none of them transient.
"""

from __future__ import annotations

import asyncio

import pytest
import yaml
from kubernetes import client as k8s

from airflow_k8s_reconcile.exceptions import ConflictError, InvalidSpecError, NotFoundError
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook

# Resolution, then the network path (proxy, DNS, TCP, TLS) to the local control plane at 127.0.0.1.
PREFIX = [
    "CONN_SOURCE_SELECTED",
    "CONN_RESOLVED",
    "NET_PROXY_NONE",
    "NET_DNS_NOT_NEEDED",
    "NET_TCP_CONNECTED",
    "TLS_VERIFIED",
]


def _comparable(report) -> list[dict]:
    """Findings without the per-request Audit-Id, which differs between any two requests."""
    out = []
    for finding in report.to_dict()["findings"]:
        evidence = {k: v for k, v in finding.get("evidence", {}).items() if k != "audit_id"}
        out.append({**finding, "evidence": evidence})
    return out


def _both(conn_id: str, namespaces: list[str]):
    sync_report = K8sReconcileHook(conn_id).diagnose(namespaces=namespaces)
    async_report = asyncio.run(AsyncK8sReconcileHook(conn_id).diagnose(namespaces=namespaces))
    return sync_report, async_report


def test_reader_gets_the_same_findings_from_both_hooks(reader, k8s_namespace, connection):
    conn_id = connection("par_reader", {"kube_config_path": str(reader.kubeconfig_path)})
    sync_report, async_report = _both(conn_id, [k8s_namespace, "default"])
    assert _comparable(async_report) == _comparable(sync_report)
    assert [(f.code, f.status.value) for f in sync_report.findings[len(PREFIX) :]] == [
        ("API_REACHABLE", "pass"),
        ("AUTH_ACCEPTED", "pass"),
        ("AUTH_IDENTITY", "pass"),
        ("RBAC_PERMISSIONS", "pass"),
        ("RBAC_NO_PERMISSIONS", "warn"),
    ]
    identity = sync_report.findings[len(PREFIX) + 2]
    # kube-apiserver 1.20 has no SelfSubjectReview: the identity comes from the token's claims.
    assert identity.evidence["user"] == reader.username
    assert async_report.summary == sync_report.summary


def test_nobody_gets_the_same_warning_from_both_hooks(nobody, k8s_namespace, connection):
    conn_id = connection("par_nobody", {"kube_config_path": str(nobody.kubeconfig_path)})
    sync_report, async_report = _both(conn_id, [k8s_namespace])
    assert _comparable(async_report) == _comparable(sync_report)
    assert sync_report.verdict == async_report.verdict == "warn"
    assert [f.code for f in sync_report.findings] == [
        *PREFIX,
        "API_REACHABLE",
        "AUTH_ACCEPTED",
        "AUTH_IDENTITY",
        "RBAC_NO_PERMISSIONS",
    ]


def test_rejected_token_is_the_same_failure_and_the_same_skips_in_both_hooks(reader, connection, tmp_path):
    config = yaml.safe_load(reader.kubeconfig_path.read_text())
    config["users"][0]["user"]["token"] = "SECRET-not-a-real-token-0123456789"
    path = tmp_path / "bad-token.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    conn_id = connection("par_bad", {"kube_config_path": str(path)})
    sync_report, async_report = _both(conn_id, [reader.namespace])
    assert _comparable(async_report) == _comparable(sync_report)
    # An invalid bearer token gets 401 even on /version: authentication runs before the anonymous-read rule.
    codes = [f.code for f in sync_report.findings]
    assert codes == [*PREFIX, "AUTH_CREDENTIALS_REJECTED", "CHECK_SKIPPED", "CHECK_SKIPPED", "CHECK_SKIPPED"]
    for skipped in sync_report.findings[-3:]:
        assert "unreachable" not in skipped.cause
        assert skipped.evidence["blocking_code"] == "AUTH_CREDENTIALS_REJECTED"


def test_unreachable_server_is_the_same_network_finding_in_both_hooks(reader, connection):
    extra = {"kube_config_path": str(reader.kubeconfig_path), "api_server": "https://127.0.0.1:9"}
    sync_report, async_report = _both(connection("par_down", extra), [])
    for report in (sync_report, async_report):
        # TCP is refused, so TLS and everything after it is skipped, each naming the TCP check.
        assert [f.code for f in report.findings] == [
            *PREFIX[:4],
            "NET_CONNECTION_REFUSED",
            *["CHECK_SKIPPED"] * 5,
        ]
        assert {f.evidence["blocked_by"] for f in report.findings[5:]} == {"tcp"}
        assert report.verdict == "fail"


@pytest.fixture
def hook(reader, connection):
    return K8sReconcileHook(connection("par_errors", {"kube_config_path": str(reader.kubeconfig_path)}))


def test_404_is_not_found_and_not_transient(hook, k8s_namespace):
    with hook.get_conn() as api, pytest.raises(NotFoundError) as raised, hook.diagnosed("read configmap"):
        k8s.CoreV1Api(api).read_namespaced_config_map("does-not-exist", k8s_namespace)
    assert raised.value.status == 404
    assert raised.value.transient is False
    assert raised.value.finding.code == "API_NOT_FOUND"


def test_409_already_exists_is_a_conflict_and_not_transient(hook, k8s_namespace):
    body = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="twice"), data={"k": "v"})
    with hook.get_conn() as api:
        k8s.CoreV1Api(api).create_namespaced_config_map(k8s_namespace, body)
        with pytest.raises(ConflictError) as raised, hook.diagnosed("create configmap twice"):
            k8s.CoreV1Api(api).create_namespaced_config_map(k8s_namespace, body)
    assert raised.value.status == 409
    assert raised.value.reason == "AlreadyExists"
    assert raised.value.transient is False
    assert raised.value.finding.code == "API_CONFLICT"


def test_422_is_an_invalid_spec_and_not_transient(hook, k8s_namespace):
    body = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="Not_A_Valid_Name"), data={"k": "v"})
    with (
        hook.get_conn() as api,
        pytest.raises(InvalidSpecError) as raised,
        hook.diagnosed("create configmap"),
    ):
        k8s.CoreV1Api(api).create_namespaced_config_map(k8s_namespace, body)
    assert raised.value.status == 422
    assert raised.value.reason == "Invalid"
    assert raised.value.transient is False
    assert "Not_A_Valid_Name" in raised.value.finding.cause
