"""Benchmark: drift-to-event latency of the watch trigger against the local control plane.

Starts the local control plane (or uses ``K8S_TEST_KUBECONFIG`` with ``K8S_TEST_ALLOW_EXTERNAL=1``), creates a
ConfigMap as the reconcile writes it, runs ``ConfigMapDriftEventTrigger.run()`` as the triggerer does, and tampers
``BENCH_TAMPERS`` times (default 50; alternating an inserted key, an edited value and a delete), restoring after
each as the event-driven DAG would. Latency is measured from just before the tampering request is sent to the
trigger's event, so it includes the write itself. Prints a markdown table; the target is p95 < 1 s.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "watch"))
TAMPERS = int(os.environ.get("BENCH_TAMPERS", "50"))
TARGET_P95 = 1.0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _measure(core, namespace: str, kubeconfig: Path) -> list[float]:
    from kubernetes import client as k8s
    from watch_helpers import DATA, configmap_body, next_event, watch_opened

    from airflow_k8s_reconcile.triggers.configmap_drift import ConfigMapDriftEventTrigger

    core.create_namespaced_config_map(namespace, configmap_body("app-config", DATA))
    trigger = ConfigMapDriftEventTrigger(
        namespace=namespace, names=["app-config"], connection_arguments={"kube_config_path": str(kubeconfig)}
    )
    tampers = [
        lambda: core.patch_namespaced_config_map("app-config", namespace, {"data": {"evil.conf": "x"}}),
        lambda: core.patch_namespaced_config_map("app-config", namespace, {"data": {"level": "debug"}}),
        lambda: core.delete_namespaced_config_map("app-config", namespace),
    ]

    def restore() -> None:
        try:
            current = core.read_namespaced_config_map("app-config", namespace)
        except k8s.ApiException:
            core.create_namespaced_config_map(namespace, configmap_body("app-config", DATA))
            return
        body = configmap_body("app-config", DATA)
        body["metadata"]["resourceVersion"] = current.metadata.resource_version
        core.replace_namespaced_config_map("app-config", namespace, body)

    latencies = []
    with watch_opened() as opened:
        events = trigger.run()
        waiter = asyncio.ensure_future(next_event(events))
        await opened.wait()
        for n in range(TAMPERS):
            started = time.perf_counter()
            await asyncio.to_thread(tampers[n % len(tampers)])
            await waiter
            latencies.append(time.perf_counter() - started)
            waiter = asyncio.ensure_future(next_event(events))
            await asyncio.to_thread(restore)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        await events.aclose()
    return latencies


def main() -> int:
    import logging

    from kubernetes import client as k8s

    from airflow_k8s_reconcile.testing.cluster import open_test_cluster

    logging.getLogger("airflow_k8s_reconcile").setLevel(logging.WARNING)
    with open_test_cluster(progress=lambda line: print(f"[cluster] {line}", file=sys.stderr)) as cluster:
        api = cluster.api_client()
        core = k8s.CoreV1Api(api)
        namespace = f"bench-drift-{cluster.run_id}"
        core.create_namespace({"metadata": {"name": namespace, "labels": cluster.labels}})
        try:
            latencies = asyncio.run(_measure(core, namespace, cluster.kubeconfig_path))
        finally:
            core.delete_namespace(namespace)
            api.close()
    ms = [value * 1000 for value in latencies]
    p95 = _percentile(latencies, 0.95)
    print(
        f"\nDrift-to-event latency of ConfigMapDriftEventTrigger ({len(ms)} tampers, Kubernetes {cluster.git_version})\n"
    )
    print("| tampers | p50 (ms) | p95 (ms) | max (ms) | mean (ms) | target p95 |")
    print("|---:|---:|---:|---:|---:|---|")
    print(
        f"| {len(ms)} | {statistics.median(ms):.1f} | {p95 * 1000:.1f} | {max(ms):.1f} | {statistics.fmean(ms):.1f} "
        f"| < {TARGET_P95 * 1000:.0f} ms: {'met' if p95 < TARGET_P95 else 'MISSED'} |"
    )
    return 0 if p95 < TARGET_P95 else 1


if __name__ == "__main__":
    sys.exit(main())
