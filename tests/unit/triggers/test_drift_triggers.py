"""The drift triggers and sensor without a cluster: serialisation round trip, import cost, AssetWatcher, RBAC."""

from __future__ import annotations

import subprocess
import sys

import pytest
from airflow.sdk import Asset, AssetWatcher
from airflow.triggers.base import BaseEventTrigger

from airflow_k8s_reconcile.domain.preflight.permissions import Permission
from airflow_k8s_reconcile.sensors.configmap_drift import K8sConfigMapDriftSensor
from airflow_k8s_reconcile.triggers.configmap_drift import ConfigMapDriftEventTrigger, ConfigMapDriftTrigger

ARGS = {
    "namespace": "jobs",
    "names": ["app-config"],
    "label_selector": "",
    "expectations": [{"name": "app-config", "content_sha256": "ab" * 32, "uid": "u1", "fingerprints": {"k": "sha256:1"}}],
    "inputs": [{"apiVersion": "drift.example.com/v1", "plural": "widgets", "namespace": "jobs", "name": "w",
                "generation": 2}],
    "resource_version": "42",
    "k8s_reconcile_conn_id": "k8s",
    "connection_arguments": {"request_timeout": 3.0},
    "watch_seconds": 60,
    "max_failures": 4,
}  # fmt: skip


@pytest.mark.parametrize("cls", [ConfigMapDriftTrigger, ConfigMapDriftEventTrigger])
def test_serialize_returns_every_constructor_argument_and_round_trips(cls) -> None:
    classpath, kwargs = cls(**ARGS).serialize()
    assert classpath == f"airflow_k8s_reconcile.triggers.configmap_drift.{cls.__name__}"
    assert set(kwargs) == set(ARGS)
    assert kwargs["expectations"][0]["namespace"] == "jobs"  # normalised once, stable after
    assert kwargs["inputs"][0]["group"] == "drift.example.com"
    again = cls(**kwargs).serialize()
    assert again == (classpath, kwargs)


def test_event_trigger_is_an_asset_watcher_with_a_stable_identity() -> None:
    trigger = ConfigMapDriftEventTrigger(namespace="jobs", names=["app-config"])
    asset = Asset("k8s-app-config", watchers=[AssetWatcher(name="app-config-drift", trigger=trigger)])
    assert asset.watchers[0].trigger is trigger
    assert isinstance(trigger, BaseEventTrigger)
    assert trigger.max_failures == 0  # an asset watcher outlives API server outages
    classpath, kwargs = trigger.serialize()
    assert BaseEventTrigger.hash(classpath, kwargs) == BaseEventTrigger.hash(
        *ConfigMapDriftEventTrigger(**kwargs).serialize()
    )


def test_a_trigger_must_know_what_to_watch() -> None:
    with pytest.raises(ValueError, match="names, a label_selector or expectations"):
        ConfigMapDriftTrigger(namespace="jobs")


@pytest.mark.parametrize(
    "module",
    ["airflow_k8s_reconcile.triggers.configmap_drift", "airflow_k8s_reconcile.sensors.configmap_drift"],
)
def test_importing_the_module_pulls_no_kubernetes_client_and_no_hooks(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'kubernetes', 'kubernetes_asyncio', 'aiohttp'}"
        " or m.startswith('airflow_k8s_reconcile.hooks'))\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == ""


def test_sensor_declares_get_list_watch_on_configmaps_and_each_input_resource() -> None:
    sensor = K8sConfigMapDriftSensor(task_id="s", namespace="jobs", names=["a"], inputs=ARGS["inputs"])
    verbs = ("get", "list", "watch")
    assert sensor.required_permissions == (
        Permission(verbs=verbs, resource="configmaps", namespace="jobs"),
        Permission(verbs=verbs, group="drift.example.com", resource="widgets", namespace="jobs"),
    )
    checks = [entry.checks("jobs") for entry in sensor.required_permissions]
    assert [check.verb for group in checks for check in group] == [*verbs, *verbs]


def test_sensor_declares_before_its_templated_report_is_rendered() -> None:
    # What `airflow-k8s-reconcile rbac` sees at parse time: the report is still its Jinja template.
    sensor = K8sConfigMapDriftSensor(
        task_id="s", namespace="jobs", report="{{ ti.xcom_pull(task_ids='ensure') }}"
    )
    assert sensor.required_permissions == (
        Permission(verbs=("get", "list", "watch"), resource="configmaps", namespace="jobs"),
    )
