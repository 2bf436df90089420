"""Network and TLS failures are diagnosed from the real client exceptions, in the sync and the async hook.

Wrong CA and a certificate that does not name the host are produced with the real API server; what a real server
cannot be made to do (hang, reset, speak plain HTTP, serve an expired certificate, answer 429/503) comes from the
small fault server.
"""

from __future__ import annotations

import asyncio

import pytest
from kubernetes_asyncio import client as k8s_async

from airflow_k8s_reconcile.hooks._errors import translate
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook
from airflow_k8s_reconcile.testing.fault_server import FaultServer
from airflow_k8s_reconcile.testing.pki import write_pki


def _sync_code(conn_id: str) -> str:
    report = K8sReconcileHook(conn_id).diagnose()
    failed = [f for f in report.findings if f.status.value == "fail"]
    assert report.verdict == "fail", report.render()
    return failed[0].code


def _async_code(conn_id: str) -> str:
    hook = AsyncK8sReconcileHook(conn_id)

    async def call() -> str:
        async with hook.get_conn() as api:
            try:
                await k8s_async.VersionApi(api).get_code()
            except Exception as err:
                return translate(err, server=(await hook.resolve()).source.server).finding.code
        return "no error"

    return asyncio.run(call())


def _both(conn_id: str) -> tuple[str, str]:
    return _sync_code(conn_id), _async_code(conn_id)


def test_wrong_ca(reader, connection, tmp_path):
    other = write_pki(tmp_path)
    conn_id = connection(
        "wrong_ca", {"kube_config_path": str(reader.kubeconfig_path), "ca_bundle": str(other.ca_cert)}
    )
    assert _both(conn_id) == ("TLS_VERIFY_FAILED", "TLS_VERIFY_FAILED")


def test_certificate_that_does_not_name_the_host(reader, connection):
    conn_id = connection(
        "wrong_name",
        {"kube_config_path": str(reader.kubeconfig_path), "tls_server_name": "api.wrong.example"},
    )
    assert _both(conn_id) == ("TLS_HOSTNAME_MISMATCH", "TLS_HOSTNAME_MISMATCH")


@pytest.mark.parametrize(
    ("mode", "status", "expected"),
    [
        pytest.param("expired-tls", 0, "TLS_CERT_EXPIRED", id="expired-certificate"),
        pytest.param("plain-http", 0, "TLS_WRONG_PROTOCOL", id="plain-http"),
        pytest.param("hang", 0, "NET_READ_TIMEOUT", id="hang"),
        # The connection test reads /readyz first: a 503 there means "up but not ready"; a plain call's 503 is
        # a server error.
        pytest.param("status", 503, ("API_NOT_READY", "API_SERVER_ERROR"), id="503"),
        pytest.param("status", 429, "API_RATE_LIMITED", id="429"),
    ],
)
def test_faults(reader, connection, mode, status, expected):
    with FaultServer(mode, status=status or 503) as server:
        extra = {
            "kube_config_path": str(reader.kubeconfig_path),
            "api_server": server.url,
            "request_timeout": 1,
        }
        if server.ca_path:
            extra["ca_bundle"] = str(server.ca_path)
        conn_id = connection(f"fault_{mode.replace('-', '_')}_{status}", extra)
        assert _both(conn_id) == (expected if isinstance(expected, tuple) else (expected, expected))


def test_connection_reset(reader, connection):
    with FaultServer("reset") as server:
        conn_id = connection(
            "fault_reset", {"kube_config_path": str(reader.kubeconfig_path), "api_server": server.url}
        )
        assert _both(conn_id) == ("NET_CONNECTION_RESET", "NET_CONNECTION_RESET")
