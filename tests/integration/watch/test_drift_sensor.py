"""``K8sConfigMapDriftSensor`` on the real API server: poke mode, deferrable mode, and refusals that fail clearly."""

from __future__ import annotations

import asyncio
import json

import pytest
from watch_helpers import DATA, SECRET_VALUE, next_event, watch_opened

from airflow_k8s_reconcile.compat import AirflowFailException, TaskDeferred
from airflow_k8s_reconcile.domain.reconcile.desired.markers import content_hash
from airflow_k8s_reconcile.sensors.configmap_drift import K8sConfigMapDriftSensor
from airflow_k8s_reconcile.triggers.configmap_drift import ConfigMapDriftTrigger

READ_ONLY = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]


def _report(namespace: str, live: dict) -> dict:
    """A reconcile report as the reconcile task pushes it to XCom (the fields the sensor reads)."""
    return {
        "objects": [
            {
                "namespace": namespace,
                "name": live["metadata"]["name"],
                "status": "created",
                "uid": live["metadata"]["uid"],
                "hashes": {"desired": content_hash(DATA, {}, False), "live": "", "annotation": ""},
                "inputs": [],
            }
        ]
    }


def test_poke_mode_lists_once_per_poke_and_returns_the_drift(core, reconciled, k8s_namespace, admin_args):
    reconciled()
    sensor = K8sConfigMapDriftSensor(
        task_id="drift", namespace=k8s_namespace, names=["app-config"], connection_arguments=admin_args
    )
    assert sensor.poke({}).is_done is False
    core.patch_namespaced_config_map("app-config", k8s_namespace, {"data": {"password": "stolen"}})
    result = sensor.poke({})
    assert result.is_done is True
    (item,) = result.xcom_value["objects"]
    assert item["hash_mismatch"] is True
    assert "stolen" not in json.dumps(result.xcom_value)
    assert SECRET_VALUE not in json.dumps(result.xcom_value)


def test_poke_mode_takes_uid_and_hash_from_the_reconcile_report(core, reconciled, k8s_namespace, admin_args):
    live = reconciled()
    core.delete_namespaced_config_map("app-config", k8s_namespace)
    reconciled()  # recreated with the same content: only the uid recorded in the report tells
    sensor = K8sConfigMapDriftSensor(
        task_id="drift",
        namespace=k8s_namespace,
        report=_report(k8s_namespace, live),
        connection_arguments=admin_args,
    )
    result = sensor.poke({})
    assert result.is_done is True
    (item,) = result.xcom_value["objects"]
    assert item["uid_changed"] is True
    assert item["previous_uid"] == live["metadata"]["uid"]


def test_deferrable_mode_defers_to_the_watch_trigger_and_returns_its_summary(
    core, reconciled, k8s_namespace, admin_args
):
    live = reconciled()
    sensor = K8sConfigMapDriftSensor(
        task_id="drift",
        namespace=k8s_namespace,
        names=["app-config"],
        connection_arguments=admin_args,
        deferrable=True,
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, ConfigMapDriftTrigger)
    assert deferred.value.method_name == "execute_complete"
    # The uid the check saw travels with the trigger.
    assert trigger.expectations[0]["uid"] == live["metadata"]["uid"]
    classpath, kwargs = trigger.serialize()
    revived = ConfigMapDriftTrigger(**kwargs)  # as the triggerer rebuilds it

    async def run() -> dict:
        with watch_opened() as opened:
            events = revived.run()
            waiter = asyncio.ensure_future(next_event(events))
            await opened.wait()
            await asyncio.to_thread(core.delete_namespaced_config_map, "app-config", k8s_namespace)
            event = await waiter
            await events.aclose()
            return event.payload

    payload = asyncio.run(run())
    result = sensor.execute_complete({}, payload)
    assert classpath == "airflow_k8s_reconcile.triggers.configmap_drift.ConfigMapDriftTrigger"
    assert result["objects"][0]["missing"] is True
    assert result["objects"][0]["previous_uid"] == live["metadata"]["uid"]


def test_deferrable_mode_returns_at_once_when_already_drifted(core, reconciled, k8s_namespace, admin_args):
    reconciled()
    core.delete_namespaced_config_map("app-config", k8s_namespace)
    sensor = K8sConfigMapDriftSensor(
        task_id="drift",
        namespace=k8s_namespace,
        names=["app-config"],
        connection_arguments=admin_args,
        deferrable=True,
    )
    result = sensor.execute({})
    assert result["objects"][0]["missing"] is True


def test_missing_list_permission_fails_the_poke_clearly(reconciled, k8s_identity, k8s_namespace):
    reconciled()
    nobody = k8s_identity(rules=[])
    sensor = K8sConfigMapDriftSensor(
        task_id="drift",
        namespace=k8s_namespace,
        names=["app-config"],
        connection_arguments={"kube_config_path": str(nobody.kubeconfig_path)},
    )
    with pytest.raises(AirflowFailException, match="RBAC_FORBIDDEN") as failed:
        sensor.poke({})
    assert "list" in str(failed.value)
    assert "configmaps" in str(failed.value)


def test_missing_watch_permission_fails_the_deferred_sensor_clearly(reconciled, k8s_identity, k8s_namespace):
    """List is allowed, watch is not: the check passes, the trigger's watch is refused, the task fails."""
    reconciled()
    reader = k8s_identity(rules=READ_ONLY)
    arguments = {"kube_config_path": str(reader.kubeconfig_path)}
    sensor = K8sConfigMapDriftSensor(
        task_id="drift",
        namespace=k8s_namespace,
        names=["app-config"],
        connection_arguments=arguments,
        deferrable=True,
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})

    async def run() -> dict:
        events = deferred.value.trigger.run()
        event = await next_event(events)
        await events.aclose()
        return event.payload

    payload = asyncio.run(run())
    assert payload["status"] == "error"
    assert payload["transient"] is False
    assert payload["finding"]["code"] == "RBAC_FORBIDDEN"
    with pytest.raises(AirflowFailException, match="watch"):
        sensor.execute_complete({}, payload)
