"""The preflight's RBAC and admission checks, and what the report shows from them.

Stage 8 (RBAC) is ``len(namespaces)`` rules-review checks, which the async runner sends concurrently, followed by
ONE access-review check whose request is derived from what the rules reviews returned: only the permission checks
the rules cannot prove, plus local denials to confirm (a FAIL is then the API server's word, kubernetes#90975).
With every permission granted by a complete review, that is zero access reviews: the whole stage costs one request
per namespace, where ``kubectl auth can-i`` costs one per verb. Stage 9 (optional) is a server-side dry-run of a
write.

The judges are pure; :func:`rbac_summary` turns the settled outcomes into the report's ``identity``,
``permissions`` and ``remediation`` and into one finding per missing target (the check itself carries the first).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow_k8s_reconcile.domain.common.catalogue import (
    ADMISSION_DENIED,
    ADMISSION_DRY_RUN_ACCEPTED,
    RBAC_FORBIDDEN,
    RBAC_RULES_REVIEWED,
    finding,
)
from airflow_k8s_reconcile.domain.common.checks import Check, CheckOutcome, Judge, Observation
from airflow_k8s_reconcile.domain.preflight.permissions import Permission, PermissionCheck, expand_checks
from airflow_k8s_reconcile.domain.preflight.rbac_evaluation import (
    CheckResult,
    access_reviews_needed,
    evaluate_all,
    judge_access_review,
    missing,
    settle,
)
from airflow_k8s_reconcile.domain.preflight.rbac_findings import permission_findings
from airflow_k8s_reconcile.domain.preflight.rbac_remediation import rbac_remediation
from airflow_k8s_reconcile.domain.preflight.rbac_rules import RulesReview, parse_rules_review
from airflow_k8s_reconcile.domain.preflight.requests import (
    AccessAnswers,
    DryRunAnswer,
    DryRunCreate,
    ReadRulesReview,
    ReviewAccessBatch,
)
from airflow_k8s_reconcile.domain.preflight.subjects import Subject
from airflow_k8s_reconcile.findings import Finding

RBAC, DRY_RUN = "rbac", "dry-run"
RBAC_TITLE = "RBAC"


def rules_check_id(namespace: str) -> str:
    """Return the id of the rules-review check for ``namespace``."""
    return f"rules:{namespace}"


def _username(earlier: Mapping[str, Finding], identity_id: str) -> str:
    return earlier[identity_id].evidence.get("user", "") if identity_id in earlier else ""


def _reviews(observed: Mapping[str, Observation], namespaces: Sequence[str]) -> dict[str, RulesReview]:
    reviews = {}
    for namespace in namespaces:
        status = observed.get(rules_check_id(namespace))
        if isinstance(status, Mapping):
            reviews[namespace] = parse_rules_review(status, namespace)
    return reviews


def _rules_judge(namespace: str) -> Judge:
    def judge(observed: Observation, _: Mapping[str, Finding]) -> Finding:
        if isinstance(observed, Finding):
            return observed
        if not isinstance(observed, Mapping):
            raise TypeError(f"a runner fed back {type(observed).__name__} for a SelfSubjectRulesReview")
        review = parse_rules_review(observed, namespace)
        note = "" if review.complete else " (incomplete: another authorizer cannot list its rules)"
        return finding(
            RBAC_RULES_REVIEWED,
            f"One SelfSubjectRulesReview listed {len(review.resource_rules)} resource and "
            f"{len(review.non_resource_rules)} non-resource rules in namespace {namespace!r}{note}.",
            evidence={"namespace": namespace, "incomplete": str(not review.complete).lower()},
        )

    return judge


def answers_of(observed: AccessAnswers) -> dict[PermissionCheck, CheckResult]:
    """Return the access-review results by check; a failed request leaves its check unknown, with the cause."""
    results = {}
    for check, answer in observed.answers:
        if isinstance(answer, Finding):
            results[check] = CheckResult(
                check=check, allowed=None, source="access-review", reason=answer.cause
            )
        else:
            results[check] = judge_access_review(check, answer)
    return results


def settled(observed: AccessAnswers) -> tuple[CheckResult, ...]:
    """Return every permission check's final result from the access-review check's observation."""
    return settle(dict(observed.request.local), answers_of(observed))


def rbac_checks(
    permissions: Iterable[Permission],
    namespaces: Sequence[str],
    *,
    identity_id: str,
    needs: tuple[str, ...] = (),
    cluster_scoped: Iterable[tuple[str, str]] = (),
) -> tuple[Check, ...]:
    """Return the RBAC stage: one rules review per namespace, then the derived access reviews.

    :param permissions: what the task needs.
    :param namespaces: where it works (at least one: rules reviews are per namespace).
    :param identity_id: the check whose finding names the user (``evidence['user']``), for the wording.
    :param needs: the checks the rules reviews depend on (credentials, identity).
    :param cluster_scoped: further cluster-scoped ``(group, plural)`` (e.g. cluster-scoped CRDs).
    :raises ValueError: without a permission or a namespace.
    """
    checks = expand_checks(permissions, namespaces, cluster_scoped=cluster_scoped)
    if not checks:
        raise ValueError("the RBAC stage needs at least one permission")
    targets = tuple(dict.fromkeys([*namespaces, *(c.namespace for c in checks if c.namespace)]))
    if not targets:
        raise ValueError("the RBAC stage needs at least one namespace to review rules in")

    def derive(observed: Mapping[str, Observation]) -> ReviewAccessBatch:
        local = evaluate_all(checks, _reviews(observed, targets))
        return ReviewAccessBatch(checks=tuple(access_reviews_needed(local)), local=tuple(local.items()))

    def judge(observed: Observation, earlier: Mapping[str, Finding]) -> Finding:
        if isinstance(observed, Finding):
            return observed
        if not isinstance(observed, AccessAnswers):
            raise TypeError(f"a runner fed back {type(observed).__name__} for access reviews")
        found = permission_findings(settled(observed), _username(earlier, identity_id))
        if not found:
            raise ValueError("the RBAC stage ran without a permission to check")
        return found[0]

    rules = [
        Check(
            id=rules_check_id(namespace),
            title=f"Rules in namespace {namespace!r}",
            request=ReadRulesReview(namespace=namespace),
            judge=_rules_judge(namespace),
            needs=needs,
        )
        for namespace in targets
    ]
    access = Check(
        id=RBAC,
        title=RBAC_TITLE,
        request=None,
        derive=derive,
        judge=judge,
        needs=tuple(check.id for check in rules),
    )
    return (*rules, access)


def dry_run_check(namespace: str, *, needs: tuple[str, ...]) -> Check:
    """Return stage 9: a server-side dry-run create of a ConfigMap in ``namespace`` (stores nothing)."""
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"generateName": "airflow-k8s-reconcile-preflight-", "namespace": namespace},
        "data": {"preflight": "dry-run"},
    }

    def judge(observed: Observation, _: Mapping[str, Finding]) -> Finding:
        if isinstance(observed, Finding):
            return observed
        if not isinstance(observed, DryRunAnswer):
            raise TypeError(f"a runner fed back {type(observed).__name__} for a dry-run")
        return judge_dry_run(observed, namespace)

    return Check(
        id=DRY_RUN,
        title=f"Dry-run write in namespace {namespace!r}",
        request=DryRunCreate(namespace=namespace, manifest=manifest),
        judge=judge,
        needs=needs,
    )


def judge_dry_run(answer: DryRunAnswer, namespace: str) -> Finding:
    """Return the finding for a dry-run create: accepted, refused by RBAC, or refused by admission/validation."""
    if answer.accepted:
        return finding(
            ADMISSION_DRY_RUN_ACCEPTED,
            f"A dry-run create of a ConfigMap in namespace {namespace!r} passed authorization, admission and "
            "validation (dryRun=All: nothing was stored).",
            evidence={"namespace": namespace},
        )
    evidence = {"namespace": namespace, "http_status": str(answer.status), "reason": answer.reason}
    if answer.status == 403 and " cannot create resource " in answer.message:  # RBAC's forbiddenMessage
        return finding(
            RBAC_FORBIDDEN,
            f"The dry-run create was refused by RBAC: {answer.message}",
            "Grant 'create configmaps' in the namespace, or run without the dry-run check.",
            evidence=evidence,
        )
    return finding(
        ADMISSION_DENIED,
        f"A dry-run create of a ConfigMap in namespace {namespace!r} was refused ({answer.status} "
        f"{answer.reason}): {answer.message}",
        "Change the object to satisfy the policy named in the message, or ask the namespace's owners for an "
        "exception; RBAC is not the cause.",
        evidence=evidence,
    )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RbacSummary:
    """What the report shows from the RBAC stage.

    :param findings: one per missing or unknown target (or the single PASS), in check order.
    :param permissions: one row per permission check: namespace, verb, resource, group, allowed.
    :param remediation: ``{"rbac_yaml", "commands", "verify"}`` when something is missing and the user is known.
    """

    findings: tuple[Finding, ...] = ()
    permissions: tuple[dict[str, Any], ...] = ()
    remediation: dict[str, object] | None = None


def permission_rows(results: Sequence[CheckResult]) -> tuple[dict[str, Any], ...]:
    """Return the ``permissions`` rows of ``doctor --json`` (a non-resource URL is the resource, group ``""``)."""
    return tuple(
        {
            "namespace": result.check.namespace,
            "verb": result.check.verb,
            "resource": result.check.resource_path if result.check.is_resource else result.check.url,
            "group": result.check.group,
            **({"name": result.check.name} if result.check.name else {}),
            "allowed": result.allowed,
        }
        for result in results
    )


def rbac_summary(outcomes: Sequence[CheckOutcome], username: str) -> RbacSummary:
    """Return the RBAC stage's findings, rows and remediation from the settled outcomes (empty if not run)."""
    outcome = next((o for o in outcomes if o.check_id == RBAC), None)
    if outcome is None or not isinstance(outcome.observation, AccessAnswers):
        return RbacSummary()
    results = settled(outcome.observation)
    denied = missing(results)
    remediation = None
    if denied and username:
        remediation = rbac_remediation(denied, Subject.for_user(username)).to_dict()
    return RbacSummary(
        findings=tuple(permission_findings(results, username)),
        permissions=permission_rows(results),
        remediation=remediation,
    )
