"""``preflight()`` / ``apreflight()`` and the hooks' ``preflight`` against the real local control plane.

No permissions: the report fails naming the exact missing verbs and resources, and the YAML it generates, applied
by an admin, turns the same preflight green. Partial permissions, resourceNames, subresources, cluster-scoped
resources and a custom resource (a CRD created by the test) are each checked in both runners.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from airflow_k8s_reconcile.domain.connection.settings import CONN_TYPE
from airflow_k8s_reconcile.domain.preflight.permissions import Permission, parse_spec
from airflow_k8s_reconcile.hooks.arguments import ConnectionFields
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook
from airflow_k8s_reconcile.hooks.preflight import apreflight, preflight

FIELDS = ConnectionFields("<test>", CONN_TYPE, {}, found=False)
SPECS = ["get,list,watch:configmaps", "create,get:pods/exec", "get:pods/log", "list:nodes"]


def _args(identity, **extra):
    return {"auth_mode": "kubeconfig_file", "kube_config_path": str(identity.kubeconfig_path), **extra}


def _both(identity, permissions, namespaces, **kwargs):
    sync = preflight(_args(identity), FIELDS, permissions=permissions, namespaces=namespaces, **kwargs)
    async_ = asyncio.run(
        apreflight(_args(identity), FIELDS, permissions=permissions, namespaces=namespaces, **kwargs)
    )
    return sync, async_


def _rows(report):
    return {
        (r["namespace"], r["verb"], r["resource"], r["group"], r.get("name", "")): r["allowed"]
        for r in report.permissions
    }


def _apply(admin, documents):
    rbac = k8s.RbacAuthorizationV1Api(admin)
    made = []
    for doc in documents:
        kind, ns = doc["kind"], doc["metadata"].get("namespace")
        if kind == "Role":
            rbac.create_namespaced_role(ns, doc)
        elif kind == "RoleBinding":
            rbac.create_namespaced_role_binding(ns, doc)
        elif kind == "ClusterRole":
            rbac.create_cluster_role(doc)
        else:
            rbac.create_cluster_role_binding(doc)
        made.append((kind, doc["metadata"]["name"]))
    return made


def _cleanup(admin, made):
    rbac = k8s.RbacAuthorizationV1Api(admin)
    for kind, name in made:
        if kind == "ClusterRole":
            rbac.delete_cluster_role(name)
        elif kind == "ClusterRoleBinding":
            rbac.delete_cluster_role_binding(name)


def test_no_permissions_fails_naming_each_missing_permission_and_the_yaml_turns_it_green(
    k8s_identity, k8s_namespace, k8s_admin
):
    nobody = k8s_identity(rules=[])
    permissions = [parse_spec(spec) for spec in SPECS]
    for report in _both(nobody, permissions, [k8s_namespace]):
        assert report.verdict == "fail", report.render()
        assert report.headline == (
            f"FAIL at RBAC: {nobody.username} cannot get, list or watch configmaps in namespace {k8s_namespace}."
        )
        missing = [f for f in report.findings if f.code == "RBAC_PERMISSION_MISSING"]
        assert [f.cause for f in missing] == [
            f"{nobody.username} cannot get, list or watch configmaps in namespace {k8s_namespace}.",
            f"{nobody.username} cannot create or get pods/exec in namespace {k8s_namespace}.",
            f"{nobody.username} cannot get pods/log in namespace {k8s_namespace}.",
            f"{nobody.username} cannot list nodes at cluster scope.",
        ]
        assert missing[0].evidence == {
            "user": nobody.username,
            "verb": "get,list,watch",
            "resource": "configmaps",
            "group": "",
            "namespace": k8s_namespace,
        }
        assert (
            report.identity == {"username": nobody.username, "groups": []}
            or report.identity["username"] == nobody.username
        )
        assert set(_rows(report).values()) == {False}
        assert len(report.permissions) == 7
        assert report.remediation is not None
        assert "kind: ServiceAccount" in report.remediation["rbac_yaml"]
        assert report.to_dict()["remediation"]["verify"][0].startswith("kubectl auth can-i get configmaps")
        rbac_line = next(line for line in report.checks if line.id == "rbac")
        assert rbac_line.status.value == "fail"
        assert rbac_line.duration_seconds > 0

    made = _apply(k8s_admin, list(yaml.safe_load_all(report.remediation["rbac_yaml"])))
    try:
        deadline = time.monotonic() + 10
        while True:
            after = preflight(_args(nobody), FIELDS, permissions=permissions, namespaces=[k8s_namespace])
            if after.ok or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert after.verdict == "pass", after.render()
        assert set(_rows(after).values()) == {True}
        assert after.remediation is None
        assert [f.code for f in after.findings if f.code.startswith("RBAC_PERMISSION")] == [
            "RBAC_PERMISSIONS_GRANTED"
        ]
    finally:
        _cleanup(k8s_admin, made)


def test_partial_permissions_in_two_namespaces(k8s_identity, k8s_namespace, k8s_admin, k8s_cluster):
    from airflow_k8s_reconcile.testing.identity import create_namespace, delete_namespace

    other = create_namespace(k8s_admin, k8s_cluster)
    try:
        identity = k8s_identity(
            rules=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
            namespace_rules={other: [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]},
        )
        permissions = [parse_spec("get,list,watch:configmaps")]
        for report in _both(identity, permissions, [k8s_namespace, other]):
            rows = _rows(report)
            assert rows == {
                (k8s_namespace, "get", "configmaps", "", ""): True,
                (k8s_namespace, "list", "configmaps", "", ""): True,
                (k8s_namespace, "watch", "configmaps", "", ""): False,
                (other, "get", "configmaps", "", ""): True,
                (other, "list", "configmaps", "", ""): False,
                (other, "watch", "configmaps", "", ""): False,
            }
            causes = [f.cause for f in report.findings if f.code == "RBAC_PERMISSION_MISSING"]
            assert causes == [
                f"{identity.username} cannot watch configmaps in namespace {k8s_namespace}.",
                f"{identity.username} cannot list or watch configmaps in namespace {other}.",
            ]
            assert [c.id for c in report.checks if c.id.startswith("rules:")] == [
                f"rules:{k8s_namespace}",
                f"rules:{other}",
            ]
    finally:
        delete_namespace(k8s_admin, k8s_cluster, other)


def test_resource_names_subresources_and_cluster_scope(k8s_identity, k8s_namespace):
    identity = k8s_identity(
        rules=[
            {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["settings"], "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
        ],
        cluster_rules=[{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}],
    )
    permissions = [
        Permission(verbs=("get",), resource="configmaps", resource_name="settings"),
        Permission(verbs=("get",), resource="configmaps", resource_name="other"),
        parse_spec("get:pods/log"),
        parse_spec("get:pods"),
        parse_spec("get:namespaces"),
        parse_spec("list:namespaces"),
    ]
    for report in _both(identity, permissions, [k8s_namespace]):
        assert _rows(report) == {
            (k8s_namespace, "get", "configmaps", "", "settings"): True,
            (k8s_namespace, "get", "configmaps", "", "other"): False,
            (k8s_namespace, "get", "pods/log", "", ""): True,
            (k8s_namespace, "get", "pods", "", ""): False,
            ("", "get", "namespaces", "", ""): True,
            ("", "list", "namespaces", "", ""): False,
        }
        yaml_text = report.remediation["rbac_yaml"]
        assert "resourceNames:\n  - other" in yaml_text
        assert "kind: ClusterRole\n" in yaml_text


@pytest.fixture
def widgets_crd(k8s_admin):
    ext = k8s.ApiextensionsV1Api(k8s_admin)
    name = "widgets.preflight.example.com"
    body = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": name},
        "spec": {
            "group": "preflight.example.com",
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }
    try:
        ext.create_custom_resource_definition(body)
    except ApiException as err:
        if err.status != 409:
            raise
    return name


def test_custom_resource(k8s_identity, k8s_namespace, widgets_crd):
    identity = k8s_identity(
        rules=[{"apiGroups": ["preflight.example.com"], "resources": ["widgets"], "verbs": ["get", "list"]}]
    )
    permissions = [parse_spec("get,list,create:widgets.preflight.example.com")]
    for report in _both(identity, permissions, [k8s_namespace]):
        assert _rows(report) == {
            (k8s_namespace, "get", "widgets", "preflight.example.com", ""): True,
            (k8s_namespace, "list", "widgets", "preflight.example.com", ""): True,
            (k8s_namespace, "create", "widgets", "preflight.example.com", ""): False,
        }
        assert "apiGroups:\n  - preflight.example.com" in report.remediation["rbac_yaml"]


def test_hooks_delegate_and_rbac_mode_skips_the_network_checks(k8s_identity, k8s_namespace, connection):
    reader = k8s_identity(rules=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}])
    conn_id = connection("pf", {"kube_config_path": str(reader.kubeconfig_path), "namespace": k8s_namespace})
    permissions = [parse_spec("get,list:configmaps")]
    sync = K8sReconcileHook(conn_id).preflight(permissions, checks="rbac")
    async_ = asyncio.run(AsyncK8sReconcileHook(conn_id).preflight(permissions, checks="rbac"))
    for report in (sync, async_):
        assert report.verdict == "pass", report.render()
        assert [c.id for c in report.checks] == ["identity", f"rules:{k8s_namespace}", "rbac"]
        assert report.identity["username"] == reader.username
        assert report.headline.startswith("PASS: ")
        assert f"{reader.username} holds all 2 required permission checks" in report.headline


def test_dry_run_write_is_checked_and_stores_nothing(k8s_identity, k8s_namespace, k8s_admin):
    writer = k8s_identity(rules=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]}])
    nobody = k8s_identity(rules=[])
    ok = preflight(
        _args(writer),
        FIELDS,
        namespaces=[k8s_namespace],
        permissions=[parse_spec("create:configmaps")],
        dry_run=True,
    )
    assert [f.code for f in ok.findings][-1] == "ADMISSION_DRY_RUN_ACCEPTED", ok.render()
    names = [
        c.metadata.name for c in k8s.CoreV1Api(k8s_admin).list_namespaced_config_map(k8s_namespace).items
    ]
    assert not [n for n in names if n.startswith("airflow-k8s-reconcile-preflight-")]
    refused = preflight(
        _args(nobody),
        FIELDS,
        namespaces=[k8s_namespace],
        permissions=[parse_spec("get:configmaps")],
        dry_run=True,
    )
    dry_run = next(c for c in refused.checks if c.id == "dry-run")
    assert (dry_run.status.value, dry_run.code) == ("fail", "RBAC_FORBIDDEN")
