"""Least-privilege RBAC remediation: exact rules, no wildcards, stable names, kubectl equivalents."""

from __future__ import annotations

import pytest
import yaml

from airflow_k8s_reconcile.domain.preflight.permissions import PermissionCheck, expand_checks, parse_spec
from airflow_k8s_reconcile.domain.preflight.rbac_remediation import (
    can_i_command,
    merge_rules,
    rbac_remediation,
    role_name,
)
from airflow_k8s_reconcile.domain.preflight.subjects import Subject

USER = "system:serviceaccount:airflow:worker"
SA = Subject.for_user(USER)


def _checks(*specs, namespaces=("jobs",)):
    return expand_checks([parse_spec(spec) for spec in specs], namespaces)


def test_kpo_permissions_become_one_role_per_namespace_with_exact_rules():
    missing = _checks(
        "create,get,list,watch,patch,delete:pods", "get:pods/log", "create,get:pods/exec", "list,watch:events"
    )
    remediation = rbac_remediation(missing, SA)
    role, binding = yaml.safe_load_all(remediation.yaml)
    assert role["kind"] == "Role"
    assert role["metadata"]["namespace"] == "jobs"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["events"], "verbs": ["list", "watch"]},
        {
            "apiGroups": [""],
            "resources": ["pods"],
            "verbs": ["get", "list", "watch", "create", "patch", "delete"],
        },
        {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]},
        {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
    ]
    assert binding == {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": role["metadata"]["name"], "namespace": "jobs"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": role["metadata"]["name"],
        },
        "subjects": [{"kind": "ServiceAccount", "name": "worker", "namespace": "airflow"}],
    }
    assert "*" not in remediation.yaml


def test_resources_sharing_verbs_merge_into_one_rule_per_group():
    rules = merge_rules(
        _checks("get,list:configmaps", "list,get:secrets", "get:deployments.apps", "get:statefulsets.apps")
    )
    assert rules == [
        {"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["get", "list"]},
        {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets"], "verbs": ["get"]},
    ]


def test_cluster_scope_gets_a_cluster_role_and_namespaces_get_roles():
    missing = _checks("get:configmaps", "list:nodes", "get:/metrics", namespaces=("b", "a"))
    docs = list(yaml.safe_load_all(rbac_remediation(missing, SA).yaml))
    assert [(d["kind"], d["metadata"].get("namespace")) for d in docs] == [
        ("Role", "a"),
        ("RoleBinding", "a"),
        ("Role", "b"),
        ("RoleBinding", "b"),
        ("ClusterRole", None),
        ("ClusterRoleBinding", None),
    ]
    assert docs[4]["rules"] == [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list"]},
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
    ]
    assert docs[5]["roleRef"]["kind"] == "ClusterRole"


def test_resource_names_only_for_named_verbs():
    missing = [
        PermissionCheck(verb="get", resource="configmaps", namespace="j", name="settings"),
        PermissionCheck(verb="update", resource="configmaps", namespace="j", name="settings"),
        PermissionCheck(verb="list", resource="configmaps", namespace="j", name="settings"),
        PermissionCheck(verb="create", resource="configmaps", namespace="j", name="settings"),
        PermissionCheck(verb="get", resource="secrets", namespace="j", name="b"),
        PermissionCheck(verb="get", resource="secrets", namespace="j", name="a"),
    ]
    assert merge_rules(missing) == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list", "create"]},
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "verbs": ["get", "update"],
            "resourceNames": ["settings"],
        },
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["a", "b"]},
    ]


def test_an_unnamed_grant_absorbs_the_same_named_verb():
    missing = [
        PermissionCheck(verb="get", resource="configmaps", namespace="j"),
        PermissionCheck(verb="get", resource="configmaps", namespace="j", name="x"),
    ]
    assert merge_rules(missing) == [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]


@pytest.mark.parametrize(
    "check",
    [
        PermissionCheck(verb="*", resource="pods", namespace="j"),
        PermissionCheck(verb="get", resource="*", namespace="j"),
        PermissionCheck(verb="get", group="*", resource="pods", namespace="j"),
        PermissionCheck(verb="get", url="/apis/*"),
    ],
)
def test_wildcards_are_refused(check):
    with pytest.raises(ValueError, match="wildcard"):
        rbac_remediation([check], SA)


def test_output_is_deterministic_and_names_are_stable():
    one = rbac_remediation(_checks("get,list:configmaps", "create:pods/exec"), SA)
    two = rbac_remediation(list(reversed(_checks("create:pods/exec", "list,get:configmaps"))), SA)
    assert one == two
    rules = merge_rules(_checks("get:configmaps"))
    name = role_name(SA, "jobs", rules)
    assert name.startswith("airflow-k8s-reconcile-")
    assert len(name) == len("airflow-k8s-reconcile-") + 10
    assert name != role_name(SA, "other", rules)
    assert name != role_name(Subject.for_user("alice"), "jobs", rules)


def test_commands_and_verification_lines():
    remediation = rbac_remediation(_checks("get,list:configmaps", "create:pods/exec", "list:nodes"), SA)
    ns_name = remediation.documents[0]["metadata"]["name"]
    cluster_name = remediation.documents[2]["metadata"]["name"]
    assert remediation.commands == (
        f"kubectl create role {ns_name}-1 -n jobs --verb=get --verb=list --resource=configmaps",
        f"kubectl create rolebinding {ns_name}-1 -n jobs --role={ns_name}-1 --serviceaccount=airflow:worker",
        f"kubectl create role {ns_name}-2 -n jobs --verb=create --resource=pods/exec",
        f"kubectl create rolebinding {ns_name}-2 -n jobs --role={ns_name}-2 --serviceaccount=airflow:worker",
        f"kubectl create clusterrole {cluster_name} --verb=list --resource=nodes",
        f"kubectl create clusterrolebinding {cluster_name} --clusterrole={cluster_name} --serviceaccount=airflow:worker",
    )
    assert remediation.verify == (
        f"kubectl auth can-i get configmaps -n jobs --as={USER}",
        f"kubectl auth can-i list configmaps -n jobs --as={USER}",
        f"kubectl auth can-i create pods --subresource=exec -n jobs --as={USER}",
        f"kubectl auth can-i list nodes --as={USER}",
    )
    assert remediation.to_dict()["rbac_yaml"] == remediation.yaml


def test_can_i_names_groups_objects_and_paths():
    alice = Subject.for_user("alice")
    check = PermissionCheck(verb="get", group="example.com", resource="widgets", namespace="j", name="w1")
    assert can_i_command(check, alice) == "kubectl auth can-i get widgets.example.com/w1 -n j --as=alice"
    assert (
        can_i_command(PermissionCheck(verb="get", url="/metrics"), alice)
        == "kubectl auth can-i get /metrics --as=alice"
    )
    group = Subject.for_group("system:serviceaccounts:airflow")
    assert can_i_command(PermissionCheck(verb="get", resource="pods"), group).endswith(
        "--as=airflow-k8s-reconcile-check --as-group=system:serviceaccounts:airflow"
    )


def test_values_are_shell_quoted():
    odd = Subject.for_user("CN=alice; rm -rf /")
    line = can_i_command(PermissionCheck(verb="get", resource="pods", namespace="j"), odd)
    assert line.endswith("'--as=CN=alice; rm -rf /'")


@pytest.mark.parametrize(
    ("username", "subject", "flag"),
    [
        (
            USER,
            {"kind": "ServiceAccount", "name": "worker", "namespace": "airflow"},
            "--serviceaccount=airflow:worker",
        ),
        ("alice", {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"}, "--user=alice"),
        (
            "system:serviceaccount:broken",
            {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "system:serviceaccount:broken"},
            "--user=system:serviceaccount:broken",
        ),
    ],
)
def test_subjects_from_user_names(username, subject, flag):
    assert Subject.for_user(username).to_dict() == subject
    assert Subject.for_user(username).kubectl_flag() == flag


def test_group_subject():
    group = Subject.for_group("devs")
    assert group.to_dict() == {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "devs"}
    assert group.kubectl_flag() == "--group=devs"
    assert group.username == ""
    remediation = rbac_remediation(_checks("get:pods"), group)
    assert remediation.documents[1]["subjects"] == [group.to_dict()]


def test_nothing_missing_means_nothing_to_apply():
    remediation = rbac_remediation([], SA)
    assert (remediation.yaml, remediation.commands, remediation.verify) == ("", (), ())


def test_further_subjects_share_the_roles_through_one_binding_each_scope():
    triggerer = Subject.for_user("system:serviceaccount:airflow:triggerer")
    checks = _checks("get,list:configmaps", "list:nodes")
    alone = rbac_remediation(checks, SA)
    shared = rbac_remediation(checks, SA, also_bind=[triggerer])
    assert [doc["kind"] for doc in shared.documents] == [doc["kind"] for doc in alone.documents]
    for doc in shared.documents[1::2]:
        assert doc["subjects"] == [
            {"kind": "ServiceAccount", "name": "worker", "namespace": "airflow"},
            {"kind": "ServiceAccount", "name": "triggerer", "namespace": "airflow"},
        ]
    assert [doc["rules"] for doc in shared.documents[::2]] == [doc["rules"] for doc in alone.documents[::2]]
    # Other subjects, other names: applying it never replaces (and so revokes) a single-subject grant.
    assert shared.documents[0]["metadata"]["name"] != alone.documents[0]["metadata"]["name"]
    assert shared.commands[1].endswith("--serviceaccount=airflow:worker --serviceaccount=airflow:triggerer")
    assert len(shared.verify) == 2 * len(alone.verify)
    assert shared.verify[-1] == "kubectl auth can-i list nodes --as=system:serviceaccount:airflow:triggerer"
