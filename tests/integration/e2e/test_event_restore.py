"""Event-driven restore, proven with the real Airflow components (docs/testing.md, "The real-scheduler test").

``airflow scheduler``, ``dag-processor``, ``triggerer`` and ``api-server`` run against a temporary
``AIRFLOW_HOME`` and the local control plane; the test only unpauses ``restore_on_drift``, asks for the initial
reconcile, and tampers. Every restore must come from an ``asset_triggered`` run whose asset event the
AssetWatcher's trigger produced; the live ConfigMap is read back from the API server.
"""

from __future__ import annotations

import os
import sys

import pytest
from airflow_stack import AirflowStack
from kubernetes.client import CoreV1Api
from restore_probe import RestoreProbe, dag_file, dags_folder, table

TAMPERS = int(os.environ.get("E2E_TAMPERS", "10"))


@pytest.mark.e2e
@pytest.mark.timeout(540)
def test_asset_watcher_restores_a_tampered_configmap(
    k8s_cluster, k8s_admin, k8s_namespace, tmp_path, request
):
    def say(line: str) -> None:
        with request.config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
            print(f"[e2e] {line}", file=sys.stderr, flush=True)

    connection = {
        "conn_type": "k8s_reconcile",
        "extra": {"kube_config_path": str(k8s_cluster.kubeconfig_path)},
    }
    stack = AirflowStack(
        tmp_path / "airflow",
        dags_folder(tmp_path / "dags"),
        connection,
        extra_env={"K8S_RECONCILE_NAMESPACE": k8s_namespace},
        progress=say,
    )
    say(f"DAG file under test: {dag_file()}")
    try:
        with stack:
            probe = RestoreProbe(stack, CoreV1Api(k8s_admin), k8s_namespace, progress=say)
            probe.prepare()
            tampers = [probe.tamper("delete" if n % 2 == 0 else "insert-key") for n in range(TAMPERS)]
            # No restore was taken for a tamper: exactly one asset-triggered run per tamper.
            asset_runs = [run for run in probe.runs() if run["run_type"] == "asset_triggered"]
            assert {run["dag_run_id"] for run in asset_runs} >= {t.run_id for t in tampers}
            assert len({t.run_id for t in tampers}) == TAMPERS
            say(table(tampers, f"{TAMPERS} tampers, Airflow components on loopback, Kubernetes "
                               f"{k8s_cluster.git_version}"))  # fmt: skip
    except BaseException:
        say(f"logs kept in {stack.logs}: <component>.log, db-migrate.log, task logs under dag_id=*/")
        raise
