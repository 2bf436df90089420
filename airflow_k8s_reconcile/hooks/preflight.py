"""The preflight as plain functions: network path, TLS, readiness, identity, RBAC and an optional dry-run write.

Public and Airflow-free, like :mod:`~airflow_k8s_reconcile.hooks.diagnosis` (whose resolution and runners it
shares): ``doctor --require``, both hooks' ``preflight()`` and the preflight operators and sensors call
:func:`preflight` or :func:`apreflight` with hook arguments and the
:class:`~airflow_k8s_reconcile.hooks.arguments.ConnectionFields` a connection id resolved to. The plan is the
core's (:func:`~airflow_k8s_reconcile.domain.preflight.pipeline.preflight_plan`), performed by the sync or the
async runner; both give the same report for the same cluster. Configuration and API failures become findings;
nothing is raised for them. A bug propagates.

The RBAC stage costs one SelfSubjectRulesReview per namespace plus SelfSubjectAccessReviews (concurrent) only for
what the rules cannot prove and for denials to confirm: 2 requests for 30 permissions in 2 namespaces, where
``kubectl auth can-i`` makes 60.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.preflight.pipeline import preflight_plan, preflight_report
from airflow_k8s_reconcile.findings import Report
from airflow_k8s_reconcile.hooks.diagnosis import Prepared, arun_plan, prepare, run_plan

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.common.checks import Check, CheckOutcome
    from airflow_k8s_reconcile.hooks.arguments import ConnectionFields
    from airflow_k8s_reconcile.preflight import Checks, Permission


def _plan(
    prepared: Prepared, permissions: Sequence[Permission], checks: Checks, dry_run: bool
) -> tuple[Check, ...]:
    return preflight_plan(
        prepared.plan,
        mode=checks,
        permissions=permissions,
        namespaces=prepared.namespaces,
        dry_run=dry_run,
    )


def _report(
    prepared: Prepared, outcomes: Sequence[CheckOutcome], permissions: Sequence[Permission]
) -> Report:
    return preflight_report(
        prepared.findings,
        outcomes,
        prepared.explanation,
        prepared.lines,
        permissions=permissions,
        namespaces=prepared.namespaces,
    )


def preflight(
    arguments: Mapping[str, Any],
    fields: ConnectionFields,
    *,
    permissions: Sequence[Permission] = (),
    namespaces: Sequence[str] = (),
    checks: Checks = "all",
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> Report:
    """Check that the connection works and that its identity holds ``permissions`` in each namespace.

    :param arguments: hook arguments (:class:`~airflow_k8s_reconcile.hooks.arguments.ConnectionArguments`).
    :param fields: the connection they override.
    :param permissions: what the task needs (e.g. ``[parse_spec("get,list:configmaps")]``); a permission without
        a namespace is checked in every namespace of ``namespaces``.
    :param namespaces: where to check (default: the connection's namespace).
    :param checks: ``all`` (everything), ``fast`` (network, TLS, readiness, credentials, identity: the connection
        test) or ``rbac`` (identity and the RBAC stage only).
    :param environ: environment to resolve against (default ``os.environ``).
    :param dry_run: also try a server-side dry-run ConfigMap create in the first namespace (``all`` only), which
        surfaces admission denials (PodSecurity, quotas, webhooks) and stores nothing.
    :return: the report: verdict, a line per check with its duration, findings, and, with permissions,
        ``identity``, ``permissions`` rows and the RBAC ``remediation``.
    """
    prepared = prepare(arguments, fields, environ, namespaces)
    if isinstance(prepared, Report):
        return prepared
    outcomes = run_plan(prepared, _plan(prepared, permissions, checks, dry_run))
    return _report(prepared, outcomes, permissions)


async def apreflight(
    arguments: Mapping[str, Any],
    fields: ConnectionFields,
    *,
    permissions: Sequence[Permission] = (),
    namespaces: Sequence[str] = (),
    checks: Checks = "all",
    environ: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> Report:
    """Do what :func:`preflight` does with ``kubernetes_asyncio``: same plan, same judgement, same report.

    Resolution (files, exec plugins) runs in a thread; the rules reviews of several namespaces, and the access
    reviews, are sent concurrently.
    """
    prepared = await asyncio.to_thread(prepare, arguments, fields, environ, namespaces)
    if isinstance(prepared, Report):
        return prepared
    outcomes = await arun_plan(prepared, _plan(prepared, permissions, checks, dry_run))
    return _report(prepared, outcomes, permissions)


__all__ = ["apreflight", "preflight"]
