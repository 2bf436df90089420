"""K8sConnectionCheckOperator runs the connection test in the task's environment, against the real server."""

from __future__ import annotations

import json

import pytest

from airflow_k8s_reconcile.compat import AirflowFailException
from airflow_k8s_reconcile.operators.connection_check import K8sConnectionCheckOperator


def _operator(conn_id: str, **kwargs) -> K8sConnectionCheckOperator:
    return K8sConnectionCheckOperator(task_id="check_connection", k8s_reconcile_conn_id=conn_id, **kwargs)


def test_working_connection_returns_a_secret_free_report(reader, k8s_namespace, connection):
    conn_id = connection("op_ok", {"kube_config_path": str(reader.kubeconfig_path)})
    result = _operator(conn_id, namespaces=[k8s_namespace]).execute(context={})
    assert result["verdict"] == "pass"
    assert json.loads(json.dumps(result)) == result  # a plain XCom
    assert reader.token not in json.dumps(result)
    assert any(f["code"] == "RBAC_PERMISSIONS" for f in result["findings"])


def test_identity_without_permissions_warns_and_fails_only_when_asked(nobody, k8s_namespace, connection):
    conn_id = connection("op_warn", {"kube_config_path": str(nobody.kubeconfig_path)})
    assert _operator(conn_id, namespaces=[k8s_namespace]).execute(context={})["verdict"] == "warn"
    with pytest.raises(AirflowFailException, match=r"^WARN at .*holds no permission in namespace"):
        _operator(conn_id, namespaces=[k8s_namespace], fail_on_warning=True).execute(context={})


def test_broken_connection_fails_without_retry(connection, tmp_path):
    conn_id = connection("op_fail", {"kube_config_path": str(tmp_path / "missing")})
    with pytest.raises(AirflowFailException, match=str(tmp_path / "missing")):
        _operator(conn_id).execute(context={})


def test_a_string_for_namespaces_is_refused_with_the_fix(connection, tmp_path):
    with pytest.raises(AirflowFailException, match=r"namespaces=\['jobs'\]"):
        _operator("any", namespaces="jobs").execute(context={})
