"""Fixtures of the watch tests: admin access, reconciled-looking ConfigMaps, a CRD for inputs, a TCP relay."""

from __future__ import annotations

import contextlib
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s
from watch_helpers import DATA, GROUP, PLURAL, VERSION, Relay, configmap_body


@pytest.fixture
def core(k8s_admin) -> k8s.CoreV1Api:
    return k8s.CoreV1Api(k8s_admin)


@pytest.fixture
def admin_args(k8s_cluster) -> dict[str, Any]:
    """Connection arguments for the admin identity (no Airflow connection needed)."""
    return {"kube_config_path": str(k8s_cluster.kubeconfig_path), "request_timeout": 5.0}


@pytest.fixture
def reconciled(core, k8s_namespace):
    """Create a reconciled-looking ConfigMap; return its dict as the API returned it."""

    def create(name: str = "app-config", data: dict[str, str] | None = None) -> dict[str, Any]:
        created = core.create_namespaced_config_map(k8s_namespace, configmap_body(name, data or DATA))
        return core.api_client.sanitize_for_serialization(created)

    return create


@pytest.fixture(scope="module")
def widget_crd(k8s_cluster) -> Iterator[None]:
    """Install a namespaced CRD ``widgets.drift.example.com`` (with a status subresource) for input tests."""
    api_client = k8s_cluster.api_client()
    ext = k8s.ApiextensionsV1Api(api_client)
    body = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }
    with contextlib.suppress(k8s.ApiException):
        ext.create_custom_resource_definition(body)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        crd = ext.read_custom_resource_definition(f"{PLURAL}.{GROUP}")
        if any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or ()):
            break
        time.sleep(0.2)
    yield
    with contextlib.suppress(k8s.ApiException):
        ext.delete_custom_resource_definition(f"{PLURAL}.{GROUP}")
    api_client.close()


@pytest.fixture
def widgets(k8s_admin, k8s_namespace, widget_crd) -> k8s.CustomObjectsApi:
    return k8s.CustomObjectsApi(k8s_admin)


@pytest.fixture
def relay(k8s_cluster) -> Iterator[Relay]:
    url = urllib.parse.urlsplit(k8s_cluster.server)
    proxy = Relay((url.hostname or "127.0.0.1", url.port or 443))
    yield proxy
    proxy.close()
