"""``airflow-k8s-reconcile doctor``: explain a connection and check it against the API server.

Runs the preflight (:func:`~airflow_k8s_reconcile.hooks.preflight.preflight`): the network path, TLS, readiness,
credentials and identity; with ``--require SPEC`` (repeatable) also the RBAC stage for those permissions in each
``-n`` namespace, with the least-privilege remediation in the report. Exit codes: 0 nothing failed (warnings
allowed), 1 a check failed (a configuration error, or a required permission missing), 2 usage error (a malformed
SPEC included, named in the message). Airflow is imported only for ``--conn-id``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import traceback
from typing import Any

from airflow_k8s_reconcile.domain.common.names import DNS_LABEL_RULE, is_dns_label


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """Add the options that choose a connection (shared by ``doctor`` and ``reconcile``)."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--conn-id", metavar="ID", help="an Airflow connection (k8s_reconcile or kubernetes type)"
    )
    source.add_argument("--kubeconfig", metavar="PATH", help="a kubeconfig file")
    source.add_argument("--in-cluster", action="store_true", help="the pod's service account")
    parser.add_argument("--context", metavar="C", help="kubeconfig context (default: its current-context)")
    parser.add_argument(
        "--service-account-dir", metavar="DIR", help="service-account token directory, with --in-cluster"
    )


def connection_usage_error(args: argparse.Namespace) -> str | None:
    """Return what is wrong with the connection options, or ``None``."""
    if args.service_account_dir and not args.in_cluster:
        return "--service-account-dir needs --in-cluster"
    if args.context and args.in_cluster:
        return "--context applies to kubeconfig connections, not --in-cluster"
    return None


def connection_arguments(args: argparse.Namespace, namespace: str | None = None) -> dict[str, Any]:
    """Return the hook arguments the connection options ask for (without ``--conn-id``, which names a connection)."""
    arguments: dict[str, Any] = {"cluster_context": args.context}
    if args.kubeconfig:
        arguments.update(auth_mode="kubeconfig_file", kube_config_path=args.kubeconfig)
    elif args.in_cluster:
        arguments.update(auth_mode="in_cluster", service_account_dir=args.service_account_dir)
    if namespace:
        arguments["namespace"] = namespace
    return arguments


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``doctor`` subcommand."""
    doctor = subparsers.add_parser(
        "doctor",
        help="explain how a connection resolves and check it: network, TLS, credentials, identity, permissions",
        description=(
            "Resolve a Kubernetes connection, say what was chosen and why, and check it against the API server. "
            "Without a source option it resolves like an empty connection: in-cluster, else $KUBECONFIG, else "
            "~/.kube/config."
        ),
    )
    add_connection_options(doctor)
    doctor.add_argument(
        "-n",
        "--namespace",
        action="append",
        default=[],
        metavar="NS",
        help="namespace to check permissions in (repeatable; default: the connection's namespace)",
    )
    doctor.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="SPEC",
        help="a permission the tasks need, checked in each namespace (repeatable): VERB[,VERB...]:RESOURCE, "
        "RESOURCE being plural[.group][/subresource], e.g. get,list,watch:configmaps create:pods/exec",
    )
    doctor.add_argument(
        "--dry-run-write",
        action="store_true",
        help="also try a server-side dry-run ConfigMap create (dryRun=All, stores nothing) to surface admission "
        "denials",
    )
    doctor.add_argument("--json", action="store_true", help="print the report as JSON on stdout")


def _usage_error(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    problem = connection_usage_error(args)
    if problem:
        return problem
    bad = [ns for ns in args.namespace if not is_dns_label(ns)]
    if bad:
        return f"invalid namespace {bad[0]!r}: use {DNS_LABEL_RULE}"
    try:
        args.permissions = _permissions(args.require)
    except ValueError as err:  # PermissionSpecError: the message names the bad part and the format
        return str(err)
    return None


def _permissions(specs: list[str]) -> list[Any]:
    if not specs:
        return []
    from airflow_k8s_reconcile.domain.preflight.permissions import parse_spec

    return [parse_spec(spec) for spec in specs]


def _report(args: argparse.Namespace) -> Any:
    checks = "all" if args.permissions or args.dry_run_write else "fast"
    options = {"namespaces": args.namespace, "checks": checks, "dry_run": args.dry_run_write}
    if args.conn_id:
        # stdout is the report's (--json). Airflow 3.0 configures its logging on import with a console handler on
        # stdout (its alembic plugin set-up lines precede the JSON); configured inside the redirect, that handler
        # writes to stderr for the rest of the run.
        with contextlib.redirect_stdout(sys.stderr):
            from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

            hook = K8sReconcileHook(
                args.conn_id, **({"cluster_context": args.context} if args.context else {})
            )
            return hook.preflight(args.permissions, **options)
    from airflow_k8s_reconcile.domain.connection.settings import CONN_TYPE
    from airflow_k8s_reconcile.hooks.arguments import ConnectionFields
    from airflow_k8s_reconcile.hooks.preflight import preflight

    arguments = connection_arguments(args, args.namespace[0] if args.namespace else None)
    fields = ConnectionFields("<command line>", CONN_TYPE, {}, found=False)
    return preflight(arguments, fields, permissions=args.permissions, **options)


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Run ``doctor``; return the exit code."""
    problem = _usage_error(parser, args)
    if problem:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: {problem}", file=sys.stderr)
        return 2
    try:
        report = _report(args)
    # The outermost boundary: a verdict and an exit code, and the traceback on stderr (written directly: once
    # Airflow is imported, its logging may go to stdout, which --json owns).
    except Exception as err:
        print("doctor stopped on an unexpected error (a defect in this provider):", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        from airflow_k8s_reconcile.hooks.diagnosis import internal_error_report

        report = internal_error_report(err, {"conn_id": args.conn_id or "<command line>"})
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        print(report.render())
    return 1 if report.verdict == "fail" else 0
