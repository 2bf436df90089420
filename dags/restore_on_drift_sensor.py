"""Restore a generated ConfigMap after a tamper, with the deferrable drift sensor (no event-driven scheduling).

The classic variant of ``restore_on_drift``, for deployments where DAGs cannot be scheduled by asset watchers
(no triggerer-run ``AssetWatcher``, or a policy against them). It runs continuously, one run at a time:

1. ``ensure``: reconcile the guarded ConfigMap (create it, or restore what changed while no run was waiting);
2. ``wait_for_drift``: ``K8sConfigMapDriftSensor`` with ``deferrable=True`` watches the ConfigMap from the
   triggerer (a Kubernetes watch; no worker slot is held while nothing happens), judged against ``ensure``'s
   report: the recorded uid, content hash and key fingerprints, so even an edit that forges the hash annotation
   counts. Its XCom is the drift summary (names and keys, never values);
3. ``restore``: reconcile it back (the same declaration and owner as ``ensure``);

then the next run starts watching again. Latency is one task start after the watch event (seconds); the
event-driven variant saves the sensor run in between.

Settings: ``K8S_RECONCILE_CONN_ID`` (default ``k8s_reconcile_default``), ``K8S_RECONCILE_NAMESPACE`` (default
``default``), ``K8S_RECONCILE_SENSOR_CONFIGMAP`` (default ``guarded-settings-sensor``), from the environment;
params ``log_level`` and ``max_connections`` (the content, as in ``restore_on_drift``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, Param

from airflow_k8s_reconcile.operators import K8sReconcileConfigMapsOperator
from airflow_k8s_reconcile.sensors import K8sConfigMapDriftSensor

CONN_ID = os.environ.get("K8S_RECONCILE_CONN_ID", "k8s_reconcile_default")
NAMESPACE = os.environ.get("K8S_RECONCILE_NAMESPACE", "default")
CONFIGMAP = os.environ.get("K8S_RECONCILE_SENSOR_CONFIGMAP", "guarded-settings-sensor")

DECLARED: dict[str, Any] = {
    "k8s_reconcile_conn_id": CONN_ID,
    "namespace": NAMESPACE,
    # ensure and restore write the same object: one owner, so neither sees the other's write as foreign.
    "owner_id": "restore_on_drift_sensor/guarded",
    "configmaps": [
        {
            "name": CONFIGMAP,
            "labels": {"app.kubernetes.io/part-of": "airflow-k8s-reconcile-examples"},
            "data": {
                "log_level": "{{ params.log_level }}",
                "settings.ini": "[server]\nlog_level = {{ params.log_level }}\n"
                "max_connections = {{ params.max_connections }}\n",
            },
        }
    ],
}

with DAG(
    dag_id="restore_on_drift_sensor",
    schedule="@continuous",
    max_active_runs=1,
    catchup=False,
    render_template_as_native_obj=True,  # the sensor's report arrives as the reconcile's dict, not its repr
    tags=["kubernetes", "example", "drift"],
    params={
        "log_level": Param("info", type="string", enum=["debug", "info", "warning", "error"]),
        "max_connections": Param(100, type="integer", minimum=1),
    },
    doc_md=__doc__,
):
    ensure = K8sReconcileConfigMapsOperator(task_id="ensure", **DECLARED)
    wait_for_drift = K8sConfigMapDriftSensor(
        task_id="wait_for_drift",
        k8s_reconcile_conn_id=CONN_ID,
        namespace=NAMESPACE,
        report="{{ ti.xcom_pull(task_ids='ensure') }}",  # type: ignore[arg-type]  # rendered to the dict
        deferrable=True,
        timeout=timedelta(days=1),  # then the run ends and the next one starts watching afresh
    )
    restore = K8sReconcileConfigMapsOperator(task_id="restore", **DECLARED)
    ensure >> wait_for_drift >> restore
