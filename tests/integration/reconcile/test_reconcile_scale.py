"""Two reconcilers and a tamperer over many rounds; memory flat in the page size over 5,000 ConfigMaps."""

from __future__ import annotations

import random
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

from kubernetes.client.exceptions import ApiException
from reconcile_it import entry, hook_for, policy, raw, spec, statuses, versions

from airflow_k8s_reconcile.domain.reconcile.desired.markers import (
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    OWNER_ANNOTATION,
)

ALLOWED = {"unchanged", "created", "updated", "restored", "pruned", "failed", "conflict"}


def test_two_reconcilers_and_a_tamperer_end_desired_and_spare_foreign_objects(
    k8s_cluster, core, k8s_namespace
):
    specs = [spec(k8s_namespace, f"cm-{i}", data={"k": str(i), "shared": "ours"}) for i in range(8)]
    core.create_namespaced_config_map(
        k8s_namespace, {"metadata": {"name": "foreign"}, "data": {"x": "theirs"}}
    )
    hook_for(k8s_cluster.kubeconfig_path).reconcile(
        [spec(k8s_namespace, "others")], policy(owner="other/owner")
    )
    spared = {name: rv for name, rv in versions(core, k8s_namespace).items() if name in {"foreign", "others"}}
    stop = threading.Event()
    reports: list[dict] = []
    tampers = 0

    def tamperer():
        nonlocal tampers
        chance = random.Random(7)  # noqa: S311 - test data, not cryptography
        while not stop.is_set():
            name = (
                f"cm-{chance.randrange(3)}"  # a few hot objects, so one manager rewrites them again and again
            )
            try:
                if chance.random() < 0.2:
                    core.delete_namespaced_config_map(name, k8s_namespace)
                else:
                    data = {"shared": f"t{tampers}", "injected": "1"}
                    core.patch_namespaced_config_map(
                        name, k8s_namespace, {"data": data}, field_manager="tamperer"
                    )
                tampers += 1
            except ApiException as err:
                if err.status != 404:  # a 404 means deleted a moment ago; fine
                    raise
            time.sleep(0.15)

    def reconciler():
        hook = hook_for(k8s_cluster.kubeconfig_path)
        previous = None
        while not stop.is_set():
            report = hook.reconcile(
                specs, policy(prune=True, flap_threshold=1000), previous_report=previous
            ).report
            assert {item["status"] for item in report["objects"]} <= ALLOWED
            reports.append(report)
            previous = report
        hook.close()

    with ThreadPoolExecutor(max_workers=3) as pool:
        running = [pool.submit(tamperer), pool.submit(reconciler), pool.submit(reconciler)]
        time.sleep(8)
        stop.set()
        for future in running:
            future.result()
    assert tampers >= 20
    assert len(reports) >= 6
    final = (
        hook_for(k8s_cluster.kubeconfig_path).reconcile(specs, policy(prune=True, flap_threshold=1000)).report
    )
    assert final["summary"]["in_sync"] is True
    for item in specs:
        assert raw(core, k8s_namespace, item.name)["data"] == dict(item.data)
    after = versions(core, k8s_namespace)
    assert {name: after[name] for name in spared} == spared  # never deleted nor overwritten
    # Flap protection: the rewrites the reconcilers saw, handed to the next run, stop it restoring a hot object.
    history = {"objects": [], "rewrites": [r for report in reports for r in report["rewrites"]]}
    seen = {}
    for rewrite in history["rewrites"]:
        seen.setdefault(rewrite["name"], set()).add(rewrite["time"])
    hot = max(seen, key=lambda name: len(seen[name]))
    assert len(seen[hot]) >= 3
    core.patch_namespaced_config_map(
        hot, k8s_namespace, {"data": {"shared": "again"}}, field_manager="tamperer"
    )
    flapped = hook_for(k8s_cluster.kubeconfig_path).reconcile(
        specs, policy(flap_threshold=2), previous_report=history
    )
    assert entry(flapped.report, hot)["status"] == "failed"
    assert "'tamperer' rewrote" in str(entry(flapped.report, hot)["findings"])
    assert raw(core, k8s_namespace, hot)["data"]["shared"] == "again"


def _bulk(core, namespace: str, count: int) -> None:
    labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
    annotations = {OWNER_ANNOTATION: "bulk/owner"}
    filler = "x" * 900

    def create(i: int) -> None:
        body = {
            "metadata": {"name": f"bulk-{i:05d}", "labels": labels, "annotations": annotations},
            "data": {"v": filler},
        }
        core.create_namespaced_config_map(namespace, body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(count)))


def _peak(work) -> int:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_follows_the_page_size_not_the_object_count(hook, core, k8s_namespace):
    _bulk(core, k8s_namespace, 5000)
    hook.get_conn()
    whole = _peak(lambda: hook.list_configmaps(k8s_namespace, limit=500))
    streamed = {}

    def stream(limit: int) -> None:
        assert sum(len(page.items) for page in hook.iter_configmap_pages(k8s_namespace, limit=limit)) == 5000

    for limit in (250, 500):
        streamed[limit] = _peak(lambda limit=limit: stream(limit))
    assert streamed[500] * 3 < whole, (streamed, whole)  # one page held at a time, not 5,000 objects
    assert streamed[250] < streamed[500] * 0.75, streamed  # and halving the page roughly halves the peak
    specs = [spec(k8s_namespace, f"mine-{i}") for i in range(10)]
    reconciled = _peak(lambda: hook.reconcile(specs, policy(), page_size=250, emit_events=False))
    assert reconciled * 3 < whole, (reconciled, whole)
    report = hook.reconcile(specs, policy(), page_size=500).report
    assert set(statuses(report).values()) == {"unchanged"}
    assert report["requests"] == {"list": 11}  # 5,010 labelled objects in pages of 500
