"""List a namespace's ConfigMaps from a ``@task`` through the public hook, with every failure diagnosed.

The hook and the Kubernetes client are imported inside the task, not at the top of the file: the DAG processor
parses this file far more often than the task runs, and a hook brings in the resolver and the client.
"""

from __future__ import annotations

import os

from airflow.sdk import dag, task


@dag(
    dag_id="example_k8s_hook_task",
    schedule=None,
    catchup=False,
    tags=["kubernetes", "example"],
    doc_md=__doc__,
)
def example_k8s_hook_task() -> None:
    @task
    def list_configmaps(namespace: str) -> list[str]:
        from kubernetes.client import CoreV1Api

        from airflow_k8s_reconcile.hooks import K8sReconcileHook

        conn_id = os.environ.get("K8S_RECONCILE_CONN_ID", "k8s_reconcile_default")
        hook = K8sReconcileHook(conn_id, namespace=namespace)
        # A 403 here raises PermissionDeniedError whose finding names the identity, the verb and the fix.
        with hook.get_conn() as api, hook.diagnosed(f"list configmaps in {namespace}"):
            items = CoreV1Api(api).list_namespaced_config_map(namespace).items
        return sorted(item.metadata.name for item in items)

    list_configmaps("default")


example_k8s_hook_task()
