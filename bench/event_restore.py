"""Benchmark: tamper-to-restore latency of ``restore_on_drift`` through the real Airflow components.

The same path as ``tests/integration/e2e/test_event_restore.py``: the local control plane (or
``K8S_TEST_KUBECONFIG`` with ``K8S_TEST_ALLOW_EXTERNAL=1``), ``airflow scheduler``, ``dag-processor``,
``triggerer`` and ``api-server`` on a temporary ``AIRFLOW_HOME`` (SQLite, LocalExecutor), then ``BENCH_TAMPERS``
tampers (default 10, alternating delete and an inserted key). Each is timed from just before the tampering request
to the moment the live ConfigMap reads as the initial reconcile wrote it; the path in between is trigger event ->
asset event -> scheduler DagRun -> LocalExecutor task -> reconcile. Prints a markdown table; the issue asks for
"within seconds", so the target is p95 < 10 s on 2 shared cores.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))
E2E = Path(__file__).resolve().parents[1] / "tests" / "integration" / "e2e"
sys.path.insert(0, str(E2E))
TAMPERS = int(os.environ.get("BENCH_TAMPERS", "10"))
TARGET_P95 = 10.0


def main() -> int:
    from airflow_stack import AirflowStack
    from kubernetes import client as k8s
    from restore_probe import RestoreProbe, dags_folder, percentile, table

    from airflow_k8s_reconcile.testing.cluster import open_test_cluster

    def say(line: str) -> None:
        print(f"[bench] {line}", file=sys.stderr, flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="bench-event-restore-"))
    ok = False
    with open_test_cluster(progress=lambda line: print(f"[cluster] {line}", file=sys.stderr)) as cluster:
        api = cluster.api_client()
        core = k8s.CoreV1Api(api)
        namespace = f"bench-restore-{cluster.run_id}"
        core.create_namespace({"metadata": {"name": namespace, "labels": cluster.labels}})
        connection = {
            "conn_type": "k8s_reconcile",
            "extra": {"kube_config_path": str(cluster.kubeconfig_path)},
        }
        stack = AirflowStack(
            workdir / "airflow",
            dags_folder(workdir / "dags"),
            connection,
            extra_env={"K8S_RECONCILE_NAMESPACE": namespace},
            progress=say,
        )
        try:
            with stack:
                probe = RestoreProbe(stack, core, namespace, progress=say)
                probe.prepare()
                tampers = [probe.tamper("delete" if n % 2 == 0 else "insert-key") for n in range(TAMPERS)]
            ok = True
        finally:
            core.delete_namespace(namespace)
            api.close()
            if ok:
                shutil.rmtree(workdir, ignore_errors=True)
            else:
                say(f"logs kept in {stack.logs}")
    print(table(tampers, f"{TAMPERS} tampers, Kubernetes {cluster.git_version}, {os.cpu_count()} CPUs"))
    p95 = percentile([t.seconds for t in tampers], 0.95)
    print(f"target p95 < {TARGET_P95:.0f} s: {'met' if p95 < TARGET_P95 else 'MISSED'}")
    return 0 if p95 < TARGET_P95 else 1


if __name__ == "__main__":
    sys.exit(main())
