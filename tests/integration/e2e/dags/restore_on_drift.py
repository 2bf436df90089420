"""Stand-in for ``dags/restore_on_drift.py`` until the example DAG lands: the same structure, nothing more.

An Asset watched by ``ConfigMapDriftEventTrigger`` through an ``AssetWatcher``; the DAG scheduled on it
reconciles the ConfigMap, so a deletion or an inserted key is undone by an asset-triggered run. The namespace
comes from ``K8S_RECONCILE_NAMESPACE`` (as in the example) because the trigger's arguments are fixed when the file
is parsed. Delete this file once ``dags/restore_on_drift.py`` is on main: the test then uses that one.
"""

from __future__ import annotations

import os

from airflow.sdk import Asset, AssetWatcher, dag

from airflow_k8s_reconcile.operators import K8sReconcileConfigMapsOperator
from airflow_k8s_reconcile.triggers import ConfigMapDriftEventTrigger

NAMESPACE = os.environ.get("K8S_RECONCILE_NAMESPACE", "default")
NAME = "app-config"

drifted = Asset(
    f"k8s://{NAMESPACE}/{NAME}",
    watchers=[
        AssetWatcher(
            name=f"{NAME}-drift",
            trigger=ConfigMapDriftEventTrigger(namespace=NAMESPACE, names=[NAME]),
        )
    ],
)


@dag(dag_id="restore_on_drift", schedule=[drifted], catchup=False, max_active_runs=1, doc_md=__doc__)
def restore_on_drift() -> None:
    K8sReconcileConfigMapsOperator(
        task_id="restore",
        namespace=NAMESPACE,
        configmaps=[{"name": NAME, "data": {"app.conf": "level=info\n", "replicas": "3"}}],
    )


restore_on_drift()
