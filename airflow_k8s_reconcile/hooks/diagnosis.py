"""The connection test as plain functions, run by ``K8sReconcileHook.test_connection``, the async hook and doctor.

Public and Airflow-free: it takes hook arguments and :class:`~airflow_k8s_reconcile.hooks.arguments.ConnectionFields`
(what a connection id resolved to), so ``airflow-k8s-reconcile doctor --kubeconfig ...`` starts without importing
Airflow. The steps: resolve the connection, materialise its credential (exec plugin, auth provider), then run the
core's plan (:func:`~airflow_k8s_reconcile.domain.connection.connection_test.connection_test_plan`) with the sync or
the async runner. Configuration and API failures become findings; nothing is raised for them. Anything else is a
bug and propagates; the outermost boundaries turn it into :func:`internal_error_report`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.connection import connection_test
from airflow_k8s_reconcile.domain.connection.explanation import explain, explain_lines
from airflow_k8s_reconcile.domain.connection.network.hops import proxy_view
from airflow_k8s_reconcile.domain.connection.network.plan import PROBE_TIMEOUT, network_checks
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.findings import Report
from airflow_k8s_reconcile.hooks._resolution.resolve import materialize, resolve_connection
from airflow_k8s_reconcile.hooks._transport.retry import NO_RETRY

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.common.checks import Check, CheckOutcome
    from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource
    from airflow_k8s_reconcile.findings import Finding
    from airflow_k8s_reconcile.hooks.arguments import ConnectionFields


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """A resolved, materialised connection and the plan to check it with."""

    source: ClusterSource
    findings: tuple[Finding, ...]
    explanation: dict[str, object]
    lines: tuple[str, ...]
    plan: tuple[Check, ...]
    namespace: str
    namespaces: tuple[str, ...]


def diagnose(
    arguments: Mapping[str, Any],
    fields: ConnectionFields,
    *,
    environ: Mapping[str, str] | None = None,
    namespaces: Sequence[str] = (),
) -> Report:
    """Resolve, then check the network path, readiness, credentials, identity and permissions.

    The network path is proxy, DNS, TCP and TLS; permissions are summarised per namespace.

    :param arguments: hook arguments (:class:`~airflow_k8s_reconcile.hooks.arguments.ConnectionArguments`).
    :param fields: the connection they override.
    :param environ: environment to resolve against (default ``os.environ``).
    :param namespaces: where to assess permissions (default: the connection's namespace).
    """
    prepared = prepare(arguments, fields, environ, namespaces)
    if isinstance(prepared, Report):
        return prepared
    return _report(prepared, run_plan(prepared, prepared.plan))


async def adiagnose(
    arguments: Mapping[str, Any],
    fields: ConnectionFields,
    *,
    environ: Mapping[str, str] | None = None,
    namespaces: Sequence[str] = (),
) -> Report:
    """Do what :func:`diagnose` does with ``kubernetes_asyncio``; file reads and exec plugins run in a thread.

    Same plan and judgement as :func:`diagnose`, so the same identity gets the same findings.
    """
    prepared = await asyncio.to_thread(prepare, arguments, fields, environ, namespaces)
    if isinstance(prepared, Report):
        return prepared
    return _report(prepared, await arun_plan(prepared, prepared.plan))


def internal_error_report(error: BaseException, connection: Mapping[str, object]) -> Report:
    """Return the failing report for a bug met while testing a connection (the caller logs the traceback)."""
    return Report.build([connection_test.internal_error(type(error).__name__)], dict(connection))


def prepare(
    arguments: Mapping[str, Any],
    fields: ConnectionFields,
    environ: Mapping[str, str] | None,
    namespaces: Sequence[str],
) -> Prepared | Report:
    """Resolve and materialise (blocking: files, exec plugins); a configuration failure is the whole report.

    Shared with :mod:`~airflow_k8s_reconcile.hooks.preflight`, which extends the plan.
    """
    try:
        resolution = resolve_connection(arguments, fields, environ=environ)
    except ConnectionConfigError as err:
        attempts = [finding for finding in err.findings if finding is not err.finding]
        return Report.build([*attempts, err.finding], {"conn_id": fields.conn_id})
    explanation = explain(resolution)
    lines = tuple(explain_lines(explanation))
    findings = (
        *resolution.attempts,
        *resolution.warnings,
        connection_test.resolved(_summary(explanation)),
    )
    try:
        source = materialize(resolution.source, environ=environ)
    except ConnectionConfigError as err:
        return Report.build([*findings, err.finding], explanation, lines)
    targets = tuple(dict.fromkeys(namespaces)) or (resolution.namespace,)
    proxy = proxy_view(resolution.proxy, source.server, os.environ if environ is None else environ)
    network = network_checks(
        server=source.server,
        proxy=proxy,
        tls_server_name=source.tls_server_name,
        ca_pem=source.ca_pem,
        ca_source=source.ca_source,
        verify=source.verify_ssl,
        timeout=min(PROBE_TIMEOUT, source.request_timeout),
    )
    plan = connection_test.connection_test_plan(
        server=source.server,
        namespace=resolution.namespace,
        namespaces=targets,
        credential_summary=resolution.credential_summary,
        network=network,
        readiness=True,
    )
    return Prepared(
        source=source,
        findings=findings,
        explanation=explanation,
        lines=lines,
        plan=plan,
        namespace=resolution.namespace,
        namespaces=targets,
    )


def run_plan(prepared: Prepared, plan: Sequence[Check]) -> tuple[CheckOutcome, ...]:
    """Perform ``plan`` with the sync runner on a fresh client without retries (a probe must not hide a fault)."""
    from airflow_k8s_reconcile.hooks._checks.runner import run_checks  # the Kubernetes client costs ~0.5 s
    from airflow_k8s_reconcile.hooks._transport.client import build_sync_client

    source = prepared.source
    client = build_sync_client(source, policy=NO_RETRY)  # no retries: a dead endpoint would cost 4 timeouts
    try:
        return run_checks(client, plan, server=source.server, proxy=source.proxy_url_redacted)
    finally:
        client.shutdown()


async def arun_plan(prepared: Prepared, plan: Sequence[Check]) -> tuple[CheckOutcome, ...]:
    """Perform ``plan`` with the async runner (the checks of a batch concurrently) on a fresh client."""
    from airflow_k8s_reconcile.hooks._checks.runner_async import arun_checks
    from airflow_k8s_reconcile.hooks._transport.client_async import build_async_client

    source = prepared.source
    client = await build_async_client(source, policy=NO_RETRY)
    try:
        return await arun_checks(client, plan, server=source.server, proxy=source.proxy_url_redacted)
    finally:
        await client.close()


def _report(prepared: Prepared, outcomes: Sequence[CheckOutcome]) -> Report:
    findings = [*prepared.findings, *(outcome.finding for outcome in outcomes)]
    summary = connection_test.pass_summary(findings)
    return Report.build(findings, prepared.explanation, prepared.lines, summary=summary)


def _summary(explanation: Mapping[str, Any]) -> str:
    mode, server = explanation.get("mode"), explanation.get("server")
    namespace, source = explanation.get("namespace"), explanation.get("namespace_source")
    return f"{mode} connection to {server}, namespace {namespace!r} (from {source})."


__all__ = ["adiagnose", "diagnose", "internal_error_report"]
