"""Findings of the RBAC stage name the user, verbs, resource, group and namespace."""

from __future__ import annotations

from airflow_k8s_reconcile.domain.common.catalogue import CATALOGUE
from airflow_k8s_reconcile.domain.preflight.permissions import (
    PermissionCheck,
    PermissionSpecError,
    parse_spec,
)
from airflow_k8s_reconcile.domain.preflight.rbac_evaluation import CheckResult
from airflow_k8s_reconcile.domain.preflight.rbac_findings import (
    bad_spec_finding,
    granted_finding,
    missing_permission_findings,
    permission_findings,
    unknown_permission_findings,
)
from airflow_k8s_reconcile.findings import Report, Status

USER = "system:serviceaccount:airflow:worker"


def _result(verb, allowed, resource="configmaps", namespace="jobs", source="rules", **more):
    check = PermissionCheck(verb=verb, resource=resource, namespace=namespace, **more)
    return CheckResult(
        check=check, allowed=allowed, source=source, reason="" if allowed is not None else "incomplete"
    )


def test_a_missing_permission_fails_naming_user_verb_resource_and_namespace():
    [finding] = missing_permission_findings([_result("list", False)], USER)
    assert finding.code == "RBAC_PERMISSION_MISSING"
    assert finding.status is Status.FAIL
    assert finding.cause == f"{USER} cannot list configmaps in namespace jobs."
    assert dict(finding.evidence) == {
        "user": USER,
        "verb": "list",
        "resource": "configmaps",
        "group": "",
        "namespace": "jobs",
    }
    assert f"kubectl auth can-i list configmaps -n jobs --as={USER}" in finding.fix


def test_verbs_on_one_target_merge_and_other_targets_stay_apart():
    results = [
        _result("get", False),
        _result("list", False),
        _result("watch", False),
        _result("get", True, "secrets"),
        _result("create", False, "widgets", group="example.com"),
        _result("create", False, "pods", subresource="exec", namespace="ml"),
        _result("list", False, "nodes", namespace=""),
    ]
    causes = [f.cause for f in missing_permission_findings(results, USER)]
    assert causes == [
        f"{USER} cannot get, list or watch configmaps in namespace jobs.",
        f"{USER} cannot create widgets.example.com in namespace jobs.",
        f"{USER} cannot create pods/exec in namespace ml.",
        f"{USER} cannot list nodes at cluster scope.",
    ]
    group = missing_permission_findings([results[4]], USER)[0].evidence["group"]
    assert group == "example.com"


def test_the_report_headline_is_the_first_missing_permission():
    report = Report.build(permission_findings([_result("get", True), _result("list", False)], USER), {})
    assert report.verdict == "fail"
    assert (
        report.headline
        == f"FAIL: Required permission missing: {USER} cannot list configmaps in namespace jobs."
    )


def test_unknown_permissions_are_unknown_with_the_reason_and_a_can_i_line():
    [finding] = unknown_permission_findings([_result("get", None, "secrets")], USER)
    assert finding.status is Status.UNKNOWN
    assert "could not be determined: incomplete" in finding.cause
    assert "kubectl auth can-i get secrets -n jobs" in finding.fix


def test_all_granted_is_one_pass():
    results = [_result("get", True), _result("list", True, namespace="ml", source="access-review")]
    [finding] = permission_findings(results, USER)
    assert finding.status is Status.PASS
    assert (
        finding.cause
        == f"{USER} holds all 2 required permission checks in namespaces jobs, ml (1 confirmed by access reviews)."
    )
    assert granted_finding([_result("get", True), _result("list", None)], USER) is None
    assert granted_finding([], USER) is None


def test_missing_then_unknown():
    findings = permission_findings([_result("get", None), _result("list", False)], USER)
    assert [f.code for f in findings] == ["RBAC_PERMISSION_MISSING", "RBAC_PERMISSION_UNKNOWN"]


def test_non_resource_paths_are_named():
    [finding] = missing_permission_findings(
        [
            CheckResult(
                check=PermissionCheck(verb="get", url="/metrics"), allowed=False, source="access-review"
            )
        ],
        USER,
    )
    assert finding.cause == f"{USER} cannot get path /metrics."
    assert finding.evidence["path"] == "/metrics"
    assert "group" not in finding.evidence


def test_a_bad_spec_finding_carries_the_parser_message():
    try:
        parse_spec("get:ConfigMap")
    except PermissionSpecError as error:
        finding = bad_spec_finding(error)
    assert finding.code == "PREFLIGHT_BAD_PERMISSION_SPEC"
    assert finding.status is Status.FAIL
    assert "'ConfigMap'" in finding.cause
    assert "get,list,watch:configmaps" in finding.fix


def test_the_new_codes_are_catalogued_with_their_statuses():
    assert CATALOGUE["RBAC_PERMISSION_MISSING"][0] is Status.FAIL
    assert CATALOGUE["RBAC_PERMISSION_UNKNOWN"][0] is Status.UNKNOWN
    assert CATALOGUE["RBAC_PERMISSIONS_GRANTED"][0] is Status.PASS
    assert CATALOGUE["PREFLIGHT_BAD_PERMISSION_SPEC"][0] is Status.FAIL
