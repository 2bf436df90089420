"""The connection test's plan, judged from observations alone: what the runners feed back becomes these findings."""

from __future__ import annotations

import pytest

from airflow_k8s_reconcile.domain.common.catalogue import finding
from airflow_k8s_reconcile.domain.common.checks import CheckRun
from airflow_k8s_reconcile.domain.connection.api.requests import (
    Identity,
    ReadVersion,
    ReviewAccess,
    ReviewRules,
    ReviewSelf,
    RulesStatus,
    RuleView,
)
from airflow_k8s_reconcile.domain.connection.connection_test import connection_test_plan, pass_summary
from airflow_k8s_reconcile.findings import Status

SERVER = "https://api:6443"
SA = "system:serviceaccount:jobs:worker"
READ_CM = RuleView(api_groups=("",), resources=("configmaps",), verbs=("get", "list"))
REJECTED = finding("AUTH_CREDENTIALS_REJECTED", "401.")
NOT_SERVED = finding("API_NOT_FOUND", "404.")


def _plan(namespaces=("jobs",), summary=None):
    return connection_test_plan(
        server=SERVER, namespace="jobs", namespaces=namespaces, credential_summary=summary or {}
    )


def _run(plan, by_request):
    """Play the runner: answer each request from ``by_request`` (keyed by request type, or request)."""
    run = CheckRun(plan)
    asked = []
    while batch := run.ready():
        for check in batch:
            asked.append(check.request)
            answer = by_request.get(check.request, by_request.get(type(check.request)))
            run.record(check.id, answer, 0.01)
    return run.findings, asked


HEALTHY = {
    ReadVersion: "v1.30.0",
    ReviewAccess: False,
    ReviewSelf: Identity(username=SA, groups=("system:serviceaccounts",)),
    ReviewRules: RulesStatus(rules=(READ_CM,)),
}


def test_the_plan_asks_in_dependency_order_and_once_per_namespace():
    plan = _plan(namespaces=("jobs", "other", "jobs"))
    assert [c.id for c in plan] == [
        "reachability",
        "credentials",
        "identity",
        "permissions:jobs",
        "permissions:other",
    ]
    _, asked = _run(plan, HEALTHY)
    assert asked == [
        ReadVersion(),
        ReviewAccess(namespace="jobs", verb="get", resource="configmaps"),
        ReviewSelf(),
        ReviewRules(namespace="jobs"),
        ReviewRules(namespace="other"),
    ]


def test_healthy_identity_passes_and_the_summary_names_it():
    findings, _ = _run(_plan(), HEALTHY)
    assert [(f.code, f.status) for f in findings] == [
        ("API_REACHABLE", Status.PASS),
        ("AUTH_ACCEPTED", Status.PASS),
        ("AUTH_IDENTITY", Status.PASS),
        ("RBAC_PERMISSIONS", Status.PASS),
    ]
    assert findings[2].evidence == {"user": SA, "groups": "system:serviceaccounts"}
    assert pass_summary(findings) == (
        f"connected to {SERVER} (Kubernetes v1.30.0); authenticated as {SA}; "
        f"{SA} may, in namespace 'jobs': configmaps [core]: get, list."
    )


def test_401_on_version_skips_the_rest_naming_the_rejected_credentials_not_unreachability():
    """Regression: after a 401/403 the skip said "blocked by the API server being unreachable"."""
    findings, asked = _run(_plan(), {ReadVersion: REJECTED})
    assert asked == [ReadVersion()]
    assert [f.code for f in findings] == ["AUTH_CREDENTIALS_REJECTED"] + ["CHECK_SKIPPED"] * 3
    for skipped in findings[1:]:
        assert "unreachable" not in skipped.cause
        assert "AUTH_CREDENTIALS_REJECTED: Credentials rejected" in skipped.cause
        assert skipped.evidence["blocked_by"] == "reachability"


def test_403_on_the_access_review_skips_identity_and_permissions_naming_it():
    anonymous = finding("AUTH_ANONYMOUS", "anonymous.")
    findings, _ = _run(_plan(), {**HEALTHY, ReviewAccess: anonymous})
    assert [f.code for f in findings] == ["API_REACHABLE", "AUTH_ANONYMOUS", "CHECK_SKIPPED", "CHECK_SKIPPED"]
    assert all(f.evidence["blocking_code"] == "AUTH_ANONYMOUS" for f in findings[2:])
    assert "'Credentials'" in findings[3].cause


@pytest.mark.parametrize(
    ("summary", "user", "groups", "how"),
    [
        pytest.param({"claims": {"sub": SA}}, SA, "", "the token's claims", id="jwt-sub"),
        pytest.param(
            {"subject": "CN=alice", "common_name": "alice", "organizations": ["devs"]},
            "alice",
            "devs",
            "the client certificate's subject",
            id="certificate-cn",
        ),
    ],
)
def test_without_self_subject_review_the_identity_comes_from_the_credential(summary, user, groups, how):
    findings, _ = _run(_plan(summary=summary), {**HEALTHY, ReviewSelf: NOT_SERVED})
    identity = findings[2]
    assert identity.code == "AUTH_IDENTITY"
    assert identity.status is Status.PASS
    assert identity.evidence.get("user") == user
    assert identity.evidence.get("groups", "") == groups
    assert how in identity.cause
    assert "Kubernetes < 1.28" in identity.cause
    assert user in findings[3].cause  # the permissions finding names the same identity


def test_an_opaque_token_on_an_old_server_leaves_the_identity_unknown_but_not_failed():
    findings, _ = _run(_plan(summary={"jwt": False}), {**HEALTHY, ReviewSelf: NOT_SERVED})
    assert findings[2].status is Status.INFO
    assert "could not be determined" in findings[2].cause
    assert findings[3].code == "RBAC_PERMISSIONS"
    assert "this identity may" in findings[3].cause
    assert "authenticated (the identity is not known)" in pass_summary(findings)


def test_a_self_subject_review_that_fails_otherwise_is_the_identity_check_failing():
    reset = finding("NET_CONNECTION_RESET", "reset.")
    findings, _ = _run(_plan(summary={"claims": {"sub": SA}}), {**HEALTHY, ReviewSelf: reset})
    assert [f.code for f in findings] == [
        "API_REACHABLE",
        "AUTH_ACCEPTED",
        "NET_CONNECTION_RESET",
        "CHECK_SKIPPED",
    ]


def test_a_failed_rules_review_is_that_namespace_failing_only():
    forbidden = finding("RBAC_FORBIDDEN", "denied.")
    plan = _plan(namespaces=("jobs", "other"))
    answers = {**HEALTHY, ReviewRules(namespace="other"): forbidden}
    findings, _ = _run(plan, answers)
    assert [f.code for f in findings[3:]] == ["RBAC_PERMISSIONS", "RBAC_FORBIDDEN"]


def test_a_runner_feeding_back_the_wrong_type_is_a_bug_not_a_finding():
    run = CheckRun(_plan())
    while batch := run.ready():
        for check in batch:
            if check.id.startswith("permissions"):
                with pytest.raises(TypeError, match="SelfSubjectRulesReview"):
                    run.record(check.id, "not a rules status", 0.0)
                return
            run.record(check.id, HEALTHY[type(check.request)], 0.0)
