"""Findings for required permissions: missing, not checkable, granted; and for a malformed ``--require`` SPEC.

A missing permission reads like the API server's own 403 (``responsewriters/errors.go`` ``forbiddenMessage``), so
the preflight failure and the failure it prevents look alike: ``system:serviceaccount:airflow:worker cannot list
configmaps in namespace jobs``. Verbs on the same target are merged into one finding; the evidence names each
field separately (group included, ``""`` being the core group).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from airflow_k8s_reconcile.domain.common.catalogue import (
    PREFLIGHT_BAD_PERMISSION_SPEC,
    RBAC_PERMISSION_MISSING,
    RBAC_PERMISSION_UNKNOWN,
    RBAC_PERMISSIONS_GRANTED,
    finding,
)
from airflow_k8s_reconcile.domain.preflight.permissions import (
    SPEC_EXAMPLES,
    PermissionCheck,
    PermissionSpecError,
)
from airflow_k8s_reconcile.domain.preflight.rbac_remediation import can_i_command
from airflow_k8s_reconcile.domain.preflight.subjects import Subject

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.preflight.rbac_evaluation import CheckResult
    from airflow_k8s_reconcile.findings import Finding

_Target = tuple[str, str, str, str, str, str]  # namespace, group, resource, subresource, name, url


def _target(check: PermissionCheck) -> _Target:
    return (check.namespace, check.group, check.resource, check.subresource, check.name, check.url)


def _verbs_phrase(verbs: Sequence[str]) -> str:
    return verbs[0] if len(verbs) == 1 else ", ".join(verbs[:-1]) + f" or {verbs[-1]}"


def _what(check: PermissionCheck) -> str:
    """Return ``configmaps in namespace jobs``, ``nodes at cluster scope`` or ``path /metrics``."""
    if not check.is_resource:
        return f"path {check.url}"
    named = f" named {check.name!r}" if check.name else ""
    where = f"in namespace {check.namespace}" if check.namespace else "at cluster scope"
    return f"{check.kubectl_resource}{named} {where}"


def _grouped(results: Sequence[CheckResult], allowed: bool | None) -> dict[_Target, list[CheckResult]]:
    groups: dict[_Target, list[CheckResult]] = defaultdict(list)
    for result in results:
        if result.allowed is allowed:
            groups[_target(result.check)].append(result)
    return groups


def _evidence(check: PermissionCheck, username: str, verbs: Sequence[str]) -> dict[str, str]:
    evidence = {
        "user": username,
        "verb": ",".join(verbs),
        "resource": check.resource_path if check.is_resource else "",
        "group": check.group,
        "namespace": check.namespace,
        "name": check.name,
        "path": check.url,
    }
    # ``group`` stays even when empty: "" is the core group, a fact worth stating.
    return {key: value for key, value in evidence.items() if value or (key == "group" and check.is_resource)}


def missing_permission_findings(results: Sequence[CheckResult], username: str) -> list[Finding]:
    """Return one FAIL per denied target (verbs merged), naming user, verbs, resource, group and namespace.

    :param results: the settled results (``rbac_evaluation.settle``).
    :param username: the identity the API server reported.
    :return: the findings, in check order.
    """
    subject = Subject.for_user(username)
    out: list[Finding] = []
    for group in _grouped(results, False).values():
        check = group[0].check
        verbs = [result.check.verb for result in group]
        verify = "; ".join(can_i_command(result.check, subject) for result in group)
        out.append(
            finding(
                RBAC_PERMISSION_MISSING,
                f"{username} cannot {_verbs_phrase(verbs)} {_what(check)}.",
                "Apply the least-privilege Role and RoleBinding of the report's remediation (rbac_yaml, or the "
                f"kubectl create commands) as a cluster admin, then verify: {verify}.",
                evidence=_evidence(check, username, verbs),
            )
        )
    return out


def unknown_permission_findings(results: Sequence[CheckResult], username: str) -> list[Finding]:
    """Return one UNKNOWN per target nothing could decide, with the reason (incomplete rules, failed review)."""
    out: list[Finding] = []
    for group in _grouped(results, None).values():
        check = group[0].check
        verbs = [result.check.verb for result in group]
        reason = group[0].reason or "no answer"
        out.append(
            finding(
                RBAC_PERMISSION_UNKNOWN,
                f"Whether {username} may {_verbs_phrase(verbs)} {_what(check)} could not be determined: {reason}.",
                "Check it as a cluster admin with: "
                + "; ".join(can_i_command(result.check, Subject.for_user(username)) for result in group)
                + ". The rules review is incomplete on clusters with webhook authorizers (EKS, AKS); the "
                "identity needs 'create selfsubjectaccessreviews' (granted by system:basic-user).",
                evidence=_evidence(check, username, verbs),
            )
        )
    return out


def granted_finding(results: Sequence[CheckResult], username: str) -> Finding | None:
    """Return the PASS finding when every check is allowed, else ``None``."""
    if not results or any(result.allowed is not True for result in results):
        return None
    namespaces = sorted({result.check.namespace for result in results if result.check.namespace})
    where = f" in namespace{'s' if len(namespaces) > 1 else ''} {', '.join(namespaces)}" if namespaces else ""
    confirmed = sum(result.source == "access-review" for result in results)
    how = f" ({confirmed} confirmed by access reviews)" if confirmed else ""
    return finding(
        RBAC_PERMISSIONS_GRANTED,
        f"{username} holds all {len(results)} required permission checks{where}{how}.",
        evidence={"user": username, "checks": str(len(results))},
    )


def permission_findings(results: Sequence[CheckResult], username: str) -> list[Finding]:
    """Return the findings of the RBAC stage: missing first, then unknown, or the single PASS."""
    granted = granted_finding(results, username)
    if granted is not None:
        return [granted]
    return missing_permission_findings(results, username) + unknown_permission_findings(results, username)


def bad_spec_finding(error: PermissionSpecError) -> Finding:
    """Return the FAIL for a malformed ``--require`` SPEC (the CLI exits 2 with it)."""
    return finding(
        PREFLIGHT_BAD_PERMISSION_SPEC,
        str(error),
        f"Write each --require as VERB[,VERB...]:RESOURCE, e.g. {SPEC_EXAMPLES}.",
    )
