"""Kubernetes' RBAC matching rules (evaluation_helpers.go), case by case, and the rules-review parser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_k8s_reconcile.domain.preflight.permissions import PermissionCheck
from airflow_k8s_reconcile.domain.preflight.rbac_rules import (
    NonResourceRule,
    ResourceRule,
    api_group_matches,
    non_resource_url_matches,
    parse_rules_review,
    resource_matches,
    resource_name_matches,
    resource_rule_allows,
    rules_grant,
    verb_matches,
)

RESPONSES = Path(__file__).resolve().parents[3] / "fixtures" / "kube-apiserver-1.20.2"


@pytest.mark.parametrize(
    ("verbs", "requested", "expected"),
    [
        (("get",), "get", True),
        (("get", "list"), "list", True),
        (("*",), "deletecollection", True),
        (("*",), "*", True),
        (("get",), "*", False),  # a requested "*" is a literal verb, only "*" grants it
        (("get",), "list", False),
        (("Get",), "get", False),  # case-sensitive
        ((), "get", False),
    ],
)
def test_verb_matches(verbs, requested, expected):
    assert verb_matches(verbs, requested) is expected


@pytest.mark.parametrize(
    ("groups", "requested", "expected"),
    [
        (("",), "", True),
        (("*",), "", True),
        (("*",), "apps", True),
        (("apps",), "apps", True),
        (("",), "apps", False),
        (("apps",), "", False),
        (("apps",), "apps.example.com", False),
        (("extensions", "apps"), "apps", True),
        ((), "", False),
    ],
)
def test_api_group_matches(groups, requested, expected):
    assert api_group_matches(groups, requested) is expected


@pytest.mark.parametrize(
    ("resources", "resource", "subresource", "expected"),
    [
        (("pods",), "pods", "", True),
        (("*",), "pods", "", True),
        (("*",), "pods", "log", True),  # "*" includes subresources
        (("pods",), "pods", "log", False),  # a resource never grants its subresources
        (("pods/log",), "pods", "log", True),
        (("pods/log",), "pods", "", False),
        (("pods/log",), "pods", "exec", False),
        (("*/log",), "pods", "log", True),
        (("*/log",), "deployments", "log", True),
        (("*/log",), "pods", "", False),
        (("*/log",), "pods", "exec", False),
        (("*/scale",), "deployments", "scale", True),
        (("pods/*",), "pods", "log", False),  # no wildcard meaning after the slash
        (("pods/*",), "pods", "*", True),  # only the literal subresource "*"
        (("*/*",), "pods", "log", False),
        (("*/*",), "pods", "*", True),
        (("*/l",), "pods", "log", False),
        (("x*/log",), "pods", "log", False),
        (("configmaps", "pods/exec"), "pods", "exec", True),
        (("Pods",), "pods", "", False),
        ((), "pods", "", False),
        (("*",), "*", "", True),
        (("pods",), "*", "", False),
    ],
)
def test_resource_matches(resources, resource, subresource, expected):
    combined = f"{resource}/{subresource}" if subresource else resource
    assert resource_matches(resources, combined, subresource) is expected


@pytest.mark.parametrize(
    ("names", "requested", "expected"),
    [
        ((), "", True),  # empty list: all names, and requests without one
        ((), "anything", True),
        (("cm1",), "cm1", True),
        (("cm1", "cm2"), "cm2", True),
        (("cm1",), "cm2", False),
        (("cm1",), "", False),  # list/watch/create carry no name: a named rule never grants them
        (("cm1",), "CM1", False),
    ],
)
def test_resource_name_matches(names, requested, expected):
    assert resource_name_matches(names, requested) is expected


@pytest.mark.parametrize(
    ("urls", "requested", "expected"),
    [
        (("/healthz",), "/healthz", True),
        (("/healthz",), "/healthz/etcd", False),
        (("/healthz",), "/healthz/", False),
        (("*",), "/anything/at/all", True),
        (("/apis/*",), "/apis/", True),
        (("/apis/*",), "/apis/apps/v1", True),
        (("/apis/*",), "/apis", False),  # the prefix includes the slash
        (("/logs*",), "/logs", True),
        (("/logs*",), "/logsx", True),
        (("/logs**",), "/logs", True),  # Go trims every trailing '*'
        (("/a*b",), "/aXb", False),  # '*' only as a trailing wildcard
        (("/a*b",), "/a*b", True),
        ((), "/healthz", False),
    ],
)
def test_non_resource_url_matches(urls, requested, expected):
    assert non_resource_url_matches(urls, requested) is expected


RULE = ResourceRule(
    verbs=("get", "list"), api_groups=("",), resources=("configmaps",), resource_names=("cm1",)
)


@pytest.mark.parametrize(
    ("check", "expected"),
    [
        (PermissionCheck(verb="get", resource="configmaps", name="cm1"), True),
        (PermissionCheck(verb="get", resource="configmaps", name="cm2"), False),
        (PermissionCheck(verb="get", resource="configmaps"), False),
        (PermissionCheck(verb="list", resource="configmaps"), False),  # resourceNames never grant list
        (
            PermissionCheck(verb="list", resource="configmaps", name="cm1"),
            True,
        ),  # a named list (fieldSelector)
        (PermissionCheck(verb="get", group="apps", resource="configmaps", name="cm1"), False),
        (PermissionCheck(verb="delete", resource="configmaps", name="cm1"), False),
        (PermissionCheck(verb="get", resource="configmaps", subresource="status", name="cm1"), False),
    ],
)
def test_a_rule_needs_every_attribute_to_match(check, expected):
    assert resource_rule_allows(RULE, check) is expected


def test_parse_the_real_rules_review_of_a_user_without_bindings():
    status = json.loads((RESPONSES / "ssrr_alice.json").read_text())["status"]
    review = parse_rules_review(status, "default")
    assert review.complete
    assert review.resource_rules == (
        ResourceRule(
            verbs=("create",),
            api_groups=("authorization.k8s.io",),
            resources=("selfsubjectaccessreviews", "selfsubjectrulesreviews"),
        ),
    )
    assert rules_grant(review, PermissionCheck(verb="get", url="/readyz"))
    assert rules_grant(review, PermissionCheck(verb="get", url="/apis/apps/v1"))
    assert not rules_grant(review, PermissionCheck(verb="post", url="/readyz"))
    assert not rules_grant(review, PermissionCheck(verb="get", resource="configmaps", namespace="default"))
    assert rules_grant(
        review,
        PermissionCheck(verb="create", group="authorization.k8s.io", resource="selfsubjectaccessreviews"),
    )


def test_parse_tolerates_missing_and_odd_fields():
    review = parse_rules_review(
        {
            "resourceRules": [{"verbs": ["get"], "apiGroups": None, "resources": ["pods", 3]}, "junk"],
            "nonResourceRules": None,
            "incomplete": True,
            "evaluationError": "webhook authorizer does not support user rule resolution",
        },
        "jobs",
    )
    assert review.resource_rules == (ResourceRule(verbs=("get",), api_groups=(), resources=("pods",)),)
    assert review.non_resource_rules == ()
    assert review.incomplete
    assert not review.complete
    assert review.evaluation_error.startswith("webhook")
    assert parse_rules_review({}, "x").complete


def test_an_evaluation_error_alone_makes_a_review_incomplete():
    review = parse_rules_review({"incomplete": False, "evaluationError": 'role.rbac "gone" not found'}, "x")
    assert not review.complete


def test_non_resource_rules_grant_only_non_resource_requests():
    review = parse_rules_review(
        {
            "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
            "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}],
        },
        "x",
    )
    assert rules_grant(review, PermissionCheck(verb="get", url="/metrics"))
    assert not rules_grant(review, PermissionCheck(verb="get", url="/debug"))
    assert rules_grant(review, PermissionCheck(verb="get", resource="anything", subresource="sub"))
    assert NonResourceRule(verbs=("get",), urls=("/metrics",)) in review.non_resource_rules
