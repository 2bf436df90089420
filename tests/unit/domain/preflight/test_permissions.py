"""The --require SPEC parser, permission expansion and cluster scope."""

from __future__ import annotations

import pytest

from airflow_k8s_reconcile.domain.preflight.permissions import (
    Permission,
    PermissionCheck,
    PermissionSpecError,
    expand_checks,
    is_cluster_scoped,
    parse_spec,
)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("get,list,watch:configmaps", Permission(verbs=("get", "list", "watch"), resource="configmaps")),
        ("create:pods/exec", Permission(verbs=("create",), resource="pods", subresource="exec")),
        ("list:widgets.example.com", Permission(verbs=("list",), group="example.com", resource="widgets")),
        (
            "patch:deployments.apps/scale",
            Permission(verbs=("patch",), group="apps", resource="deployments", subresource="scale"),
        ),
        ("get:/healthz", Permission(verbs=("get",), url="/healthz")),
        ("  get , list : secrets ", Permission(verbs=("get", "list"), resource="secrets")),
        ("get,get:pods", Permission(verbs=("get",), resource="pods")),
        (
            "use:podsecuritypolicies.policy",
            Permission(verbs=("use",), group="policy", resource="podsecuritypolicies"),
        ),
    ],
)
def test_good_specs(spec, expected):
    assert parse_spec(spec) == expected


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("get configmaps", "no ':'"),
        (":configmaps", "an empty verb"),
        ("get,,list:pods", "an empty verb"),
        ("*:pods", "wildcard verb"),
        ("GET:pods", "verb 'GET'"),
        ("get:", "no resource"),
        ("get:*", "wildcard"),
        ("get:pods/*", "wildcard"),
        ("get:ConfigMap", "'ConfigMap' has upper-case"),
        ("get:pods/", "subresource ''"),
        ("get:pods/exec/x", "subresource 'exec/x'"),
        ("list:widgets.", "API group ''"),
        ("list:widgets.-bad.com", "API group '-bad.com'"),
        ("get:-pods", "resource '-pods'"),
        ("get:/he*", "non-resource URL '/he*'"),
    ],
)
def test_bad_specs_name_the_bad_part_and_the_format(spec, names):
    with pytest.raises(PermissionSpecError) as caught:
        parse_spec(spec)
    message = str(caught.value)
    assert names in message
    assert repr(spec) in message
    assert "VERB[,VERB...]:RESOURCE" in message


def test_a_spec_error_is_a_value_error():
    assert issubclass(PermissionSpecError, ValueError)


def test_permissions_are_frozen_hashable_and_dedupe_verbs():
    one = Permission(verbs=("get", "list", "get"), resource="pods")
    assert one.verbs == ("get", "list")
    assert one == Permission(verbs=("get", "list"), resource="pods")
    assert len({one, Permission(verbs=("get", "list"), resource="pods")}) == 1
    with pytest.raises(AttributeError):
        one.resource = "secrets"  # type: ignore[misc]


def test_a_permission_expands_to_one_check_per_verb():
    permission = Permission(verbs=("get", "list"), resource="pods", subresource="log", resource_name="p")
    assert permission.checks("jobs") == (
        PermissionCheck(verb="get", resource="pods", subresource="log", namespace="jobs", name="p"),
        PermissionCheck(verb="list", resource="pods", subresource="log", namespace="jobs", name="p"),
    )
    assert {check.namespace for check in Permission(verbs=("get",), url="/x").checks("jobs")} == {""}


def test_expand_checks_repeats_namespaced_permissions_and_keeps_cluster_scope_once():
    permissions = [
        parse_spec("get:configmaps"),
        parse_spec("list:nodes"),
        parse_spec("get:/healthz"),
        Permission(verbs=("get",), resource="secrets", namespace="vault"),
        parse_spec("get:configmaps"),
    ]
    checks = expand_checks(permissions, ["a", "b", "a"])
    assert [(c.verb, c.resource or c.url, c.namespace) for c in checks] == [
        ("get", "configmaps", "a"),
        ("get", "configmaps", "b"),
        ("list", "nodes", ""),
        ("get", "/healthz", ""),
        ("get", "secrets", "vault"),
    ]


def test_expand_checks_without_namespaces_is_cluster_scope():
    assert [c.namespace for c in expand_checks([parse_spec("list:pods")], [])] == [""]


def test_callers_can_declare_a_custom_resource_cluster_scoped():
    widgets = parse_spec("list:widgets.example.com")
    assert [c.namespace for c in expand_checks([widgets], ["a"])] == ["a"]
    assert [
        c.namespace for c in expand_checks([widgets], ["a"], cluster_scoped=[("example.com", "widgets")])
    ] == [""]


@pytest.mark.parametrize(
    ("group", "resource", "expected"),
    [
        ("", "namespaces", True),
        ("", "nodes", True),
        ("", "persistentvolumes", True),
        ("rbac.authorization.k8s.io", "clusterroles", True),
        ("rbac.authorization.k8s.io", "clusterrolebindings", True),
        ("apiextensions.k8s.io", "customresourcedefinitions", True),
        ("storage.k8s.io", "storageclasses", True),
        ("", "pods", False),
        ("", "persistentvolumeclaims", False),
        ("rbac.authorization.k8s.io", "roles", False),
        ("apps", "nodes", False),
    ],
)
def test_cluster_scoped_table(group, resource, expected):
    assert is_cluster_scoped(group, resource) is expected


@pytest.mark.parametrize(
    ("check", "kubectl", "described"),
    [
        (
            PermissionCheck(verb="list", resource="configmaps", namespace="jobs"),
            "configmaps",
            "list configmaps in namespace jobs",
        ),
        (
            PermissionCheck(
                verb="patch", group="apps", resource="deployments", subresource="scale", namespace="j"
            ),
            "deployments.apps/scale",
            "patch deployments.apps/scale in namespace j",
        ),
        (
            PermissionCheck(verb="get", resource="nodes", name="n1"),
            "nodes",
            "get nodes named 'n1' at cluster scope",
        ),
        (PermissionCheck(verb="get", url="/metrics"), "", "get /metrics"),
    ],
)
def test_check_wording(check, kubectl, described):
    assert check.kubectl_resource == kubectl
    assert check.describe() == described
