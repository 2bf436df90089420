"""Nothing is missed across a real 410 Expired or a dropped connection: the watch re-lists and compares.

The 410 is the real API server's: a watch from resourceVersion 1 is older than anything its watch cache holds
(``too old resource version``), exactly what a watcher resuming after a long absence meets. The dropped connection
is real too: a loopback relay between the client and the API server cuts the TLS session mid-watch and refuses new
connections while the ConfigMap is tampered with, then lets them through again.
"""

from __future__ import annotations

import asyncio

from watch_helpers import DATA, GROUP, PLURAL, VERSION, next_event, watch_opened

from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec
from airflow_k8s_reconcile.domain.reconcile.drift.watch import expectation_from_spec
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook
from airflow_k8s_reconcile.hooks.watch import ResourceWatch, WatchTarget
from airflow_k8s_reconcile.triggers.configmap_drift import ConfigMapDriftTrigger

EVIL = {"data": {"evil.conf": "x"}}


def _expectation(namespace: str, uid: str) -> dict:
    spec = ConfigMapSpec(name="app-config", namespace=namespace, data=DATA)
    return {**expectation_from_spec(spec).to_dict(), "uid": uid}


def _widget(widgets, namespace: str, name: str = "w1") -> dict:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": 1},
    }
    return widgets.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)


def test_a_real_410_makes_the_watch_relist_and_deliver_the_current_state(widgets, k8s_namespace, admin_args):
    """The API server answers a watch older than its watch cache with an ERROR event: 410, reason Expired."""
    created = _widget(widgets, k8s_namespace)
    hook = AsyncK8sReconcileHook(**admin_args)
    target = WatchTarget(PLURAL, GROUP, VERSION, k8s_namespace)

    async def scenario() -> tuple[list, ResourceWatch]:
        # The CRD's watch cache started long after resourceVersion 1 (etcd's revision was already high).
        watch = ResourceWatch(hook, target, resource_version="1")
        seen = []
        async with hook:
            async for event in watch.events():
                seen.append(event)
                if event.type == "LISTED":
                    break
        return seen, watch

    seen, watch = asyncio.run(scenario())
    assert watch.stats.expired == 1, watch.stats
    assert watch.stats.lists == 1
    assert [(e.type, e.from_list) for e in seen] == [("ADDED", True), ("LISTED", True)]
    assert seen[0].object["metadata"]["uid"] == created["metadata"]["uid"]


def test_trigger_resuming_from_a_too_old_resource_version_still_sees_the_input_change(
    reconciled, widgets, k8s_namespace, admin_args
):
    """Resumed from a resourceVersion the server has forgotten: 410, re-list, and the change made meanwhile fires."""
    reconciled()
    _widget(widgets, k8s_namespace)
    widgets.patch_namespaced_custom_object(GROUP, VERSION, k8s_namespace, PLURAL, "w1", {"spec": {"size": 2}})
    inputs = [{"group": GROUP, "version": VERSION, "plural": PLURAL, "namespace": k8s_namespace, "name": "w1",
               "generation": 1}]  # fmt: skip
    trigger = ConfigMapDriftTrigger(
        namespace=k8s_namespace,
        names=["app-config"],
        inputs=inputs,
        resource_version="1",
        connection_arguments=admin_args,
    )

    async def first() -> dict:
        events = trigger.run()
        event = await next_event(events)
        await events.aclose()
        return event.payload

    payload = asyncio.run(first())
    (item,) = payload["inputs"]
    assert (item["change"], item["previous_generation"], item["generation"]) == ("generation", 1, 2)
    assert payload["source"] == "list"  # the re-list after the 410, not a replayed watch event


def test_trigger_resuming_from_a_valid_resource_version_replays_a_tamper_already_undone(
    core, reconciled, k8s_namespace, admin_args
):
    """From the reconcile's resourceVersion, a tamper that was reverted before the trigger started still fires."""
    live = reconciled()
    since = live["metadata"]["resourceVersion"]
    core.patch_namespaced_config_map("app-config", k8s_namespace, EVIL)
    core.patch_namespaced_config_map(
        "app-config", k8s_namespace, [{"op": "remove", "path": "/data/evil.conf"}]
    )
    trigger = ConfigMapDriftTrigger(
        namespace=k8s_namespace,
        expectations=[_expectation(k8s_namespace, live["metadata"]["uid"])],
        resource_version=since,
        connection_arguments=admin_args,
    )

    async def first() -> dict:
        events = trigger.run()
        event = await next_event(events)
        await events.aclose()
        return event.payload

    payload = asyncio.run(first())
    assert payload["objects"][0]["added"] == ["evil.conf"]
    assert payload["source"] == "watch"
    assert core.read_namespaced_config_map("app-config", k8s_namespace).data == DATA


def _through(relay, admin_args: dict) -> dict:
    return {**admin_args, "api_server": f"https://127.0.0.1:{relay.port}", "request_timeout": 2.0}


def test_a_dropped_connection_relists_and_catches_the_change_made_meanwhile(
    core, reconciled, k8s_namespace, admin_args, relay
):
    live = reconciled()
    hook = AsyncK8sReconcileHook(**_through(relay, admin_args))

    async def scenario() -> tuple[list, ResourceWatch]:
        watch = ResourceWatch(hook, WatchTarget(namespace=k8s_namespace))
        seen = []
        async with hook:
            events = watch.events()

            async def until_listed() -> None:
                while (event := await next_event(events)).type != "LISTED":
                    seen.append(event)

            with watch_opened() as opened:
                await until_listed()
                after = asyncio.ensure_future(
                    until_listed()
                )  # keeps the generator running: it opens the watch
                await opened.wait()
                await asyncio.sleep(0.3)
                relay.cut()
                await asyncio.to_thread(core.patch_namespaced_config_map, "app-config", k8s_namespace, EVIL)
                await asyncio.sleep(1.5)  # a few refused reconnects, backing off
                relay.restore()
                await after
            await events.aclose()
        return seen, watch

    seen, watch = asyncio.run(scenario())
    assert watch.stats.drops >= 1, watch.stats
    assert watch.stats.lists >= 2
    modified = [e for e in seen if e.type == "MODIFIED"]
    assert len(modified) == 1
    assert modified[0].from_list is True
    assert "evil.conf" in modified[0].object["data"]
    assert modified[0].object["metadata"]["uid"] == live["metadata"]["uid"]


def test_trigger_survives_a_dropped_connection_and_fires_on_the_change_made_meanwhile(
    core, reconciled, k8s_namespace, admin_args, relay
):
    reconciled()
    trigger = ConfigMapDriftTrigger(
        namespace=k8s_namespace, names=["app-config"], connection_arguments=_through(relay, admin_args)
    )

    async def scenario() -> dict:
        with watch_opened() as opened:
            events = trigger.run()
            waiter = asyncio.ensure_future(next_event(events))
            await opened.wait()
            await asyncio.sleep(0.3)
            relay.cut()
            await asyncio.to_thread(core.delete_namespaced_config_map, "app-config", k8s_namespace)
            await asyncio.sleep(1.5)
            assert not waiter.done()
            relay.restore()
            event = await waiter
            await events.aclose()
            return event.payload

    payload = asyncio.run(scenario())
    assert payload["objects"][0]["missing"] is True
    assert payload["source"] == "list"
