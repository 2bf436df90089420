"""``airflow-k8s-reconcile reconcile``: reconcile ConfigMap manifests against a cluster, from the command line.

The same reconcile as the operator (the hook performs, the core decides), with the connection options of
``doctor``. Exit codes: 0 every object ends in sync (in ``detect`` and ``dry-run`` mode: nothing drifted), 1 drift
remains or something failed (a finding says what), 2 usage errors: bad options, an unreadable file, bad YAML or
invalid specs; each is named, and nothing is read from or written to the cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import Any

from airflow_k8s_reconcile.cli.doctor import (
    add_connection_options,
    connection_arguments,
    connection_usage_error,
)

DEFAULT_OWNER = "airflow-k8s-reconcile-cli"
MODES = {"enforce": "enforce", "detect": "detect", "dry-run": "dry_run"}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``reconcile`` subcommand."""
    command = subparsers.add_parser(
        "reconcile",
        help="make ConfigMaps match manifests; report drift and who caused it",
        description=(
            "Reconcile v1 ConfigMap manifests: create what is missing, restore what drifted (keys added by others "
            "are removed), and report each drifted key with the field manager that wrote it. Values never appear "
            "in the output (fingerprints only)."
        ),
    )
    command.add_argument(
        "-f", "--filename", dest="files", action="append", required=True, metavar="FILE",
        help="a file of ConfigMap manifests, multi-document YAML (repeatable)",
    )  # fmt: skip
    command.add_argument("--mode", choices=sorted(MODES), default="enforce", help="default: enforce")
    command.add_argument(
        "--owner", metavar="ID", default=DEFAULT_OWNER, help=f"owner id (default {DEFAULT_OWNER})"
    )
    command.add_argument(
        "--on-foreign", choices=["fail", "adopt", "skip"], default="fail",
        help="an existing ConfigMap without our marker: fail (default), adopt it, or skip it",
    )  # fmt: skip
    command.add_argument(
        "--prune", action="store_true", help="delete ConfigMaps of this owner no longer in FILEs"
    )
    command.add_argument(
        "-n",
        "--namespace",
        metavar="NS",
        help="namespace of manifests that name none (default: the connection's)",
    )
    command.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    add_connection_options(command)


def _usage(parser: argparse.ArgumentParser, lines: list[str]) -> int:
    parser.print_usage(sys.stderr)
    for line in lines:
        print(f"{parser.prog}: error: {line}", file=sys.stderr)
    return 2


def _hook(args: argparse.Namespace) -> Any:
    from airflow_k8s_reconcile.domain.connection.settings import CONN_TYPE
    from airflow_k8s_reconcile.hooks.arguments import ConnectionFields
    from airflow_k8s_reconcile.hooks.configmaps import K8sConfigMapHook

    if args.conn_id:
        return K8sConfigMapHook(args.conn_id, **({"cluster_context": args.context} if args.context else {}))
    fields = ConnectionFields("<command line>", CONN_TYPE, {}, found=False)
    return K8sConfigMapHook(connection_fields=fields, **connection_arguments(args, args.namespace))


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Run ``reconcile``; return the exit code."""
    from airflow_k8s_reconcile.domain.reconcile.desired.validation import validate_specs
    from airflow_k8s_reconcile.domain.reconcile.policy import Mode, OnForeign, Policy
    from airflow_k8s_reconcile.domain.reconcile.report import render
    from airflow_k8s_reconcile.exceptions import ClusterAccessError, ConnectionConfigError
    from airflow_k8s_reconcile.hooks.manifests import load_manifests

    problem = connection_usage_error(args)
    if problem:
        return _usage(parser, [problem])
    # Everything about the input is checked before the cluster is touched; "default" stands in for the
    # connection's namespace (a valid name either way), which is only known once the connection resolves.
    specs, found = load_manifests(args.files, namespace=args.namespace or "default")
    found += validate_specs(specs, owner=args.owner)
    if found:
        return _usage(parser, [item.render() for item in found])
    policy = Policy(owner=args.owner, mode=Mode(MODES[args.mode]), on_foreign=OnForeign(args.on_foreign),
                    prune=args.prune)  # fmt: skip
    # Airflow's log output goes to stdout; --json owns stdout, so everything else goes to stderr meanwhile.
    with contextlib.redirect_stdout(sys.stderr):
        hook = _hook(args)
        try:
            namespace = args.namespace or hook.get_namespace()
            specs, _ = load_manifests(args.files, namespace=namespace)
            result = hook.reconcile(specs, policy, namespaces=[namespace] if args.prune else [])
        except (ConnectionConfigError, ClusterAccessError) as err:
            failure = err.finding.render() if err.finding else str(err)
            print(failure, file=sys.stderr)
            return 1
        finally:
            hook.close()
    report = result.report
    print(json.dumps(report, indent=2) if args.json else render(report))
    return 0 if report["summary"]["in_sync"] else 1
