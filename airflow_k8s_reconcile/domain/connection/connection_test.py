"""Judge a connection test (``test_connection``, ``doctor``): which checks passed and what the verdict is.

The hook observes (server version, whether the credentials were accepted, who the server says we are, the rules
the identity holds in its namespace); this module turns the observations into findings and a verdict. The key
rule: reaching ``/version`` proves nothing about credentials (it is readable anonymously, KEP-789), so a test only
passes once an authenticated call succeeded, and an identity with no permissions at all is a warning, not a plain
success. Called by ``hooks._probe``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from airflow_k8s_reconcile.domain.common.catalogue import (
    API_REACHABLE,
    AUTH_ACCEPTED,
    CHECK_SKIPPED,
    CONN_CONNECTION_NOT_FOUND,
    CONN_RESOLVED,
    RBAC_NO_PERMISSIONS,
    RBAC_PERMISSIONS,
    RBAC_RULES_INCOMPLETE,
    finding,
)
from airflow_k8s_reconcile.domain.connection.api_errors import subject_flag

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding

# Granted to every authenticated user by system:basic-user; they say nothing about what the identity may do.
_SELF_REVIEWS = frozenset({"selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"})


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RuleView:
    """One resource rule from a SelfSubjectRulesReview."""

    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()


def _finding(code: str, cause: str, fix: str = "", **evidence: str) -> Finding:
    return finding(code, cause, fix, evidence={k: v for k, v in evidence.items() if v})


def connection_not_found(conn_id: str) -> Finding:
    """Return the finding for a connection id Airflow does not know."""
    env = "AIRFLOW_CONN_" + conn_id.upper().replace("-", "_")
    return _finding(
        CONN_CONNECTION_NOT_FOUND,
        f"Airflow has no connection with id {conn_id!r}.",
        f"Create it (Admin > Connections, type 'Kubernetes (reconcile)'), or set the environment variable {env} "
        "to its JSON form, or pass the id of an existing connection.",
        conn_id=conn_id,
    )


def resolved(summary: str) -> Finding:
    """Return the passing finding for a connection that resolved to client settings."""
    return _finding(CONN_RESOLVED, summary)


def reachable(server: str, version: str) -> Finding:
    """Return the passing finding for a server that answered ``/version`` over verified TLS."""
    return _finding(
        API_REACHABLE,
        f"{server} answered /version over TLS: Kubernetes {version}.",
        server=server,
        version=version,
    )


def authenticated(username: str, how: str) -> Finding:
    """Return the passing finding for credentials the server accepted."""
    who = f"as {username}" if username else "(the server did not say as whom)"
    return _finding(
        AUTH_ACCEPTED,
        f"An authenticated request succeeded {who}; identity from {how}.",
        user=username,
    )


def skipped(title: str, blocked_by: str) -> Finding:
    """Return a finding for a check that could not run because an earlier one failed."""
    return _finding(CHECK_SKIPPED, f"{title} not checked: blocked by {blocked_by}.", check=title)


def _grants(rules: Iterable[RuleView]) -> list[str]:
    lines = []
    for rule in rules:
        resources = [r for r in rule.resources if r not in _SELF_REVIEWS]
        if resources:
            groups = ",".join(g or "core" for g in rule.api_groups) or "core"
            lines.append(f"{'/'.join(sorted(resources))} [{groups}]: {', '.join(sorted(rule.verbs))}")
    return sorted(set(lines))


def assess_rules(namespace: str, username: str, rules: Sequence[RuleView], *, incomplete: bool) -> Finding:
    """Say whether the identity holds any permission in ``namespace`` beyond the self-review defaults."""
    grants = _grants(rules)
    who = username or "this identity"
    if grants:
        shown = "; ".join(grants[:8]) + (f"; and {len(grants) - 8} more" if len(grants) > 8 else "")
        return _finding(
            RBAC_PERMISSIONS,
            f"{who} may, in namespace {namespace!r}: {shown}.",
            namespace=namespace,
        )
    if incomplete:
        return _finding(
            RBAC_RULES_INCOMPLETE,
            f"The API server could not list every rule of {who} in namespace {namespace!r} (an authorizer other "
            "than RBAC is in use).",
            "Check the needed verbs one by one with `kubectl auth can-i --as`.",
            namespace=namespace,
        )
    return _finding(
        RBAC_NO_PERMISSIONS,
        f"{who} is authenticated but holds no permission in namespace {namespace!r} beyond reviewing its own "
        "access, so the first real call will be refused with 403.",
        f"Bind a Role granting what the tasks need in {namespace!r} to this identity: kubectl create rolebinding "
        f"<name> -n {namespace} --role=<role> {subject_flag(username) if username else '--serviceaccount=<ns>:<name>'}"
        "; or use the namespace the identity is meant for.",
        namespace=namespace,
        user=username,
    )


def pass_summary(findings: Sequence[Finding]) -> str:
    """Return what a passing connection test proved: where it connected, as whom, what it may do."""
    by_code = {f.code: f for f in findings}
    parts = []
    if API_REACHABLE in by_code:
        evidence = by_code[API_REACHABLE].evidence
        parts.append(f"connected to {evidence.get('server')} (Kubernetes {evidence.get('version')})")
    if AUTH_ACCEPTED in by_code:
        user = by_code[AUTH_ACCEPTED].evidence.get("user")
        parts.append(
            f"authenticated as {user}" if user else "authenticated (the server does not name the identity)"
        )
    if RBAC_PERMISSIONS in by_code:
        parts.append(by_code[RBAC_PERMISSIONS].cause.rstrip("."))
    return "; ".join(parts) + "." if parts else ""
