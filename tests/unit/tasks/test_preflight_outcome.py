"""How sensors and the gate read a report: done, wait or fail."""

from __future__ import annotations

import pytest

from airflow_k8s_reconcile.domain.common.catalogue import finding
from airflow_k8s_reconcile.domain.preflight.outcome import outcome, wait_decision


def _findings(*codes):
    return [finding(code, "c.") for code in codes]


@pytest.mark.parametrize(
    ("codes", "expected", "permissions", "api"),
    [
        ((), "ok", "done", "done"),
        (("RBAC_PERMISSIONS_GRANTED", "CONN_TOKEN_EXPIRING"), "ok", "done", "done"),
        (("RBAC_PERMISSION_UNKNOWN",), "ok", "done", "done"),  # unknown warns; it is not a failure
        (("RBAC_PERMISSION_MISSING",), "missing", "wait", "fail"),
        (("NET_CONNECTION_REFUSED",), "transient", "wait", "wait"),
        (("API_SERVER_ERROR", "API_RATE_LIMITED"), "transient", "wait", "wait"),
        (("RBAC_PERMISSION_MISSING", "NET_READ_TIMEOUT"), "missing", "wait", "fail"),
        (("API_NOT_READY",), "transient", "wait", "wait"),
        (("NET_DNS_RESOLVER_UNREACHABLE",), "transient", "wait", "wait"),
        (("NET_DNS_NAME_NOT_FOUND",), "terminal", "fail", "fail"),
        (("ADMISSION_DENIED",), "terminal", "fail", "fail"),
        (("CONN_KUBECONFIG_NOT_FOUND",), "terminal", "fail", "fail"),
        (("AUTH_CREDENTIALS_REJECTED",), "terminal", "fail", "fail"),
        (("RBAC_PERMISSION_MISSING", "INTERNAL_ERROR"), "terminal", "fail", "fail"),
        (("TLS_VERIFY_FAILED", "NET_CONNECTION_REFUSED"), "terminal", "fail", "fail"),
    ],
)
def test_outcome_and_decisions(codes, expected, permissions, api):
    findings = _findings(*codes)
    assert outcome(findings) == expected
    assert wait_decision(findings, "permissions") == permissions
    assert wait_decision(findings, "api") == api
