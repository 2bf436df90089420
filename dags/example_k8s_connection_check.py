"""Check, from a worker, that the Kubernetes connection works before the tasks that need it run."""

from __future__ import annotations

import os

from airflow.sdk import DAG

from airflow_k8s_reconcile.operators import K8sConnectionCheckOperator

with DAG(
    dag_id="example_k8s_connection_check",
    schedule=None,
    catchup=False,
    tags=["kubernetes", "example"],
    doc_md=__doc__,
):
    check_connection = K8sConnectionCheckOperator(
        task_id="check_connection",
        k8s_reconcile_conn_id=os.environ.get("K8S_RECONCILE_CONN_ID", "k8s_reconcile_default"),
        namespaces=["default"],
    )
