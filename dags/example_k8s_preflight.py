"""Check before acting: wait for the API server and the RBAC a Helm upgrade grants, then run the full preflight.

`airflow-k8s-reconcile rbac --dags dags/` prints the Role these tasks need, from the same declarations.
"""

from __future__ import annotations

import os

from airflow.sdk import DAG

from airflow_k8s_reconcile.operators import K8sPreflightOperator
from airflow_k8s_reconcile.sensors import K8sApiReachableSensor, K8sPermissionSensor

CONN_ID = os.environ.get("K8S_RECONCILE_CONN_ID", "k8s_reconcile_default")
NAMESPACE = os.environ.get("K8S_RECONCILE_NAMESPACE", "default")

with DAG(
    dag_id="example_k8s_preflight",
    schedule=None,
    catchup=False,
    tags=["kubernetes", "example"],
    doc_md=__doc__,
):
    api_reachable = K8sApiReachableSensor(
        task_id="api_reachable",
        k8s_reconcile_conn_id=CONN_ID,
        namespaces=[NAMESPACE],
        poke_interval=10,
        timeout=300,
    )
    rbac_granted = K8sPermissionSensor(
        task_id="rbac_granted",
        k8s_reconcile_conn_id=CONN_ID,
        permissions=["get,list,watch:configmaps"],
        namespaces=[NAMESPACE],
        poke_interval=30,
        timeout=600,
        deferrable=True,
    )
    preflight = K8sPreflightOperator(
        task_id="preflight",
        k8s_reconcile_conn_id=CONN_ID,
        permissions=["get,list,create,update,patch,delete:configmaps", "get:pods/log"],
        namespaces=[NAMESPACE],
        fail_on="fail",
    )
    api_reachable >> rbac_granted >> preflight
