from __future__ import annotations

import pytest

from airflow_k8s_reconcile.domain.connection import connection_test as probe
from airflow_k8s_reconcile.domain.connection.api.requests import Identity, RuleView
from airflow_k8s_reconcile.domain.connection.connection_test import assess_rules
from airflow_k8s_reconcile.findings import Finding, Report, Status, verdict

SELF_REVIEWS = RuleView(
    api_groups=("authorization.k8s.io",),
    resources=("selfsubjectaccessreviews", "selfsubjectrulesreviews"),
    verbs=("create",),
)
SA = "system:serviceaccount:jobs:worker"


def _f(status: Status, code: str = "X") -> Finding:
    return Finding(code=code, status=status, title="t", cause="c.")


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        pytest.param([Status.PASS, Status.INFO], "pass", id="pass"),
        pytest.param([Status.PASS, Status.WARN], "warn", id="warn"),
        pytest.param([Status.PASS, Status.UNKNOWN], "warn", id="unknown-is-not-a-pass"),
        pytest.param([Status.WARN, Status.FAIL, Status.SKIPPED], "fail", id="fail-wins"),
    ],
)
def test_verdict(statuses, expected):
    assert verdict([_f(s) for s in statuses]) == expected


def test_self_review_rules_alone_are_no_permissions_with_a_concrete_fix():
    finding = assess_rules("jobs", SA, [SELF_REVIEWS], incomplete=False)
    assert finding.code == probe.RBAC_NO_PERMISSIONS
    assert finding.status is Status.WARN
    assert "--serviceaccount=jobs:worker" in finding.fix
    assert "-n jobs" in finding.fix


def test_granted_rules_are_listed():
    rule = RuleView(api_groups=("",), resources=("configmaps",), verbs=("list", "get"))
    finding = assess_rules("jobs", SA, [SELF_REVIEWS, rule], incomplete=False)
    assert finding.code == probe.RBAC_PERMISSIONS
    assert "configmaps [core]: get, list" in finding.cause


def test_an_admins_wildcards_read_as_words_not_stars():
    admin = RuleView(api_groups=("*",), resources=("*",), verbs=("*",))
    finding = assess_rules("jobs", "admin", [SELF_REVIEWS, admin], incomplete=False)
    assert finding.code == probe.RBAC_PERMISSIONS
    assert "all resources in all API groups: all verbs (cluster-admin-like)" in finding.cause
    assert "*" not in finding.cause


def test_partial_wildcards_name_what_they_cover():
    rules = [
        RuleView(api_groups=("",), resources=("*",), verbs=("get", "list")),
        RuleView(api_groups=("apps",), resources=("deployments",), verbs=("*",)),
        RuleView(api_groups=("*",), resources=("configmaps",), verbs=("get",)),
    ]
    cause = assess_rules("jobs", SA, rules, incomplete=False).cause
    assert "all resources [core]: get, list" in cause
    assert "deployments [apps]: all verbs" in cause
    assert "configmaps in all API groups: get" in cause
    assert "*" not in cause
    assert "cluster-admin-like" not in cause


def test_incomplete_rules_without_grants_are_unknown():
    finding = assess_rules("jobs", SA, [SELF_REVIEWS], incomplete=True)
    assert finding.status is Status.UNKNOWN
    assert "kubectl auth can-i" in finding.fix


def test_report_json_shape_and_headline():
    findings = [
        probe.reachable("https://api:6443", "v1.30.0"),
        probe.authenticated("jobs"),
        probe.identified(Identity(username=SA), "SelfSubjectReview"),
    ]
    report = Report.build(findings, {"mode": "in_cluster"}, summary=probe.pass_summary(findings))
    assert report.ok
    assert set(report.to_dict()) == {"verdict", "findings", "connection"}
    assert report.render().splitlines()[0] == (
        f"PASS: connected to https://api:6443 (Kubernetes v1.30.0); authenticated as {SA}."
    )
    failing = Report.build([*findings, _f(Status.FAIL, "NET_X")], {})
    assert failing.render().startswith("FAIL: t: c.")
    assert not failing.ok


def test_connection_not_found_names_the_environment_variable():
    finding = probe.connection_not_found("my-conn")
    assert "AIRFLOW_CONN_MY_CONN" in finding.fix
