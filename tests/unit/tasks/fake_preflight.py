"""A fake hook through the PreflightHook protocol, and reports as the preflight returns them."""

from __future__ import annotations

from airflow_k8s_reconcile.domain.common.catalogue import (
    CONN_KUBECONFIG_NOT_FOUND,
    NET_CONNECTION_REFUSED,
    RBAC_PERMISSION_MISSING,
    RBAC_PERMISSIONS_GRANTED,
    finding,
)
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.findings import Report

YAML = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n"
CAUSE = "system:serviceaccount:airflow:worker cannot list configmaps in namespace jobs"


class _WithRemediation(Report):
    """A report carrying the optional ``remediation`` the I/O side adds (its to_dict shape)."""

    def to_dict(self) -> dict[str, object]:
        return {
            **Report.to_dict(self),
            "remediation": {"rbac_yaml": YAML, "commands": ["kubectl create role x -n jobs"], "verify": []},
        }


def granted() -> Report:
    return Report.build([finding(RBAC_PERMISSIONS_GRANTED, "all granted.")], {"conn_id": "k"})


def missing() -> Report:
    item = finding(RBAC_PERMISSION_MISSING, CAUSE, "Apply the Role below.")
    report = Report.build([item], {"conn_id": "k"})
    return _WithRemediation(verdict=report.verdict, findings=report.findings, connection=report.connection)


def refused() -> Report:
    return Report.build(
        [finding(NET_CONNECTION_REFUSED, "nothing listens on 127.0.0.1:1.")], {"conn_id": "k"}
    )


def broken() -> Report:
    return Report.build([finding(CONN_KUBECONFIG_NOT_FOUND, "/nope does not exist.")], {"conn_id": "k"})


class FakeHook:
    """Answers each preflight with the next report; records the calls."""

    def __init__(self, *reports: Report, explanation: dict | None = None, conn_id: str = "k") -> None:
        self.k8s_reconcile_conn_id = conn_id
        self.reports = list(reports)
        self.calls: list[dict] = []
        self.explanation = (
            explanation if explanation is not None else {"server": "https://k", "namespace": "ns"}
        )

    def explain(self) -> dict[str, object]:
        if self.explanation == {}:
            raise ConnectionConfigError(finding(CONN_KUBECONFIG_NOT_FOUND, "/nope does not exist."))
        return self.explanation

    def preflight(self, permissions=(), namespaces=(), checks="all") -> Report:
        self.calls.append(
            {"permissions": tuple(permissions), "namespaces": tuple(namespaces), "checks": checks}
        )
        return self.reports.pop(0) if len(self.reports) > 1 else self.reports[0]


class AsyncFakeHook(FakeHook):
    async def preflight(self, permissions=(), namespaces=(), checks="all") -> Report:  # type: ignore[override]
        return FakeHook.preflight(self, permissions, namespaces, checks)
