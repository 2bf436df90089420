"""The sensors (poke and deferrable) and their trigger, with fake hooks through the protocols."""

from __future__ import annotations

import asyncio
import json

import pytest
from fake_preflight import CAUSE, YAML, AsyncFakeHook, FakeHook, broken, granted, missing, refused

from airflow_k8s_reconcile.compat import AirflowFailException, TaskDeferred
from airflow_k8s_reconcile.permissions import Permission
from airflow_k8s_reconcile.sensors.preflight import K8sApiReachableSensor, K8sPermissionSensor
from airflow_k8s_reconcile.triggers.preflight import K8sPreflightTrigger

CM = Permission(verbs=("get", "list"), resource="configmaps")
CLASSPATH = "airflow_k8s_reconcile.triggers.preflight.K8sPreflightTrigger"


def _sensor(cls=K8sPermissionSensor, hook=None, **kwargs):
    if cls is K8sPermissionSensor:
        kwargs.setdefault("permissions", ["get,list:configmaps"])
    kwargs.setdefault("poke_interval", 0)
    sensor = cls(task_id="s", namespaces=["jobs"], timeout=5, **kwargs)
    sensor.get_hook = lambda: hook
    return sensor


def _first_event(trigger, hook):
    trigger.get_hook = lambda: hook

    async def first():
        return await trigger.run().__anext__()

    return asyncio.run(first()).payload


def test_permission_sensor_pokes_the_rbac_stage_until_granted_and_returns_the_report():
    hook = FakeHook(missing(), refused(), granted())
    result = _sensor(hook=hook).execute(context={})
    assert result["verdict"] == "pass"
    assert [call["checks"] for call in hook.calls] == ["rbac"] * 3
    assert hook.calls[0]["permissions"] == (CM,)
    assert hook.calls[0]["namespaces"] == ("jobs",)


def test_permission_sensor_fails_at_once_when_waiting_cannot_help():
    hook = FakeHook(broken())
    with pytest.raises(AirflowFailException, match="/nope does not exist"):
        _sensor(hook=hook).execute(context={})
    assert len(hook.calls) == 1


def test_reachable_sensor_waits_through_outages_but_not_through_missing_permissions():
    hook = FakeHook(refused(), refused(), granted())
    assert _sensor(K8sApiReachableSensor, hook=hook).execute(context={})["verdict"] == "pass"
    assert [call["checks"] for call in hook.calls] == ["fast"] * 3
    assert hook.calls[0]["permissions"] == ()
    with pytest.raises(AirflowFailException, match=CAUSE):
        _sensor(K8sApiReachableSensor, hook=FakeHook(missing())).execute(context={})


def test_deferrable_sensor_returns_without_deferring_when_already_granted():
    hook = FakeHook(granted())
    assert _sensor(hook=hook, deferrable=True).execute(context={})["verdict"] == "pass"


def test_deferrable_sensor_defers_to_the_trigger_and_completes_from_its_event():
    sensor = _sensor(hook=FakeHook(missing()), deferrable=True, poke_interval=7)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context={})
    trigger = deferred.value.trigger
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout.total_seconds() == 5
    assert trigger.serialize() == (
        CLASSPATH,
        {
            "k8s_reconcile_conn_id": "k8s_reconcile_default",
            "permissions": [
                {
                    "verbs": ["get", "list"],
                    "group": "",
                    "resource": "configmaps",
                    "subresource": "",
                    "namespace": "",
                    "resource_name": "",
                    "url": "",
                }
            ],
            "namespaces": ["jobs"],
            "checks": "rbac",
            "wait_for": "permissions",
            "poll_interval": 7.0,
        },
    )
    event = _first_event(trigger, AsyncFakeHook(granted()))
    assert sensor.execute_complete({}, event)["verdict"] == "pass"


def test_execute_complete_fails_with_the_remediation_of_a_failed_event():
    trigger = K8sPreflightTrigger(permissions=[CM], wait_for="api", poll_interval=0)
    event = _first_event(trigger, AsyncFakeHook(missing()))
    assert event["status"] == "failed"
    with pytest.raises(AirflowFailException, match=CAUSE) as raised:
        _sensor().execute_complete({}, event)
    assert YAML.rstrip() in str(raised.value)


def test_trigger_round_trips_through_serialize():
    trigger = K8sPreflightTrigger(
        k8s_reconcile_conn_id="c",
        permissions=[CM, Permission(verbs=("get",), resource="pods", subresource="log", namespace="x")],
        namespaces=["a", "b"],
        checks="fast",
        wait_for="api",
        poll_interval=3,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == CLASSPATH
    assert json.loads(json.dumps(kwargs)) == kwargs  # stored as JSON in the trigger table
    again = K8sPreflightTrigger(**kwargs)
    assert again.serialize() == (classpath, kwargs)
    assert again.permissions == trigger.permissions


def test_trigger_polls_with_its_interval_until_granted_and_the_event_is_secret_free():
    hook = AsyncFakeHook(missing(), refused(), granted())
    event = _first_event(K8sPreflightTrigger(permissions=[CM], namespaces=["jobs"], poll_interval=0), hook)
    assert event["status"] == "done"
    assert event["polls"] == 3
    assert set(event) == {"status", "verdict", "headline", "message", "report", "polls"}
    assert json.loads(json.dumps(event)) == event


def test_a_template_in_permissions_is_validated_when_rendered_not_at_parse():
    sensor = _sensor(hook=FakeHook(granted()), permissions=["{{ params.spec }}"])
    with pytest.raises(AirflowFailException, match="Invalid permission SPEC"):
        sensor.execute(context={})


def test_required_permissions_of_the_sensors():
    assert [(p.resource, p.namespace) for p in _sensor().required_permissions] == [("configmaps", "jobs")]
    assert _sensor(K8sApiReachableSensor).required_permissions == ()
