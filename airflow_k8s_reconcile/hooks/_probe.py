"""Run the connection test against the API server: reachability, authentication, identity, permissions.

Each step is a real request with no retries (a dead endpoint otherwise costs four timeouts). Failures are
translated by :mod:`~airflow_k8s_reconcile.hooks._errors`; later steps are reported as skipped, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kubernetes import client as k8s

from airflow_k8s_reconcile.domain.connection import connection_test as probe
from airflow_k8s_reconcile.hooks._errors import translate

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.resolution import Resolution
    from airflow_k8s_reconcile.exceptions import ClusterAccessError
    from airflow_k8s_reconcile.findings import Finding


def _failed(err: ClusterAccessError) -> Finding:
    assert err.finding is not None  # noqa: S101 - translate() always attaches one
    return err.finding


def _whoami(api: Any, resolution: Resolution) -> tuple[str, str]:
    """Return (username, how we know): SelfSubjectReview where served (1.28+), else the token's claims."""
    try:
        review = k8s.AuthenticationV1Api(api).create_self_subject_review(k8s.V1SelfSubjectReview())
        return str(review.status.user_info.username or ""), "SelfSubjectReview"
    except Exception as err:
        if getattr(err, "status", None) in (401,):
            raise
    summary = resolution.credential_summary
    claims = summary.get("claims")
    if isinstance(claims, dict) and isinstance(claims.get("sub"), str):
        return claims["sub"], "the token's claims (SelfSubjectReview is not served by this server)"
    subject = summary.get("subject")
    if subject:
        return str(
            subject
        ), "the client certificate's subject (SelfSubjectReview is not served by this server)"
    return "", "nowhere: this server has no SelfSubjectReview (Kubernetes < 1.28) and the token is not a JWT"


def run_probe(api: Any, resolution: Resolution, *, namespaces: Sequence[str] = ()) -> list[Finding]:
    """Run the checks in dependency order and return one finding per check (permissions: one per namespace)."""
    source = resolution.source
    findings: list[Finding] = []
    try:
        version = k8s.VersionApi(api).get_code()
    except Exception as err:
        findings.append(_failed(translate(err, server=source.server, action="read /version")))
        findings.append(probe.skipped("Credentials", "the API server being unreachable"))
        return findings
    findings.append(probe.reachable(source.server, str(version.git_version)))

    review = k8s.V1SelfSubjectAccessReview(
        spec=k8s.V1SelfSubjectAccessReviewSpec(
            resource_attributes=k8s.V1ResourceAttributes(
                namespace=resolution.namespace, verb="get", resource="configmaps"
            )
        )
    )
    try:
        k8s.AuthorizationV1Api(api).create_self_subject_access_review(review)
        username, how = _whoami(api, resolution)
    except Exception as err:
        findings.append(
            _failed(translate(err, server=source.server, action="create a SelfSubjectAccessReview"))
        )
        findings.append(probe.skipped("Permissions", "the credentials not being accepted"))
        return findings
    findings.append(probe.authenticated(username, how))

    for namespace in namespaces or (resolution.namespace,):
        findings.append(_assess(api, resolution, namespace, username))
    return findings


def _assess(api: Any, resolution: Resolution, namespace: str, username: str) -> Finding:
    rules_review = k8s.V1SelfSubjectRulesReview(spec=k8s.V1SelfSubjectRulesReviewSpec(namespace=namespace))
    try:
        status = k8s.AuthorizationV1Api(api).create_self_subject_rules_review(rules_review).status
    except Exception as err:
        return _failed(
            translate(err, server=resolution.source.server, action=f"list own permissions in {namespace}")
        )
    rules = [
        probe.RuleView(
            api_groups=tuple(rule.api_groups or ()),
            resources=tuple(rule.resources or ()),
            verbs=tuple(rule.verbs or ()),
        )
        for rule in status.resource_rules or ()
    ]
    return probe.assess_rules(namespace, username, rules, incomplete=bool(status.incomplete))
