"""Hook behaviour that needs no API server: connection lookup, precedence, errors, typing of the UI fields."""

from __future__ import annotations

import asyncio
import json

import pytest

from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook

EMPTY_ENV = {"HOME": "/nonexistent-home", "PATH": "/usr/bin"}


def _define(monkeypatch, conn_id: str, extra: dict, conn_type: str = "k8s_reconcile") -> str:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": conn_type, "extra": extra})
    )
    return conn_id


def test_undefined_connection_is_a_finding_naming_the_variable():
    with pytest.raises(ConnectionConfigError) as err:
        K8sReconcileHook("no_such_conn", environ=EMPTY_ENV).resolve()
    assert err.value.code == "CONN_CONNECTION_NOT_FOUND"
    assert "AIRFLOW_CONN_NO_SUCH_CONN" in err.value.finding.fix


def test_missing_default_connection_means_auto_and_reports_every_source(tmp_path):
    env = {**EMPTY_ENV, "KUBECONFIG": str(tmp_path / "a") + ":" + str(tmp_path / "b")}
    with pytest.raises(ConnectionConfigError) as sync_raised:
        K8sReconcileHook(environ=env).resolve()
    with pytest.raises(ConnectionConfigError) as async_raised:
        asyncio.run(AsyncK8sReconcileHook(environ=env).resolve())
    sync_err, async_err = sync_raised.value, async_raised.value
    assert sync_err.code == async_err.code == "CONN_NO_SOURCE_FOUND"
    text = str(sync_err)
    assert "KUBERNETES_SERVICE_HOST" in text
    assert str(tmp_path / "a") in text
    assert str(tmp_path / "b") in text
    assert [f.code for f in sync_err.findings] == [f.code for f in async_err.findings]


def test_unknown_field_suggests_the_intended_one(monkeypatch):
    conn_id = _define(monkeypatch, "typo", {"kube_config_file": "/x"})
    with pytest.raises(ConnectionConfigError) as err:
        K8sReconcileHook(conn_id, environ=EMPTY_ENV).resolve()
    assert err.value.code == "CONN_UNKNOWN_FIELD"
    assert "kube_config_path" in str(err.value)


@pytest.mark.parametrize("value", ["False", "false", "no", "0"])
def test_cncf_in_cluster_string_false_is_false(monkeypatch, tmp_path, value):
    conn_id = _define(
        monkeypatch,
        "cncf",
        {"in_cluster": value, "kube_config_path": str(tmp_path / "cfg")},
        conn_type="kubernetes",
    )
    with pytest.raises(ConnectionConfigError) as err:
        K8sReconcileHook(conn_id, environ=EMPTY_ENV).resolve()
    assert err.value.code == "CONN_KUBECONFIG_NOT_FOUND"
    assert str(tmp_path / "cfg") in str(err.value)


def test_both_in_cluster_and_kubeconfig_in_one_connection_conflict(monkeypatch):
    conn_id = _define(
        monkeypatch, "both", {"in_cluster": True, "kube_config_path": "/x"}, conn_type="kubernetes"
    )
    with pytest.raises(ConnectionConfigError) as err:
        K8sReconcileHook(conn_id, environ=EMPTY_ENV).resolve()
    assert err.value.code == "CONN_CONFLICTING_SOURCES"


def test_test_connection_reports_configuration_errors_without_raising(monkeypatch, tmp_path):
    conn_id = _define(monkeypatch, "missing_file", {"kube_config_path": str(tmp_path / "nope")})
    ok, message = K8sReconcileHook(conn_id, environ=EMPTY_ENV).test_connection()
    assert ok is False
    assert message.startswith("FAIL: ")
    assert str(tmp_path / "nope") in message
    assert "Traceback" not in message


def test_hook_repr_shows_no_arguments():
    hook = K8sReconcileHook("x", kube_config="apiVersion: v1\nusers: [{name: u, user: {token: SECRETVALUE}}]")
    assert "SECRETVALUE" not in repr(hook)


def test_both_hooks_log_what_they_chose_and_why(tmp_path, caplog, capsys):
    import yaml

    config = {
        "apiVersion": "v1",
        "clusters": [{"name": "c", "cluster": {"server": "https://api.example.com:6443"}}],
        "users": [{"name": "u", "user": {"token": "SECRETLOGTOKEN-0123456789"}}],
        "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u", "namespace": "jobs"}}],
        "current-context": "dev",
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(config))
    K8sReconcileHook(kube_config_path=str(path), environ=EMPTY_ENV).resolve()
    asyncio.run(AsyncK8sReconcileHook(kube_config_path=str(path), environ=EMPTY_ENV).resolve())
    # Airflow 3.3 logs hooks through structlog (captured output); 3.0 through stdlib logging (caplog) AND its console
    # handler, so each line can be in both: count where it was logged, not the sum.
    captured = "".join(capsys.readouterr())
    logged = caplog.text + captured
    for line in (
        "mode: kubeconfig_file (kube_config_path is set by argument and auth_mode is auto)",
        "namespace: jobs (from kubeconfig context 'dev')",
    ):
        assert max(caplog.text.count(line), captured.count(line)) == 2, line
    assert "SECRETLOGTOKEN" not in logged
