"""Benchmark: cost of resolving a connection and building a client, against the cncf-kubernetes hook.

Run with ``make bench``. Prints a table of median wall time and peak traced memory per operation, with the ratio
to the baseline measured in the same run (cncf ``KubernetesHook.get_conn()`` for the same kubeconfig file), and
the start-up time of the command-line tools. Numbers are for comparison within one run, not absolute targets.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import yaml

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))


def _kubeconfig(directory: Path) -> Path:
    from airflow_k8s_reconcile.testing.pki import write_pki

    pki = write_pki(directory)
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c",
                "cluster": {
                    "server": "https://127.0.0.1:6443",
                    "certificate-authority-data": base64.b64encode(pki.ca_cert.read_bytes()).decode(),
                },
            }
        ],
        "users": [{"name": "u", "user": {"token": "bench-token-0123456789"}}],
        "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u", "namespace": "bench"}}],
        "current-context": "dev",
    }
    path = directory / "config"
    path.write_text(yaml.safe_dump(config))
    return path


def _measure(operation: Callable[[], object]) -> tuple[float, int]:
    operation()  # warm imports and caches
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        operation()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    operation()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak


def _startup(argv: list[str]) -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False, env={**os.environ})
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> int:
    from airflow.providers.cncf.kubernetes.hooks.kubernetes import KubernetesHook

    from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = _kubeconfig(Path(tmp))
        os.environ["AIRFLOW_CONN_BENCH_CNCF"] = json.dumps(
            {"conn_type": "kubernetes", "extra": {"kube_config_path": str(kubeconfig)}}
        )
        os.environ["AIRFLOW_CONN_BENCH_OURS"] = json.dumps(
            {"conn_type": "k8s_reconcile", "extra": {"kube_config_path": str(kubeconfig)}}
        )
        cached = K8sReconcileHook("bench_ours")
        cached.resolve()

        def cncf() -> None:
            KubernetesHook(conn_id="bench_cncf").get_conn().close()

        def ours_fresh() -> None:
            K8sReconcileHook("bench_ours").get_conn().close()

        def ours_cached() -> None:
            cached.get_conn().close()

        def ours_explain() -> None:
            K8sReconcileHook("bench_ours").explain()

        rows = [
            ("cncf KubernetesHook.get_conn (baseline)", cncf),
            ("K8sReconcileHook.get_conn, new hook", ours_fresh),
            ("K8sReconcileHook.get_conn, resolved hook", ours_cached),
            ("K8sReconcileHook.explain, new hook", ours_explain),
        ]
        results = [(name, *_measure(fn)) for name, fn in rows]
        base_time, base_mem = results[0][1], results[0][2]
        bin_dir = Path(sys.executable).parent
        startup = [
            ("airflow --help (baseline)", _startup([str(bin_dir / "airflow"), "--help"])),
            ("airflow-k8s-reconcile --help", _startup([str(bin_dir / "airflow-k8s-reconcile"), "--help"])),
            (
                "airflow-k8s-reconcile doctor (config error)",
                _startup([str(bin_dir / "airflow-k8s-reconcile"), "doctor", "--kubeconfig", "/nonexistent"]),
            ),
        ]

    print(
        f"\nConnection resolution + client build, median of {ROUNDS} rounds (peak traced memory of one round)\n"
    )
    print(
        f"| {'operation':<44} | {'median ms':>9} | {'x baseline':>10} | {'peak KiB':>8} | {'x baseline':>10} |"
    )
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 12}|{'-' * 10}|{'-' * 12}|")
    for name, seconds, peak in results:
        print(
            f"| {name:<44} | {seconds * 1000:>9.2f} | {seconds / base_time:>10.2f} | {peak / 1024:>8.0f} | "
            f"{peak / base_mem:>10.2f} |"
        )
    print("\nCommand start-up, median of 5 runs\n")
    print(f"| {'command':<44} | {'seconds':>9} | {'x baseline':>10} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 12}|")
    for name, seconds in startup:
        print(f"| {name:<44} | {seconds:>9.3f} | {seconds / startup[0][1]:>10.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
