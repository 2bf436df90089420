"""The operator pattern in a DAG: one ConfigMap per custom resource instance, in every namespace, kept in sync.

Scenario: teams declare ``Tenant`` objects (a custom resource, ``tenants.<group>``); each tenant's services read a
ConfigMap ``<tenant>-tenant-config`` derived from it. A run lists the tenants of each namespace, renders one
ConfigMap per tenant (``render_tenant``), reconciles them (creates what is missing, restores deleted or edited
ones, removes keys nobody declared), and prunes the ConfigMaps of tenants that were deleted. Each ConfigMap is
owned by its Tenant (a controller ``ownerReference``), so Kubernetes' garbage collector removes it with the tenant
even between runs; the prune covers ConfigMaps whose tenant was deleted with ``--cascade=orphan``.

Namespaces are processed by dynamic task mapping: ``namespaces`` returns one set of arguments per namespace and
``generate`` (``K8sGenerateConfigMapsOperator.partial(...).expand_kwargs(...)``) runs once per namespace, so one
namespace's failure (a missing permission, say) does not hide the others' results. ``summary`` gathers the
mapped reports into one XCom.

Settings: ``K8S_RECONCILE_CONN_ID`` (environment, default ``k8s_reconcile_default``); params ``namespaces``
(default: ``K8S_RECONCILE_NAMESPACES``, comma-separated, or ``default``), ``group`` (default
``examples.airflow-k8s-reconcile.io``), ``version`` (``v1``), ``plural`` (``tenants``).
``make demo`` creates the CRD and a few tenants; on a real cluster, apply your own CRD (any namespaced one works
with its own ``render_tenant``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from airflow.sdk import Param, dag, task

from airflow_k8s_reconcile.operators import K8sGenerateConfigMapsOperator

CONN_ID = os.environ.get("K8S_RECONCILE_CONN_ID", "k8s_reconcile_default")
NAMESPACES = [ns for ns in os.environ.get("K8S_RECONCILE_NAMESPACES", "default").split(",") if ns]


def render_tenant(tenant: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the ConfigMap of one ``Tenant``: its tier and quota as keys, and the whole spec as JSON.

    Runs in the task (``K8sGenerateConfigMapsOperator`` calls it per listed object); the ConfigMap's namespace is
    the tenant's. Deterministic on purpose: the same tenant must render the same data, or every run would rewrite.
    """
    name = tenant["metadata"]["name"]
    spec = tenant.get("spec") or {}
    return [
        {
            "name": f"{name}-tenant-config",
            "labels": {"examples.airflow-k8s-reconcile.io/tenant": name},
            "data": {
                "tier": str(spec.get("tier", "standard")),
                "quota": str(spec.get("quota", 1)),
                "tenant.json": json.dumps(spec, sort_keys=True),
            },
        }
    ]


@dag(
    dag_id="generate_from_custom_resources",
    schedule=None,
    catchup=False,
    tags=["kubernetes", "example", "reconcile"],
    params={
        "namespaces": Param(NAMESPACES, type="array", items={"type": "string"}, minItems=1),
        "group": Param("examples.airflow-k8s-reconcile.io", type="string"),
        "version": Param("v1", type="string"),
        "plural": Param("tenants", type="string"),
    },
    doc_md=__doc__,
)
def generate_from_custom_resources() -> None:
    @task
    def namespaces(**context: Any) -> list[dict[str, str]]:
        """Return one mapped ``generate`` per namespace: list its tenants, write and prune there."""
        return [{"input_namespace": ns, "namespace": ns} for ns in context["params"]["namespaces"]]

    generate = K8sGenerateConfigMapsOperator.partial(
        task_id="generate",
        k8s_reconcile_conn_id=CONN_ID,
        group="{{ params.group }}",
        version="{{ params.version }}",
        plural="{{ params.plural }}",
        render=render_tenant,
        prune=True,
        map_index_template="{{ task.namespace }}",
    ).expand_kwargs(namespaces())

    @task
    def summary(reports: Any) -> dict[str, str]:
        """Return ``namespace/name -> status`` over every namespace (``reports``: the mapped XComs)."""
        out = {f"{e['namespace']}/{e['name']}": e["status"] for report in reports for e in report["objects"]}
        for name, status in sorted(out.items()):
            print(f"{status:<10} {name}")
        return out

    summary(generate.output)


generate_from_custom_resources()
