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
    name = f"{PLURAL}.{GROUP}"
    # Another test module may have just deleted the same CRD: creating over a terminating one "succeeds" (409
    # suppressed) and the resource then vanishes mid-test (404). Wait until it is gone, then create a fresh one.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if ext.read_custom_resource_definition(name).metadata.deletion_timestamp is None:
                break
        except k8s.ApiException as err:
            if err.status == 404:
                break
            raise
        time.sleep(0.2)
    with contextlib.suppress(k8s.ApiException):
        ext.create_custom_resource_definition(body)
    objects = k8s.CustomObjectsApi(api_client)
    while time.monotonic() < deadline:
        crd = ext.read_custom_resource_definition(name)
        if any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or ()):
            try:  # Established is set before every API server handler serves the new path
                objects.list_cluster_custom_object(GROUP, VERSION, PLURAL, limit=1)
                break
            except k8s.ApiException as err:
                if err.status != 404:
                    raise
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
