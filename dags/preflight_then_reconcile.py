"""Check the cluster first, then keep an application's ConfigMaps exactly as its settings declare.

Scenario: an application's settings live in this DAG (params, rendered with Jinja); a run writes them to the
cluster as ConfigMaps and reports any drift it found (someone's ``kubectl edit``, a deleted object, a key nobody
declared), with who made the change, to XCom. A wrong connection or a missing permission fails the first task,
``preflight``, with the cause and the fix, instead of the reconcile halfway through.

Tasks:

- ``preflight``: ``K8sPreflightOperator`` checks, where the tasks run (the worker's identity and files), the
  network path, TLS, the API server's readiness, the identity, and every permission the reconcile declares
  (``reconcile.required_permissions``, so the check cannot drift from what the task does) in the namespace it
  writes to. A missing permission fails here with the least-privilege Role to apply; its report is its XCom.
- ``reconcile``: ``K8sReconcileConfigMapsOperator`` creates, restores and strips the ConfigMaps below (values
  never appear in logs or XCom: the report shows fingerprints). Its full masked report is its XCom.
- ``drift_report``: the drift in a few lines per ConfigMap (keys added, removed, modified; who wrote them), as
  its own XCom for dashboards and alerts.

Settings: ``K8S_RECONCILE_CONN_ID`` (environment, default ``k8s_reconcile_default``); params ``namespace``
(default: ``K8S_RECONCILE_NAMESPACE`` or ``default``), ``app`` (the ConfigMaps are ``<app>-settings`` and
``<app>-features``), ``log_level``, ``replicas``, ``features``.
"""

from __future__ import annotations

import os
from typing import Any

from airflow.sdk import Param, dag, task

from airflow_k8s_reconcile.operators import K8sPreflightOperator, K8sReconcileConfigMapsOperator

CONN_ID = os.environ.get("K8S_RECONCILE_CONN_ID", "k8s_reconcile_default")

SETTINGS = {
    "name": "{{ params.app }}-settings",
    "namespace": "{{ params.namespace }}",
    "labels": {"app.kubernetes.io/name": "{{ params.app }}"},
    "data": {
        "LOG_LEVEL": "{{ params.log_level | upper }}",
        "REPLICAS": "{{ params.replicas }}",
        "app.yaml": (
            "app: {{ params.app }}\n"
            "logging:\n  level: {{ params.log_level }}\n"
            "replicas: {{ params.replicas }}\n"
        ),
    },
}
FEATURES = {
    "name": "{{ params.app }}-features",
    "namespace": "{{ params.namespace }}",
    "labels": {"app.kubernetes.io/name": "{{ params.app }}"},
    "data": {
        "features.txt": "{% for feature in params.features | sort %}{{ feature }}\n{% endfor %}",
        "enabled": "{{ params.features | sort | join(',') }}",
    },
}


@dag(
    dag_id="preflight_then_reconcile",
    schedule=None,
    catchup=False,
    tags=["kubernetes", "example", "reconcile"],
    params={
        "namespace": Param(os.environ.get("K8S_RECONCILE_NAMESPACE", "default"), type="string"),
        "app": Param("shop", type="string", pattern="^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
        "log_level": Param("info", type="string", enum=["debug", "info", "warning", "error"]),
        "replicas": Param(2, type="integer", minimum=1),
        "features": Param(["checkout", "search"], type="array", items={"type": "string"}),
    },
    doc_md=__doc__,
)
def preflight_then_reconcile() -> None:
    reconcile = K8sReconcileConfigMapsOperator(
        task_id="reconcile",
        k8s_reconcile_conn_id=CONN_ID,
        namespace="{{ params.namespace }}",
        configmaps=[SETTINGS, FEATURES],
    )
    preflight = K8sPreflightOperator(
        task_id="preflight",
        k8s_reconcile_conn_id=CONN_ID,
        # The namespace is templated, so the declarations name none; namespaces= places them.
        permissions=reconcile.required_permissions,
        namespaces=["{{ params.namespace }}"],
    )

    @task
    def drift_report(report: Any) -> dict[str, Any]:
        """Return the drift of each ConfigMap in a few words (``report``: the reconcile's, as its XComArg).

        Names keys and writers only: the reconcile report it is built from already masks every value.
        """
        out: dict[str, Any] = {"in_sync": report["summary"]["in_sync"], "configmaps": {}}
        for entry in report["objects"]:
            drift = entry["drift"]
            out["configmaps"][f"{entry['namespace']}/{entry['name']}"] = {
                "status": entry["status"],
                "missing": bool(drift.get("missing")),
                "added": drift["added"],
                "removed": drift["removed"],
                "modified": drift["modified"],
                "writers": sorted({str(item.get("manager", "")) for item in entry["attribution"]} - {""}),
            }
        for name, line in out["configmaps"].items():
            print(f"{name}: {line}")
        return out

    preflight >> reconcile
    drift_report(reconcile.output)


preflight_then_reconcile()
