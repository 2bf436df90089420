"""Acceptance on the running Airflow (the newest in `make test`, 3.0.6 in `make test-oldest`), end to end.

Each command is the installed console script, run from a scratch directory: under `make test-oldest` that is the
wheel in a fresh virtualenv, as a user installs it. Provider listing is in tests/unit/test_provider_info.py, the
connection form in tests/unit/test_airflow_versions.py, `airflow connections test` in
tests/integration/hooks/test_connection_test.py; they run in both environments too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CM_RULES = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]


@pytest.fixture
def default_reader(k8s_identity):
    """A service account that may read configmaps in ``default``, where the example DAG checks."""
    return k8s_identity(rules=[], namespace_rules={"default": CM_RULES})


def _env(tmp_path: Path, identity) -> dict[str, str]:
    extra = {"kube_config_path": str(identity.kubeconfig_path), "namespace": "default"}
    connection = {"conn_type": "k8s_reconcile", "extra": extra}
    return {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW_CONN_K8S_RECONCILE_DEFAULT": json.dumps(connection),
    }


def _run(tmp_path: Path, env: dict[str, str], *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=timeout,
    )


def test_airflow_dags_test_runs_the_example_dag_against_the_cluster(default_reader, tmp_path):
    env = _env(tmp_path, default_reader)
    migrated = _run(tmp_path, env, "airflow", "db", "migrate")
    assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-2000:]
    ran = _run(tmp_path, env, "airflow", "dags", "test", "example_k8s_connection_check")
    output = ran.stdout + ran.stderr
    assert ran.returncode == 0, output[-4000:]
    assert "PASS: connected to https://" in output, output[-4000:]
    assert f"authenticated as {default_reader.username}" in output
    assert "state=success" in output or "'state': 'success'" in output or "DagRunState.SUCCESS" in output, (
        output[-3000:]
    )
    assert default_reader.token not in output


def test_doctor_conn_id_with_the_installed_command(default_reader, tmp_path):
    env = _env(tmp_path, default_reader)
    result = _run(
        tmp_path, env, "airflow-k8s-reconcile", "doctor", "--conn-id", "k8s_reconcile_default", "--json"
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["verdict"] == "pass"
    assert report["connection"]["mode"] == "kubeconfig_file"
    assert [f["evidence"].get("user") for f in report["findings"] if f["code"] == "AUTH_IDENTITY"] == [
        default_reader.username
    ]


def test_airflow_connections_test_with_the_installed_command(default_reader, tmp_path):
    result = _run(
        tmp_path, _env(tmp_path, default_reader), "airflow", "connections", "test", "k8s_reconcile_default"
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "Connection success!" in result.stdout
