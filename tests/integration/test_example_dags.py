"""The example DAGs do what their docstrings say, against the real API server."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes.client import CoreV1Api

from airflow_k8s_reconcile.exceptions import PermissionDeniedError

DAGS = Path(__file__).resolve().parents[2] / "dags"


def _list_configmaps_task():
    from airflow_k8s_reconcile.compat import dagbag

    bag = dagbag(str(DAGS / "example_k8s_hook_task.py"))
    assert bag.import_errors == {}
    return bag.dags["example_k8s_hook_task"].get_task("list_configmaps").python_callable


def test_hook_task_lists_the_namespace_configmaps(reader, k8s_admin, k8s_namespace, connection, monkeypatch):
    CoreV1Api(k8s_admin).create_namespaced_config_map(k8s_namespace, {"metadata": {"name": "seeded"}})
    monkeypatch.setenv(
        "K8S_RECONCILE_CONN_ID", connection("dag_hook", {"kube_config_path": str(reader.kubeconfig_path)})
    )
    assert "seeded" in _list_configmaps_task()(k8s_namespace)


def test_hook_task_names_the_missing_permission(nobody, k8s_namespace, connection, monkeypatch):
    monkeypatch.setenv(
        "K8S_RECONCILE_CONN_ID", connection("dag_nobody", {"kube_config_path": str(nobody.kubeconfig_path)})
    )
    with pytest.raises(PermissionDeniedError) as caught:
        _list_configmaps_task()(k8s_namespace)
    assert caught.value.finding.code == "RBAC_FORBIDDEN"
    assert nobody.username in caught.value.finding.cause
