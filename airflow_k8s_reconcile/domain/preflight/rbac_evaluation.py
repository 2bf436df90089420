"""Decide each permission check from one rules review per namespace, and name what only an access review can.

The plan (connection-and-preflight facts §5.4): per namespace ONE SelfSubjectRulesReview, evaluated locally with
:mod:`~airflow_k8s_reconcile.domain.preflight.rbac_rules`; then SelfSubjectAccessReviews, concurrently, only for
the checks the rules cannot prove. The runner performs the requests; this module builds their bodies, judges the
answers and says which are needed.

When the rules decide:

- granted by a listed rule: allowed, whatever else the review says (rules are additive);
- not granted and the review is complete: denied (for RBAC alone the rules review and the authorizer read the same
  bindings, ``rbac.go`` ``RulesFor`` / ``Authorize``);
- not granted but ``incomplete`` or an ``evaluationError`` (webhook or Node authorizers, unresolvable bindings):
  unknown, an access review must ask;
- cluster scope (namespace ``""``): the API server only makes rules reviews for a namespace, and those mix in the
  namespace's RoleBindings, which do not apply at cluster scope. A rule found there is therefore no proof (unknown),
  while the absence of any rule is (cluster rules are in every namespace's review).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow_k8s_reconcile.domain.preflight.rbac_rules import RulesReview, rules_grant

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.preflight.permissions import PermissionCheck

Allowed = bool | None
Source = Literal["rules", "access-review", "none"]
_API_VERSION = "authorization.k8s.io/v1"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CheckResult:
    """The final answer for one check: ``allowed`` is ``None`` when nothing could decide it.

    :param check: what was asked.
    :param allowed: ``True``, ``False`` or ``None`` (unknown).
    :param source: which answer decided (``none`` when nothing did).
    :param reason: the access review's ``reason`` or ``evaluationError``, or why it is unknown.
    """

    check: PermissionCheck
    allowed: Allowed
    source: Source
    reason: str = ""


def review_for(check: PermissionCheck, reviews: Mapping[str, RulesReview]) -> RulesReview | None:
    """Return the rules review that speaks for ``check``: its namespace's, or any for cluster-scoped checks."""
    if check.namespace:
        return reviews.get(check.namespace)
    return reviews[min(reviews)] if reviews else None


def evaluate(check: PermissionCheck, reviews: Mapping[str, RulesReview]) -> Allowed:
    """Return ``True``/``False`` when the rules reviews prove the answer, ``None`` when they cannot.

    :param check: one verb on one resource in one namespace (or a non-resource URL).
    :param reviews: rules reviews by namespace.
    :return: the local verdict.
    """
    review = review_for(check, reviews)
    if review is None:
        return None
    granted = rules_grant(review, check)
    if not check.is_resource:  # non-resource rules come only from ClusterRoles via ClusterRoleBindings
        return True if granted else (False if review.complete else None)
    if check.namespace:
        return True if granted else (False if review.complete else None)
    # Cluster scope: a matching rule may come from a RoleBinding of the reviewed namespace.
    return None if granted else (False if review.complete else None)


def evaluate_all(
    checks: Iterable[PermissionCheck], reviews: Mapping[str, RulesReview]
) -> dict[PermissionCheck, Allowed]:
    """Return the local verdict of every check, in order."""
    return {check: evaluate(check, reviews) for check in checks}


def access_reviews_needed(
    local: Mapping[PermissionCheck, Allowed], *, confirm_denials: bool = True
) -> list[PermissionCheck]:
    """Return the checks a SelfSubjectAccessReview must answer, in order.

    The unknown ones always; the denied ones too when ``confirm_denials`` (the default): a FAIL is then the API
    server's word, not ours, which covers authorizers that grant without listing rules yet do not flag the rules
    review incomplete (kubernetes/kubernetes#90975). Denials are what a preflight reports, so they are few.

    :param local: the verdicts of :func:`evaluate_all`.
    :param confirm_denials: also confirm local denials.
    :return: the checks to send.
    """
    return [
        check for check, allowed in local.items() if allowed is None or (confirm_denials and allowed is False)
    ]


def rules_review_request(namespace: str) -> dict[str, Any]:
    """Return the SelfSubjectRulesReview body for ``namespace`` (``apiVersion``/``kind`` included, as kubectl)."""
    return {"apiVersion": _API_VERSION, "kind": "SelfSubjectRulesReview", "spec": {"namespace": namespace}}


def access_review_request(check: PermissionCheck) -> dict[str, Any]:
    """Return the SelfSubjectAccessReview body for ``check`` (authorization.k8s.io/v1 field names)."""
    if not check.is_resource:
        spec: dict[str, Any] = {"nonResourceAttributes": {"path": check.url, "verb": check.verb}}
    else:
        attributes = {
            "namespace": check.namespace,
            "verb": check.verb,
            "group": check.group,
            "resource": check.resource,
            "subresource": check.subresource,
            "name": check.name,
        }
        spec = {"resourceAttributes": {key: value for key, value in attributes.items() if value}}
    return {"apiVersion": _API_VERSION, "kind": "SelfSubjectAccessReview", "spec": spec}


def judge_access_review(check: PermissionCheck, status: Mapping[str, Any]) -> CheckResult:
    """Return the result for the ``status`` of a SelfSubjectAccessReview.

    ``allowed`` decides; without it, ``denied`` or a plain ``allowed: false`` (RBAC's denial on 1.20.2 is exactly
    ``{"allowed": false}``) is a denial, unless an ``evaluationError`` says the authorizers could not finish, which
    leaves the answer unknown.
    """
    reason = str(status.get("reason") or "")
    error = str(status.get("evaluationError") or "")
    if status.get("allowed") is True:
        return CheckResult(check=check, allowed=True, source="access-review", reason=reason)
    if error and status.get("denied") is not True:
        return CheckResult(check=check, allowed=None, source="access-review", reason=error)
    return CheckResult(check=check, allowed=False, source="access-review", reason=reason)


def settle(
    local: Mapping[PermissionCheck, Allowed],
    answers: Mapping[PermissionCheck, CheckResult],
    *,
    unanswered: str = "the rules review could not prove it and no access review answered",
) -> tuple[CheckResult, ...]:
    """Return the final result of every check: the access review's answer where there is one, else the rules'.

    :param local: the verdicts of :func:`evaluate_all`.
    :param answers: access-review results by check (from :func:`judge_access_review`, or unknown on a failed
        request).
    :param unanswered: the reason recorded for a check nothing decided.
    :return: one result per check of ``local``, in order.
    """
    results: list[CheckResult] = []
    for check, allowed in local.items():
        if check in answers:
            results.append(answers[check])
        elif allowed is None:
            results.append(CheckResult(check=check, allowed=None, source="none", reason=unanswered))
        else:
            results.append(CheckResult(check=check, allowed=allowed, source="rules"))
    return tuple(results)


def missing(results: Sequence[CheckResult]) -> tuple[PermissionCheck, ...]:
    """Return the checks that are denied (not the unknown ones)."""
    return tuple(result.check for result in results if result.allowed is False)
