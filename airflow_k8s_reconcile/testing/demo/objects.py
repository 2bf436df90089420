"""What the demo (and the example DAGs' tests) put in the cluster, and how they tamper with it.

The ``Tenant`` custom resource ``generate_from_custom_resources`` renders from, a few tenants, the least-privilege
rules the example DAGs' tasks declare (granted to a ServiceAccount, so the DAGs run as a real restricted worker
would), and three tampers a person or a broken script commits: delete a ConfigMap, insert a key, edit a value.
The tampers write with their own field manager, so the reconcile report names who did it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

GROUP = "examples.airflow-k8s-reconcile.io"
VERSION = "v1"
PLURAL = "tenants"
TAMPERER = "kubectl-edit"
"""The field manager the tampers write with (what ``kubectl edit`` uses), named by the reconcile report."""

TENANTS = {"acme": {"tier": "gold", "quota": 50}, "globex": {"tier": "silver", "quota": 20}}
"""The tenants created in every demo namespace."""

RULES: list[dict[str, Any]] = [
    # What the example DAGs' tasks declare (required_permissions): reconcile and prune ConfigMaps, watch them for
    # drift, post DriftDetected/DriftCorrected Events, and read the Tenants (delete: an ownerReference with
    # blockOwnerDeletion needs it on the owner).
    {
        "apiGroups": [""],
        "resources": ["configmaps"],
        "verbs": ["get", "list", "watch", "create", "patch", "delete"],
    },
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["create"]},
    {"apiGroups": [GROUP], "resources": [PLURAL], "verbs": ["get", "list", "delete"]},
]


def ensure_crd(admin: Any) -> bool:
    """Create the ``tenants.<GROUP>`` CRD unless it exists and wait until it is served; return whether created."""
    from kubernetes import client as k8s
    from kubernetes.client.exceptions import ApiException

    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    body = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{PLURAL}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": PLURAL, "singular": "tenant", "kind": "Tenant"},
            "versions": [{"name": VERSION, "served": True, "storage": True, "schema": schema}],
        },
    }
    ext = k8s.ApiextensionsV1Api(admin)
    try:
        ext.create_custom_resource_definition(body)
        created = True
    except ApiException as err:
        if err.status != 409:
            raise
        created = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        conditions = ext.read_custom_resource_definition(f"{PLURAL}.{GROUP}").status.conditions or []
        if any(c.type == "Established" and c.status == "True" for c in conditions):
            return created
        time.sleep(0.1)
    raise RuntimeError(f"CRD {PLURAL}.{GROUP} not established after 30 s")


def create_tenants(admin: Any, namespace: str, tenants: Mapping[str, Mapping[str, Any]] = TENANTS) -> None:
    """Create ``Tenant`` objects in ``namespace``."""
    from kubernetes import client as k8s

    custom = k8s.CustomObjectsApi(admin)
    for name, spec in tenants.items():
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "Tenant",
            "metadata": {"name": name},
            "spec": dict(spec),
        }
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)


def delete_tenant_orphaning(admin: Any, namespace: str, name: str) -> None:
    """Delete a tenant but leave its ConfigMap (``--cascade=orphan``): only the DAG's prune removes it then."""
    from kubernetes import client as k8s

    k8s.CustomObjectsApi(admin).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name, body=k8s.V1DeleteOptions(propagation_policy="Orphan")
    )
    wait_until(lambda: name not in tenant_names(admin, namespace), f"tenant {namespace}/{name} deleted")
    # The garbage collector removes the ownerReference of an orphaned dependent; wait for it to settle.
    wait_until(
        lambda: not (configmap(admin, namespace, f"{name}-tenant-config") or {}).get("ownerReferences"),
        f"ConfigMap {namespace}/{name}-tenant-config orphaned",
    )


def tenant_names(admin: Any, namespace: str) -> set[str]:
    """Return the names of the tenants in ``namespace``."""
    from kubernetes import client as k8s

    listed = k8s.CustomObjectsApi(admin).list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL)
    return {item["metadata"]["name"] for item in listed["items"]}


def configmap(admin: Any, namespace: str, name: str) -> dict[str, Any] | None:
    """Return ``{"data", "uid", "ownerReferences", "annotations"}`` of a live ConfigMap, or ``None`` if absent."""
    from kubernetes import client as k8s
    from kubernetes.client.exceptions import ApiException

    try:
        live = k8s.CoreV1Api(admin).read_namespaced_config_map(name, namespace)
    except ApiException as err:
        if err.status == 404:
            return None
        raise
    return {
        "data": dict(live.data or {}),
        "uid": live.metadata.uid,
        "ownerReferences": [ref.name for ref in live.metadata.owner_references or ()],
        "annotations": dict(live.metadata.annotations or {}),
    }


def delete_configmap(admin: Any, namespace: str, name: str) -> None:
    """Tamper: delete the ConfigMap."""
    from kubernetes import client as k8s

    k8s.CoreV1Api(admin).delete_namespaced_config_map(name, namespace)
    wait_until(lambda: configmap(admin, namespace, name) is None, f"ConfigMap {namespace}/{name} deleted")


def patch_data(admin: Any, namespace: str, name: str, data: Mapping[str, str]) -> None:
    """Tamper: add or change keys, as ``kubectl edit`` would (field manager :data:`TAMPERER`)."""
    from kubernetes import client as k8s

    k8s.CoreV1Api(admin).patch_namespaced_config_map(
        name, namespace, {"data": dict(data)}, field_manager=TAMPERER
    )


def wait_until(condition: Any, what: str, timeout: float = 60.0) -> None:
    """Wait until ``condition()`` is true.

    :raises TimeoutError: naming ``what`` when it does not happen in time.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for: {what}")
        time.sleep(0.2)


def namespace_rules(namespaces: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Return :data:`RULES` for each namespace (the ``namespace_rules`` of an identity)."""
    return {ns: RULES for ns in namespaces}
