"""The whole preflight: which checks a mode runs, and the report its outcomes make.

Modes (what ``preflight(checks=...)`` and ``doctor`` accept):

- ``fast``: the connection test (the network path, TLS, readiness, the basic authorization probe, identity, and
  the rules summary per namespace): what ``test_connection()`` and ``doctor`` run;
- ``rbac``: identity and the RBAC stage only, for a connection already known to work (sensors poke this);
- ``all``: ``fast`` plus the RBAC stage for the required permissions (which replaces the rules summary: the same
  one rules review per namespace serves both), plus the optional dry-run write.

Pure: the plan comes from :func:`preflight_plan`, the runners in ``hooks`` perform it, :func:`preflight_report`
turns the outcomes into the :class:`~airflow_k8s_reconcile.findings.Report`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal

from airflow_k8s_reconcile.domain.common.catalogue import RBAC_PERMISSIONS_GRANTED
from airflow_k8s_reconcile.domain.connection import connection_test
from airflow_k8s_reconcile.domain.connection.connection_test import CREDENTIALS, IDENTITY
from airflow_k8s_reconcile.domain.preflight.permissions import Permission, expand_checks
from airflow_k8s_reconcile.domain.preflight.plan import (
    RBAC,
    dry_run_check,
    permission_rows,
    rbac_checks,
    rbac_summary,
)
from airflow_k8s_reconcile.domain.preflight.rbac_evaluation import CheckResult
from airflow_k8s_reconcile.findings import CheckLine, Finding, Report

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.common.checks import Check, CheckOutcome

Mode = Literal["all", "fast", "rbac"]
MODES: tuple[Mode, ...] = ("all", "fast", "rbac")


def _without(plan: Sequence[Check], dropped: set[str]) -> list[Check]:
    """Return ``plan`` minus ``dropped``, with prerequisites on dropped checks removed."""
    return [
        dataclasses.replace(check, needs=tuple(n for n in check.needs if n not in dropped))
        for check in plan
        if check.id not in dropped
    ]


def preflight_plan(
    connection_plan: Sequence[Check],
    *,
    mode: Mode,
    permissions: Iterable[Permission],
    namespaces: Sequence[str],
    dry_run: bool = False,
    cluster_scoped: Iterable[tuple[str, str]] = (),
) -> tuple[Check, ...]:
    """Return the checks of a preflight run, in report order.

    :param connection_plan: the connection test's plan (network, readiness, credentials, identity, rules summary).
    :param mode: ``fast``, ``rbac`` or ``all``.
    :param permissions: the required permissions (the RBAC stage runs only with some, in ``all`` and ``rbac``).
    :param namespaces: where to check them (at least one).
    :param dry_run: add stage 9, a dry-run ConfigMap create in the first namespace (``all`` only).
    :param cluster_scoped: further cluster-scoped ``(group, plural)``.
    :raises ValueError: for an unknown mode.
    """
    if mode not in MODES:
        raise ValueError(f"unknown preflight mode {mode!r}: use one of {', '.join(MODES)}")
    required = tuple(permissions)
    summaries = {c.id for c in connection_plan if c.id.startswith(connection_test.permissions_check_id(""))}
    plan = list(connection_plan)
    if mode == "rbac":
        plan = _without(plan, {c.id for c in plan if c.id != IDENTITY} - (set() if required else summaries))
    if mode == "fast" or not required:
        return tuple(plan)
    plan = _without(plan, summaries)
    needs = tuple(n for n in (CREDENTIALS, IDENTITY) if any(c.id == n for c in plan))
    plan += rbac_checks(
        required, namespaces, identity_id=IDENTITY, needs=needs, cluster_scoped=cluster_scoped
    )
    if dry_run and mode == "all":
        plan.append(dry_run_check(namespaces[0], needs=needs))
    return tuple(plan)


def _identity(outcomes: Sequence[CheckOutcome]) -> dict[str, object] | None:
    found = next((o.finding for o in outcomes if o.check_id == IDENTITY), None)
    if found is None or not found.evidence.get("user"):
        return None
    groups = [g for g in found.evidence.get("groups", "").split(",") if g]
    return {"username": found.evidence["user"], "groups": groups}


def preflight_report(
    prepared: Sequence[Finding],
    outcomes: Sequence[CheckOutcome],
    connection: dict[str, object],
    lines: Sequence[str] = (),
    *,
    permissions: Iterable[Permission] = (),
    namespaces: Sequence[str] = (),
    cluster_scoped: Iterable[tuple[str, str]] = (),
) -> Report:
    """Return the report: resolution findings, then each check's (the RBAC check's expanded per missing target).

    :param prepared: the findings of resolution (configuration, check 1).
    :param outcomes: the settled checks, in plan order.
    :param connection: the secret-free explanation of the connection.
    :param lines: the explanation as text.
    :param permissions: the required permissions (for the ``permissions`` rows even when RBAC was skipped).
    :param namespaces: where they were checked.
    """
    identity = _identity(outcomes)
    username = str(identity["username"]) if identity else ""
    summary = rbac_summary(outcomes, username)
    findings: list[Finding] = list(prepared)
    for outcome in outcomes:
        if outcome.check_id == RBAC and summary.findings:
            findings += summary.findings
        else:
            findings.append(outcome.finding)
    required = tuple(permissions)
    rows: tuple[Mapping[str, object], ...] | None = summary.permissions or None
    if rows is None and required:  # the stage was skipped: every required check is unknown
        checks = expand_checks(required, namespaces, cluster_scoped=cluster_scoped)
        rows = permission_rows([CheckResult(check=c, allowed=None, source="none") for c in checks])
    check_lines = [
        CheckLine(
            id=o.check_id,
            title=o.title,
            status=o.finding.status,
            code=o.finding.code,
            duration_seconds=o.duration_seconds,
        )
        for o in outcomes
    ]
    granted = [f.cause.rstrip(".") for f in summary.findings if f.code == RBAC_PERMISSIONS_GRANTED]
    passed = connection_test.pass_summary(findings).rstrip(".")
    text = "; ".join(part for part in (passed, *granted) if part)
    return Report.build(
        findings,
        connection,
        lines,
        summary=f"{text}." if text else "",
        checks=check_lines,
        identity=identity,
        permissions=rows,
        remediation=summary.remediation,
    )
