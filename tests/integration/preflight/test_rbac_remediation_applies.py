"""The generated least-privilege YAML, applied by an admin, turns the same permission checks green."""

from __future__ import annotations

import json
import time

from kubernetes import client as k8s

from airflow_k8s_reconcile.domain.preflight.permissions import expand_checks, parse_spec
from airflow_k8s_reconcile.domain.preflight.rbac_evaluation import (
    access_review_request,
    access_reviews_needed,
    evaluate_all,
    judge_access_review,
    missing,
    rules_review_request,
    settle,
)
from airflow_k8s_reconcile.domain.preflight.rbac_findings import permission_findings
from airflow_k8s_reconcile.domain.preflight.rbac_remediation import rbac_remediation
from airflow_k8s_reconcile.domain.preflight.rbac_rules import parse_rules_review
from airflow_k8s_reconcile.domain.preflight.subjects import Subject

SPECS = ["get,list,watch:configmaps", "create,get:pods/exec", "get:pods/log", "list:nodes", "get:/metrics"]


def _identity_api(cluster, token):
    config = k8s.Configuration()
    config.host = cluster.server
    config.ssl_ca_cert = str(cluster.ca_cert_path)
    config.api_key = {"authorization": f"Bearer {token}"}
    return k8s.AuthorizationV1Api(k8s.ApiClient(config))


def _preflight(api, checks, namespaces):
    """What a runner does: one rules review per namespace, access reviews only where needed."""
    reviews = {}
    for ns in namespaces:
        body = api.create_self_subject_rules_review(rules_review_request(ns), _preload_content=False)
        reviews[ns] = parse_rules_review(json.loads(body.data)["status"], ns)
    local = evaluate_all(checks, reviews)
    answers = {}
    for check in access_reviews_needed(local):
        body = api.create_self_subject_access_review(access_review_request(check), _preload_content=False)
        answers[check] = judge_access_review(check, json.loads(body.data)["status"])
    return settle(local, answers), len(namespaces) + len(answers)


def _apply(admin, documents):
    rbac = k8s.RbacAuthorizationV1Api(admin)
    created = []
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
        created.append((kind, doc["metadata"]["name"]))
    return created


def test_generated_rbac_turns_the_failing_checks_green(k8s_cluster, k8s_admin, k8s_namespace, k8s_identity):
    identity = k8s_identity(rules=[])
    api = _identity_api(k8s_cluster, identity.token)
    checks = expand_checks([parse_spec(spec) for spec in SPECS], [k8s_namespace])

    before, requests = _preflight(api, checks, [k8s_namespace])
    assert requests == 1 + len(checks)  # one rules review, then every local denial confirmed by the server
    assert all(result.allowed is False for result in before)
    findings = permission_findings(before, identity.username)
    assert (
        findings[0].cause
        == f"{identity.username} cannot get, list or watch configmaps in namespace {k8s_namespace}."
    )

    remediation = rbac_remediation(missing(before), Subject.for_user(identity.username))
    assert "*" not in remediation.yaml
    rbac = k8s.RbacAuthorizationV1Api(k8s_admin)
    created = _apply(k8s_admin, remediation.documents)
    try:
        deadline = time.monotonic() + 10
        while True:
            after, requests = _preflight(api, checks, [k8s_namespace])
            if all(result.allowed for result in after) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert [result.check for result in after if not result.allowed] == []
        # Namespaced and non-resource checks are proven by the rules review; only cluster-scoped "list nodes"
        # needs an access review (a rule in a namespace's review may come from a RoleBinding).
        assert requests == 2
        assert [f.code for f in permission_findings(after, identity.username)] == ["RBAC_PERMISSIONS_GRANTED"]
    finally:
        for kind, name in created:
            if kind == "ClusterRole":
                rbac.delete_cluster_role(name)
            elif kind == "ClusterRoleBinding":
                rbac.delete_cluster_role_binding(name)
