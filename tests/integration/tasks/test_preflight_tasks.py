"""The preflight operator, the permission gate, the sensors and their trigger against the real local control plane.

The key scenario of the permission sensor: the identity lacks a permission, the sensor (or its trigger) waits, an
admin grants it meanwhile (here: the very YAML the preflight generated), and the wait ends.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import yaml
from airflow.sdk import BaseOperator
from kubernetes import client as k8s

from airflow_k8s_reconcile.compat import AirflowFailException, TaskDeferred
from airflow_k8s_reconcile.operators.preflight import K8sPreflightOperator
from airflow_k8s_reconcile.permissions import (
    Permission,
    PermissionPreflightMixin,
    PreflightCache,
    in_namespaces,
)
from airflow_k8s_reconcile.sensors.preflight import K8sApiReachableSensor, K8sPermissionSensor
from airflow_k8s_reconcile.triggers.preflight import K8sPreflightTrigger

CM = Permission(verbs=("get", "list"), resource="configmaps")


def _grant(admin, namespace: str, identity, rules) -> str:
    """Bind ``identity`` to a Role with ``rules`` in ``namespace`` (as the admin); return the binding's name."""
    rbac = k8s.RbacAuthorizationV1Api(admin)
    name = f"grant-{identity.name}"
    rbac.create_namespaced_role(namespace, {"metadata": {"name": name}, "rules": rules})
    rbac.create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": identity.name, "namespace": identity.namespace}],
        },
    )
    return name


def _apply(admin, rbac_yaml: str) -> None:
    rbac = k8s.RbacAuthorizationV1Api(admin)
    for doc in yaml.safe_load_all(rbac_yaml):
        ns = doc["metadata"]["namespace"]
        create = rbac.create_namespaced_role if doc["kind"] == "Role" else rbac.create_namespaced_role_binding
        create(ns, doc)


CM_RULES = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]


@pytest.fixture
def nobody_conn(k8s_identity, connection):
    identity = k8s_identity(rules=[])
    return identity, connection("pf_nobody", {"kube_config_path": str(identity.kubeconfig_path)})


def test_preflight_operator_fails_with_the_yaml_that_applied_turns_it_green(
    nobody_conn, k8s_namespace, k8s_admin
):
    identity, conn_id = nobody_conn
    op = K8sPreflightOperator(
        task_id="p",
        k8s_reconcile_conn_id=conn_id,
        permissions=["get,list:configmaps"],
        namespaces=[k8s_namespace],
    )
    with pytest.raises(AirflowFailException) as raised:
        op.execute(context={})
    message = str(raised.value)
    assert (
        f"{identity.username} cannot get or list configmaps in namespace {k8s_namespace}"
        in message.splitlines()[0]
    )
    assert identity.token not in message
    rbac_yaml = message[message.index("apiVersion:") : message.index("\n\nor run:")]
    _apply(k8s_admin, rbac_yaml)
    result = op.execute(context={})
    assert result["verdict"] in {"pass", "warn"}, result
    assert identity.token not in json.dumps(result)
    assert {(row["verb"], row["allowed"]) for row in result["permissions"]} == {("get", True), ("list", True)}


class ListConfigMaps(PermissionPreflightMixin, BaseOperator):
    """A minimal operator of the kind reconcile-ops writes: declares, gates, acts under the guard."""

    def __init__(self, *, conn_id: str, namespace: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.k8s_reconcile_conn_id = conn_id
        self.namespace = namespace

    @property
    def required_permissions(self):
        return in_namespaces([CM], [self.namespace])

    def execute(self, context):
        from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

        hook = K8sReconcileHook(self.k8s_reconcile_conn_id)
        self.preflight_before_acting(hook, context)
        with self.permission_denied_guard(), hook.diagnosed(f"list configmaps in {self.namespace}"):
            items = k8s.CoreV1Api(hook.get_conn()).list_namespaced_config_map(self.namespace).items
        return len(items)


def _act_until_denied(op) -> None:
    for _ in range(50):  # the authorizer sees the deleted binding within moments
        op.execute(context={})
        time.sleep(0.1)


def test_gate_caches_a_pass_and_a_runtime_403_drops_it(nobody_conn, k8s_namespace, k8s_admin, monkeypatch):
    identity, conn_id = nobody_conn
    monkeypatch.setattr(ListConfigMaps, "preflight_cache", PreflightCache(ttl=300))
    op = ListConfigMaps(task_id="l", conn_id=conn_id, namespace=k8s_namespace)
    with pytest.raises(AirflowFailException, match=f"{identity.username} cannot get or list configmaps"):
        op.execute(context={})
    name = _grant(k8s_admin, k8s_namespace, identity, CM_RULES)
    assert op.execute(context={}) >= 1  # kube-root-ca.crt
    assert len(op.preflight_cache) == 1
    k8s.RbacAuthorizationV1Api(k8s_admin).delete_namespaced_role_binding(name, k8s_namespace)
    # The cached pass lets the task act; the API server's 403 then fails it and drops the pass.
    with pytest.raises(AirflowFailException, match="RBAC_FORBIDDEN"):
        _act_until_denied(op)
    assert len(op.preflight_cache) == 0
    with pytest.raises(AirflowFailException, match=r"cannot get or list configmaps"):
        op.execute(context={})


def test_trigger_waits_until_the_permission_is_granted_then_fires(nobody_conn, k8s_namespace, k8s_admin):
    identity, conn_id = nobody_conn
    trigger = K8sPreflightTrigger(
        k8s_reconcile_conn_id=conn_id, permissions=[CM], namespaces=[k8s_namespace], poll_interval=0.3
    )

    async def scenario():
        waiting = asyncio.ensure_future(trigger.run().__anext__())
        await asyncio.sleep(2.0)
        assert not waiting.done()  # still polling: nothing granted yet
        await asyncio.to_thread(_grant, k8s_admin, k8s_namespace, identity, CM_RULES)
        return await asyncio.wait_for(waiting, timeout=30)

    event = asyncio.run(scenario()).payload
    assert event["status"] == "done", event["headline"]
    assert event["polls"] >= 3
    assert identity.token not in json.dumps(event)
    assert json.loads(json.dumps(event)) == event


def test_permission_sensor_poke_mode_waits_then_returns_the_report(nobody_conn, k8s_namespace, k8s_admin):
    identity, conn_id = nobody_conn
    sensor = K8sPermissionSensor(
        task_id="s",
        k8s_reconcile_conn_id=conn_id,
        permissions=["get,list:configmaps"],
        namespaces=[k8s_namespace],
        poke_interval=0.2,
        timeout=30,
    )
    assert sensor.poke({}).is_done is False
    _grant(k8s_admin, k8s_namespace, identity, CM_RULES)
    result = sensor.execute(context={})
    assert result["verdict"] in {"pass", "warn"}


def test_permission_sensor_deferrable_defers_then_completes_from_the_trigger(
    nobody_conn, k8s_namespace, k8s_admin
):
    identity, conn_id = nobody_conn
    sensor = K8sPermissionSensor(
        task_id="s",
        k8s_reconcile_conn_id=conn_id,
        permissions=["get,list:configmaps"],
        namespaces=[k8s_namespace],
        poke_interval=0.3,
        timeout=60,
        deferrable=True,
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context={})
    _, kwargs = deferred.value.trigger.serialize()
    trigger = K8sPreflightTrigger(**kwargs)  # what the triggerer rebuilds from the database
    _grant(k8s_admin, k8s_namespace, identity, CM_RULES)
    event = asyncio.run(trigger.run().__anext__()).payload
    result = sensor.execute_complete({}, event)
    assert result["verdict"] in {"pass", "warn"}


def test_api_reachable_sensor_poke_and_deferrable(nobody_conn, k8s_namespace):
    _, conn_id = nobody_conn
    poke = K8sApiReachableSensor(task_id="r", k8s_reconcile_conn_id=conn_id, poke_interval=0.2, timeout=10)
    assert poke.execute(context={})["verdict"] in {"pass", "warn"}
    trigger = K8sPreflightTrigger(
        k8s_reconcile_conn_id=conn_id, checks="fast", wait_for="api", poll_interval=0.2
    )
    event = asyncio.run(trigger.run().__anext__()).payload
    assert event["status"] == "done", event["headline"]


def test_api_reachable_trigger_keeps_waiting_while_nothing_listens(connection, tmp_path, k8s_identity):
    identity = k8s_identity(rules=[])
    text = identity.kubeconfig_path.read_text()
    server = yaml.safe_load(text)["clusters"][0]["cluster"]["server"]
    dead = tmp_path / "dead.kubeconfig"
    dead.write_text(text.replace(server, "https://127.0.0.1:9"))  # discard port: refused
    conn_id = connection("pf_dead", {"kube_config_path": str(dead)})
    trigger = K8sPreflightTrigger(
        k8s_reconcile_conn_id=conn_id, checks="fast", wait_for="api", poll_interval=0.2
    )

    async def first_within(seconds):
        return await asyncio.wait_for(trigger.run().__anext__(), timeout=seconds)

    with pytest.raises(TimeoutError):
        asyncio.run(first_within(3))
