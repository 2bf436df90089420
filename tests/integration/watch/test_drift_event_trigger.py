"""``ConfigMapDriftEventTrigger`` keeps watching after it fires: one event per tamper, none for the restores.

This is the AssetWatcher case: each event schedules a DAG that restores the ConfigMap. The restore (rewriting the
content with a matching hash annotation, or recreating a deleted object, which gives it a new uid) must not be
reported as another tamper, or the DAG would chase its own writes.
"""

from __future__ import annotations

import asyncio
import json

from kubernetes import client as k8s
from watch_helpers import DATA, SECRET_VALUE, configmap_body, next_event, watch_opened

from airflow_k8s_reconcile.triggers.configmap_drift import ConfigMapDriftEventTrigger


def test_event_trigger_fires_for_each_tamper_and_not_for_the_restores(
    core, reconciled, k8s_namespace, admin_args
):
    reconciled()
    trigger = ConfigMapDriftEventTrigger(
        namespace=k8s_namespace, names=["app-config"], connection_arguments=admin_args
    )

    def restore() -> None:
        try:
            current = core.read_namespaced_config_map("app-config", k8s_namespace)
        except k8s.ApiException:
            core.create_namespaced_config_map(k8s_namespace, configmap_body("app-config", DATA))
            return
        body = configmap_body("app-config", DATA)
        body["metadata"]["resourceVersion"] = current.metadata.resource_version
        core.replace_namespaced_config_map("app-config", k8s_namespace, body)

    tampers = [
        lambda: core.patch_namespaced_config_map("app-config", k8s_namespace, {"data": {"evil.conf": "x"}}),
        lambda: core.delete_namespaced_config_map("app-config", k8s_namespace),
        lambda: core.patch_namespaced_config_map("app-config", k8s_namespace, {"data": {"level": "debug"}}),
    ]

    async def scenario() -> tuple[list[dict], bool]:
        payloads = []
        with watch_opened() as opened:
            events = trigger.run()
            waiter = asyncio.ensure_future(next_event(events))
            await opened.wait()
            for tamper in tampers:
                await asyncio.to_thread(tamper)
                payloads.append((await waiter).payload)
                waiter = asyncio.ensure_future(next_event(events))
                await asyncio.to_thread(restore)  # what the event-driven DAG does
            await asyncio.sleep(2)  # a restore that fired would show up by now
            extra = waiter.done()
            waiter.cancel()
            await asyncio.gather(waiter, return_exceptions=True)
            await events.aclose()
        return payloads, extra

    payloads, extra = asyncio.run(scenario())
    assert extra is False, "a restore was reported as a tamper"
    assert len(payloads) == 3
    added, deleted, edited = (payload["objects"][0] for payload in payloads)
    assert added["hash_mismatch"] is True
    assert deleted["missing"] is True
    assert edited["hash_mismatch"] is True
    assert edited["uid"] != added["uid"]  # recreated by the restore
    assert edited["previous_uid"] == edited["uid"]  # whose uid became the baseline: no uid change reported
    assert edited["uid_changed"] is False
    assert all(p["source"] == "watch" for p in payloads)
    assert SECRET_VALUE not in json.dumps(payloads)
