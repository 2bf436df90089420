"""Helpers for the reconcile integration tests (a plain module with a unique name, not a conftest)."""

from __future__ import annotations

from datetime import timedelta

from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec
from airflow_k8s_reconcile.domain.reconcile.policy import Mode, OnForeign, Policy
from airflow_k8s_reconcile.hooks.arguments import ConnectionFields
from airflow_k8s_reconcile.hooks.configmaps import K8sConfigMapHook

OWNER = "dag/task"


def hook_for(kubeconfig_path, **arguments) -> K8sConfigMapHook:
    """Return a ConfigMap hook on a kubeconfig file, with no Airflow connection lookup."""
    fields = ConnectionFields("<test>", "k8s_reconcile", {}, found=False)
    return K8sConfigMapHook(
        connection_fields=fields,
        auth_mode="kubeconfig_file",
        kube_config_path=str(kubeconfig_path),
        **arguments,
    )


def spec(namespace: str, name: str = "app", **kwargs) -> ConfigMapSpec:
    kwargs.setdefault("data", {"a": "1", "b": "2"})
    return ConfigMapSpec(name=name, namespace=namespace, **kwargs)


def policy(**kwargs) -> Policy:
    """Return a policy; ``mode`` and ``on_foreign`` may be given as text, as operators and the CLI take them."""
    kwargs.setdefault("owner", OWNER)
    kwargs["mode"] = Mode(kwargs.get("mode", "enforce"))
    kwargs["on_foreign"] = OnForeign(kwargs.get("on_foreign", "fail"))
    kwargs.setdefault("flap_window", timedelta(hours=1))
    return Policy(**kwargs)


def statuses(report) -> dict[str, str]:
    return {entry["name"]: entry["status"] for entry in report["objects"]}


def entry(report, name: str) -> dict:
    (found,) = [item for item in report["objects"] if item["name"] == name]
    return found


def codes(report, name: str | None = None) -> set[str]:
    items = report["findings"] if name is None else entry(report, name)["findings"]
    return {item["code"] for item in items}


def raw(core, namespace: str, name: str) -> dict:
    """Return the live object as the API's JSON (the shape the hook reads)."""
    return core.api_client.sanitize_for_serialization(core.read_namespaced_config_map(name, namespace))


def versions(core, namespace: str) -> dict[str, str]:
    """Return ``{name: resourceVersion}`` of every ConfigMap in the namespace but the CA bundle Kubernetes adds."""
    items = core.list_namespaced_config_map(namespace).items
    return {
        cm.metadata.name: cm.metadata.resource_version
        for cm in items
        if cm.metadata.name != "kube-root-ca.crt"
    }
