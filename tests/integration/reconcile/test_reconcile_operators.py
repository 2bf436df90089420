"""The operators end to end: templated specs, failure kinds, and generated ConfigMaps garbage-collected with their input."""

from __future__ import annotations

import time
import uuid

import pytest
from kubernetes import client as k8s
from reconcile_it import raw, versions

from airflow_k8s_reconcile.compat import AirflowFailException
from airflow_k8s_reconcile.domain.reconcile.desired.markers import OWNER_ANNOTATION
from airflow_k8s_reconcile.operators.generate import K8sGenerateConfigMapsOperator
from airflow_k8s_reconcile.operators.reconcile import K8sReconcileConfigMapsOperator


@pytest.fixture
def conn_id(connection, k8s_cluster):
    return connection("reconcile_admin", {"kube_config_path": str(k8s_cluster.kubeconfig_path)})


def test_operator_reconciles_and_returns_a_masked_report(conn_id, core, k8s_namespace, tmp_path):
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-file\ndata:\n  password: hunter2\n"
    )
    op = K8sReconcileConfigMapsOperator(
        task_id="render",
        k8s_reconcile_conn_id=conn_id,
        namespace=k8s_namespace,
        configmaps=[{"name": "app", "data": {"level": "debug"}}],
        files=[str(manifest)],
    )
    report = op.execute(context={})
    assert {e["name"]: e["status"] for e in report["objects"]} == {"app": "created", "from-file": "created"}
    assert raw(core, k8s_namespace, "from-file")["data"] == {"password": "hunter2"}
    assert (
        raw(core, k8s_namespace, "app")["metadata"]["annotations"][OWNER_ANNOTATION] == "adhoc_airflow/render"
    )
    core.patch_namespaced_config_map("from-file", k8s_namespace, {"data": {"password": "changed-it"}})
    report = op.execute(context={})
    assert "hunter2" not in str(report)
    assert "changed-it" not in str(report)
    assert raw(core, k8s_namespace, "from-file")["data"] == {"password": "hunter2"}


def test_invalid_specs_fail_without_retry_and_write_nothing(conn_id, core, k8s_namespace):
    op = K8sReconcileConfigMapsOperator(
        task_id="bad", k8s_reconcile_conn_id=conn_id, namespace=k8s_namespace,
        configmaps=[{"name": "ok", "data": {"k": "v"}}, {"name": "Bad!", "data": {"../x": "v"}}, {"nmae": "typo"}],
    )  # fmt: skip
    with pytest.raises(AirflowFailException) as caught:
        op.execute(context={})
    message = str(caught.value)
    for code in ("RECONCILE_BAD_NAME", "RECONCILE_BAD_KEY", "RECONCILE_BAD_MANIFEST"):
        assert code in message
    assert versions(core, k8s_namespace) == {}


def test_bad_arguments_fail_in_execute_not_at_parse_time(conn_id):
    op = K8sReconcileConfigMapsOperator(
        task_id="x", k8s_reconcile_conn_id=conn_id, mode="enforced", files="a.yaml"
    )
    with pytest.raises(AirflowFailException, match=r"mode must be one of .*files=\['a.yaml'\]"):
        op.execute(context={})


def test_detect_mode_fails_on_drift_and_names_the_writer(conn_id, core, k8s_namespace):
    args = {
        "k8s_reconcile_conn_id": conn_id,
        "namespace": k8s_namespace,
        "configmaps": [{"name": "app", "data": {"a": "1"}}],
    }
    K8sReconcileConfigMapsOperator(task_id="t", **args).execute(context={})
    core.patch_namespaced_config_map("app", k8s_namespace, {"data": {"a": "2"}}, field_manager="kubectl-edit")
    with pytest.raises(AirflowFailException, match="kubectl-edit"):
        K8sReconcileConfigMapsOperator(task_id="t", mode="detect", **args).execute(context={})
    quiet = K8sReconcileConfigMapsOperator(task_id="t", mode="detect", fail_on_drift=False, **args).execute(
        context={}
    )
    assert quiet["summary"]["in_sync"] is False
    assert raw(core, k8s_namespace, "app")["data"] == {"a": "2"}


def test_missing_permission_fails_before_any_write_naming_it_with_the_role_to_apply(
    k8s_identity, connection, k8s_namespace, core
):
    reader = k8s_identity(rules=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}])
    conn = connection("reconcile_reader", {"kube_config_path": str(reader.kubeconfig_path)})
    op = K8sReconcileConfigMapsOperator(task_id="t", k8s_reconcile_conn_id=conn, namespace=k8s_namespace,
                                        configmaps=[{"name": "app", "data": {"a": "1"}}])  # fmt: skip
    with pytest.raises(AirflowFailException) as caught:
        op.execute(context={})
    message = str(caught.value)
    assert f"{reader.username} cannot create or patch configmaps in namespace {k8s_namespace}" in message
    assert "kind: Role" in message
    assert "events" not in message.split("kind: Role", 1)[1]  # Events are best effort: not required
    assert [cm.metadata.name for cm in core.list_namespaced_config_map(k8s_namespace).items] == [
        "kube-root-ca.crt"
    ]


def test_without_the_preflight_the_api_servers_403_fails_it_without_retry(
    k8s_identity, connection, k8s_namespace
):
    reader = k8s_identity(rules=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}])
    conn = connection("reconcile_reader2", {"kube_config_path": str(reader.kubeconfig_path)})
    op = K8sReconcileConfigMapsOperator(task_id="t", k8s_reconcile_conn_id=conn, namespace=k8s_namespace,
                                        configmaps=[{"name": "app", "data": {"a": "1"}}], preflight=False)  # fmt: skip
    with pytest.raises(AirflowFailException, match=r'RBAC_FORBIDDEN.*cannot patch resource "configmaps"'):
        op.execute(context={})


def _crd(k8s_admin, group: str) -> None:
    body = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}],
        },
    }  # fmt: skip
    ext = k8s.ApiextensionsV1Api(k8s_admin)
    ext.create_custom_resource_definition(body)
    for _ in range(100):
        conditions = ext.read_custom_resource_definition(f"widgets.{group}").status.conditions or []
        if any(c.type == "Established" and c.status == "True" for c in conditions):
            return
        time.sleep(0.1)
    raise AssertionError("CRD not established")


def test_generated_configmap_is_owned_by_its_input_and_collected_with_it(
    conn_id, k8s_admin, core, k8s_namespace
):
    group = f"t{uuid.uuid4().hex[:8]}.example.com"
    _crd(k8s_admin, group)
    try:
        custom = k8s.CustomObjectsApi(k8s_admin)
        for name, size in (("small", 1), ("large", 9)):
            body = {
                "apiVersion": f"{group}/v1",
                "kind": "Widget",
                "metadata": {"name": name},
                "spec": {"size": size},
            }
            custom.create_namespaced_custom_object(group, "v1", k8s_namespace, "widgets", body)

        def render(widget):
            return [
                {
                    "name": f"{widget['metadata']['name']}-config",
                    "data": {"size": str(widget["spec"]["size"])},
                }
            ]

        op = K8sGenerateConfigMapsOperator(task_id="gen", k8s_reconcile_conn_id=conn_id, group=group, version="v1",
                                           plural="widgets", input_namespace=k8s_namespace, render=render)  # fmt: skip
        report = op.execute(context={})
        assert {e["name"]: e["status"] for e in report["objects"]} == {
            "small-config": "created",
            "large-config": "created",
        }
        (source,) = next(e for e in report["objects"] if e["name"] == "large-config")["inputs"]
        widget = custom.get_namespaced_custom_object(group, "v1", k8s_namespace, "widgets", "large")
        assert (source["uid"], source["generation"]) == (widget["metadata"]["uid"], 1)
        (ref,) = raw(core, k8s_namespace, "large-config")["metadata"]["ownerReferences"]
        assert (ref["kind"], ref["name"], ref["controller"]) == ("Widget", "large", True)
        assert op.execute(context={})["summary"]["unchanged"] == 2
        custom.delete_namespaced_custom_object(group, "v1", k8s_namespace, "widgets", "large")
        deadline = time.monotonic() + 60
        while "large-config" in versions(core, k8s_namespace) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert set(versions(core, k8s_namespace)) == {"small-config"}  # the garbage collector removed it
    finally:
        k8s.ApiextensionsV1Api(k8s_admin).delete_custom_resource_definition(f"widgets.{group}")
