"""The connection test as one function, used by ``K8sReconcileHook.test_connection`` and ``doctor``.

It imports no Airflow, so ``airflow-k8s-reconcile doctor --kubeconfig ...`` starts fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.connection import connection_test as probe
from airflow_k8s_reconcile.domain.connection.explanation import explain, explain_lines
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.findings import Report
from airflow_k8s_reconcile.hooks._client import build_sync_client
from airflow_k8s_reconcile.hooks._resolve import materialize, resolve_connection
from airflow_k8s_reconcile.hooks._retry import NO_RETRY

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding
    from airflow_k8s_reconcile.hooks.arguments import ConnectionFields


def diagnose(
    arguments: Mapping[str, Any],
    fields: ConnectionFields,
    *,
    environ: Mapping[str, str] | None = None,
    namespaces: Sequence[str] = (),
) -> Report:
    """Resolve, then check reachability, credentials, identity and permissions in each namespace.

    Configuration and API failures become findings; nothing is raised for them.

    :param namespaces: where to assess permissions (default: the connection's namespace).
    """
    try:
        resolution = resolve_connection(arguments, fields, environ=environ)
    except ConnectionConfigError as err:
        attempts = [finding for finding in err.findings if finding is not err.finding]
        return Report.build([*attempts, err.finding], {"conn_id": fields.conn_id})
    explanation = explain(resolution)
    lines = explain_lines(explanation)
    findings: list[Finding] = [
        *resolution.attempts,
        *resolution.warnings,
        probe.resolved(_summary(explanation)),
    ]
    try:
        source = materialize(resolution.source, environ=environ)
    except ConnectionConfigError as err:
        return Report.build([*findings, err.finding], explanation, lines)
    from airflow_k8s_reconcile.hooks._probe import run_probe  # imports the Kubernetes client (~0.5 s)

    client = build_sync_client(source, policy=NO_RETRY)
    try:
        findings += run_probe(client, resolution, namespaces=namespaces or (resolution.namespace,))
    finally:
        client.shutdown()
    return Report.build(findings, explanation, lines, summary=probe.pass_summary(findings))


def _summary(explanation: Mapping[str, Any]) -> str:
    mode, server = explanation.get("mode"), explanation.get("server")
    namespace, source = explanation.get("namespace"), explanation.get("namespace_source")
    return f"{mode} connection to {server}, namespace {namespace!r} (from {source})."
