"""Contract tests: prove the test backend is a real API server (RBAC, conflicts, SSA, watch, namespaces).

They run unchanged against the local control plane and against any cluster named by K8S_TEST_KUBECONFIG.
"""

from __future__ import annotations

import json
import time

import pytest
from kubernetes import client as k8s, watch
from kubernetes.client.exceptions import ApiException

from airflow_k8s_reconcile.testing.identity import create_namespace, delete_namespace

CM_READER = {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}


def _ssar_allowed(api_client, namespace: str, verb: str, resource: str) -> bool:
    review = k8s.V1SelfSubjectAccessReview(
        spec=k8s.V1SelfSubjectAccessReviewSpec(
            resource_attributes=k8s.V1ResourceAttributes(namespace=namespace, verb=verb, resource=resource)
        )
    )
    return bool(k8s.AuthorizationV1Api(api_client).create_self_subject_access_review(review).status.allowed)


def _client_for(identity) -> k8s.ApiClient:
    from kubernetes import config

    return config.new_client_from_config(config_file=str(identity.kubeconfig_path))


def test_rbac_denies_then_allows_after_rolebinding(k8s_identity, k8s_admin, k8s_namespace):
    identity = k8s_identity(rules=[])
    with _client_for(identity) as api:
        assert _ssar_allowed(api, k8s_namespace, "list", "configmaps") is False
        with pytest.raises(ApiException) as denied:
            k8s.CoreV1Api(api).list_namespaced_config_map(k8s_namespace)
        assert denied.value.status == 403
        body = json.loads(denied.value.body)
        assert body["reason"] == "Forbidden"
        assert f'User "{identity.username}" cannot list resource "configmaps"' in body["message"]

        rbac = k8s.RbacAuthorizationV1Api(k8s_admin)
        meta = k8s.V1ObjectMeta(name="cm-reader")
        rbac.create_namespaced_role(
            k8s_namespace,
            k8s.V1Role(
                metadata=meta,
                rules=[
                    k8s.V1PolicyRule(
                        api_groups=[""], resources=["configmaps"], verbs=["get", "list", "watch"]
                    )
                ],
            ),
        )
        rbac.create_namespaced_role_binding(
            k8s_namespace,
            k8s.V1RoleBinding(
                metadata=meta,
                role_ref=k8s.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="Role", name="cm-reader"),
                subjects=[
                    k8s.RbacV1Subject(kind="ServiceAccount", name=identity.name, namespace=identity.namespace)
                ],
            ),
        )
        deadline = time.monotonic() + 10
        while not _ssar_allowed(api, k8s_namespace, "list", "configmaps") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _ssar_allowed(api, k8s_namespace, "list", "configmaps") is True
        assert _ssar_allowed(api, k8s_namespace, "create", "configmaps") is False
        k8s.CoreV1Api(api).list_namespaced_config_map(k8s_namespace)


def test_identity_with_rules_is_allowed_exactly_those(k8s_identity, k8s_namespace):
    identity = k8s_identity(rules=[CM_READER])
    with _client_for(identity) as api:
        assert _ssar_allowed(api, k8s_namespace, "get", "configmaps") is True
        assert _ssar_allowed(api, k8s_namespace, "delete", "configmaps") is False
        assert _ssar_allowed(api, "default", "get", "configmaps") is False
        assert _ssar_allowed(api, k8s_namespace, "get", "secrets") is False


def test_cluster_rules_apply_in_every_namespace(k8s_identity, k8s_namespace):
    identity = k8s_identity(
        cluster_rules=[{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]}]
    )
    with _client_for(identity) as api:
        assert k8s.CoreV1Api(api).read_namespace(k8s_namespace).metadata.name == k8s_namespace
        assert _ssar_allowed(api, "", "list", "namespaces") is False


def test_conflict_on_stale_resource_version_differs_from_already_exists(k8s_admin, k8s_namespace):
    core = k8s.CoreV1Api(k8s_admin)
    body = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="demo"), data={"a": "1"})
    created = core.create_namespaced_config_map(k8s_namespace, body)
    with pytest.raises(ApiException) as exists:
        core.create_namespaced_config_map(k8s_namespace, body)
    assert exists.value.status == 409
    assert json.loads(exists.value.body)["reason"] == "AlreadyExists"

    stale = created.metadata.resource_version
    core.patch_namespaced_config_map("demo", k8s_namespace, {"data": {"a": "2"}})
    replacement = k8s.V1ConfigMap(
        metadata=k8s.V1ObjectMeta(name="demo", resource_version=stale), data={"a": "3"}
    )
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("demo", k8s_namespace, replacement)
    assert conflict.value.status == 409
    status = json.loads(conflict.value.body)
    assert status["reason"] == "Conflict"
    assert "the object has been modified" in status["message"]
    assert core.read_namespaced_config_map("demo", k8s_namespace).data == {"a": "2"}


def _apply(core, namespace: str, manager: str, data: dict[str, str], *, force: bool = False):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": data}
    return core.patch_namespaced_config_map(
        "ssa",
        namespace,
        body,
        field_manager=manager,
        force=force,
        _content_type="application/apply-patch+yaml",
    )


def test_server_side_apply_field_manager_conflict_and_force(k8s_admin, k8s_namespace):
    core = k8s.CoreV1Api(k8s_admin)
    first = _apply(core, k8s_namespace, "mgr-a", {"z": "1"})
    assert {entry.manager for entry in first.metadata.managed_fields} == {"mgr-a"}
    with pytest.raises(ApiException) as conflict:
        _apply(core, k8s_namespace, "mgr-b", {"z": "2"})
    assert conflict.value.status == 409
    status = json.loads(conflict.value.body)
    assert status["reason"] == "Conflict"
    assert [c["reason"] for c in status["details"]["causes"]] == ["FieldManagerConflict"]
    assert 'conflict with "mgr-a"' in status["message"]

    forced = _apply(core, k8s_namespace, "mgr-b", {"z": "2"}, force=True)
    assert forced.data == {"z": "2"}
    assert {entry.manager for entry in forced.metadata.managed_fields} == {"mgr-b"}


def test_watch_replays_events_from_a_resource_version(k8s_admin, k8s_namespace):
    core = k8s.CoreV1Api(k8s_admin)
    start = core.list_namespaced_config_map(k8s_namespace).metadata.resource_version
    core.create_namespaced_config_map(k8s_namespace, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="w1")))
    core.patch_namespaced_config_map("w1", k8s_namespace, {"data": {"k": "v"}})
    core.delete_namespaced_config_map("w1", k8s_namespace)

    events = []
    stream = watch.Watch()
    for event in stream.stream(
        core.list_namespaced_config_map, k8s_namespace, resource_version=start, timeout_seconds=10
    ):
        if event["object"].metadata.name == "w1":
            events.append((event["type"], int(event["object"].metadata.resource_version)))
        if event["type"] == "DELETED":
            stream.stop()
    assert [kind for kind, _ in events] == ["ADDED", "MODIFIED", "DELETED"]
    versions = [rv for _, rv in events]
    assert versions == sorted(versions)
    assert versions[0] > int(start)


def test_namespace_deletion_completes(k8s_cluster, k8s_admin):
    if not k8s_cluster.has_controllers:
        pytest.skip("no kube-controller-manager (envtest assets): namespaces never finish terminating")
    core = k8s.CoreV1Api(k8s_admin)
    name = create_namespace(k8s_admin, k8s_cluster, prefix="del")
    try:
        core.create_namespaced_config_map(name, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="x")))
        delete_namespace(k8s_admin, k8s_cluster, name)
        deadline = time.monotonic() + 60
        gone = False
        while time.monotonic() < deadline and not gone:
            try:
                core.read_namespace(name)
                time.sleep(0.2)
            except ApiException as err:
                gone = err.status == 404
        assert gone, f"namespace {name} still exists after 60 s"
    finally:
        delete_namespace(k8s_admin, k8s_cluster, name)


def test_delete_namespace_refuses_unlabelled_namespaces(k8s_cluster, k8s_admin):
    core = k8s.CoreV1Api(k8s_admin)
    delete_namespace(k8s_admin, k8s_cluster, "default")
    assert core.read_namespace("default").status.phase == "Active"


@pytest.mark.min_k8s("1.28", reason="SelfSubjectReview (kubectl auth whoami) is GA from 1.28")
def test_self_subject_review_names_the_identity(k8s_identity):
    identity = k8s_identity(rules=[])
    with _client_for(identity) as api:
        review = k8s.AuthenticationV1Api(api).create_self_subject_review(k8s.V1SelfSubjectReview())
    assert review.status.user_info.username == identity.username
