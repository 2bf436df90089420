"""Local verdicts from rules reviews, which checks need an access review, request bodies and answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_k8s_reconcile.domain.preflight.permissions import PermissionCheck
from airflow_k8s_reconcile.domain.preflight.rbac_evaluation import (
    CheckResult,
    access_review_request,
    access_reviews_needed,
    evaluate,
    evaluate_all,
    judge_access_review,
    missing,
    rules_review_request,
    settle,
)
from airflow_k8s_reconcile.domain.preflight.rbac_rules import parse_rules_review

RESPONSES = Path(__file__).resolve().parents[3] / "fixtures" / "kube-apiserver-1.20.2"
CM_RULES = {
    "resourceRules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["configmaps", "nodes"]}],
    "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}],
}
INCOMPLETE = {
    **CM_RULES,
    "incomplete": True,
    "evaluationError": "webhook authorizer does not support user rule resolution",
}


def _reviews(status, *namespaces):
    return {ns: parse_rules_review(status, ns) for ns in namespaces}


def _check(verb="get", resource="configmaps", namespace="jobs", **more):
    return PermissionCheck(verb=verb, resource=resource, namespace=namespace, **more)


@pytest.mark.parametrize(
    ("status", "check", "expected"),
    [
        (CM_RULES, _check(), True),
        (CM_RULES, _check("delete"), False),
        (CM_RULES, _check(namespace="other"), None),  # no review for that namespace
        (INCOMPLETE, _check(), True),  # listed rules hold even in an incomplete review
        (INCOMPLETE, _check("delete"), None),
        ({**CM_RULES, "evaluationError": "x"}, _check("delete"), None),
        (CM_RULES, _check("list", "nodes", ""), None),  # cluster scope: the rule may come from a RoleBinding
        (CM_RULES, _check("delete", "nodes", ""), False),  # but no rule at all is a proof
        (INCOMPLETE, _check("delete", "nodes", ""), None),
        (CM_RULES, PermissionCheck(verb="get", url="/metrics"), True),
        (CM_RULES, PermissionCheck(verb="get", url="/debug"), False),
        (INCOMPLETE, PermissionCheck(verb="get", url="/debug"), None),
    ],
)
def test_evaluate(status, check, expected):
    assert evaluate(check, _reviews(status, "jobs")) is expected


def test_evaluate_with_no_reviews_at_all_is_unknown():
    assert evaluate(_check(namespace=""), {}) is None
    assert evaluate(PermissionCheck(verb="get", url="/metrics"), {}) is None


def test_access_reviews_are_needed_for_unknown_and_by_default_denied_checks():
    granted, denied, unknown = _check(), _check("delete"), _check(namespace="other")
    local = evaluate_all([granted, denied, unknown], _reviews(CM_RULES, "jobs"))
    assert local == {granted: True, denied: False, unknown: None}
    assert access_reviews_needed(local) == [denied, unknown]
    assert access_reviews_needed(local, confirm_denials=False) == [unknown]


def test_all_granted_needs_no_access_review():
    local = evaluate_all([_check(), _check("list")], _reviews(CM_RULES, "jobs"))
    assert access_reviews_needed(local) == []


def test_request_bodies():
    assert rules_review_request("jobs") == {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": "jobs"},
    }
    check = PermissionCheck(
        verb="get", group="apps", resource="deployments", subresource="scale", namespace="j", name="d"
    )
    assert access_review_request(check)["spec"] == {
        "resourceAttributes": {
            "namespace": "j",
            "verb": "get",
            "group": "apps",
            "resource": "deployments",
            "subresource": "scale",
            "name": "d",
        }
    }
    assert access_review_request(_check("list", "nodes", ""))["spec"] == {
        "resourceAttributes": {"verb": "list", "resource": "nodes"}
    }
    assert access_review_request(PermissionCheck(verb="get", url="/healthz"))["spec"] == {
        "nonResourceAttributes": {"path": "/healthz", "verb": "get"}
    }
    assert access_review_request(check)["kind"] == "SelfSubjectAccessReview"


@pytest.mark.parametrize(
    ("status", "allowed", "reason"),
    [
        (
            {"allowed": True, "reason": 'RBAC: allowed by RoleBinding "x"'},
            True,
            'RBAC: allowed by RoleBinding "x"',
        ),
        ({"allowed": False}, False, ""),
        ({"allowed": False, "denied": True, "reason": "policy"}, False, "policy"),
        ({"allowed": False, "evaluationError": "webhook timed out"}, None, "webhook timed out"),
        ({"allowed": False, "denied": True, "evaluationError": "partial"}, False, ""),
        ({}, False, ""),
    ],
)
def test_judge_access_review(status, allowed, reason):
    result = judge_access_review(_check(), status)
    assert (result.allowed, result.reason, result.source) == (allowed, reason, "access-review")


def test_judge_the_real_denial_of_kube_apiserver_1_20():
    status = json.loads((RESPONSES / "ssar_alice_denied.json").read_text())["status"]
    assert judge_access_review(_check(namespace="default"), status).allowed is False


def test_settle_prefers_access_review_answers_and_marks_the_unanswered_unknown():
    granted, denied, unknown, confirmed = _check(), _check("delete"), _check(namespace="x"), _check("patch")
    local = {granted: True, denied: False, unknown: None, confirmed: False}
    answers = {
        confirmed: CheckResult(check=confirmed, allowed=True, source="access-review", reason="webhook")
    }
    results = settle(local, answers)
    assert [(r.check, r.allowed, r.source) for r in results] == [
        (granted, True, "rules"),
        (denied, False, "rules"),
        (unknown, None, "none"),
        (confirmed, True, "access-review"),
    ]
    assert "no access review answered" in results[2].reason
    assert missing(results) == (denied,)
