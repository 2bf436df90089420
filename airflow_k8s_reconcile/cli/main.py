"""Entry point of the ``airflow-k8s-reconcile`` command.

Parsing the command line imports only the standard library; each subcommand imports its implementation when it
runs, so ``--help`` and fast paths never load Airflow or the Kubernetes client.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from airflow_k8s_reconcile import __version__
from airflow_k8s_reconcile.cli import doctor, rbac, reconcile

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def _add_cluster(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cluster = subparsers.add_parser(
        "cluster",
        help="run a real local Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager)",
        description="Run a real Kubernetes control plane on loopback, for tests and demos.",
    )
    actions = cluster.add_subparsers(dest="action", required=True, metavar="ACTION")
    dir_help = "state directory (default: ~/.local/state/airflow-k8s-reconcile/cluster)"
    up = actions.add_parser("up", help="start it in the background and print the KUBECONFIG export line")
    up.add_argument("--dir", type=Path, help=dir_help)
    up.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for each component (default 60)"
    )
    down = actions.add_parser("down", help="stop it (no etcd, kube-apiserver or controller manager is left)")
    down.add_argument("--dir", type=Path, help=dir_help)
    down.add_argument("--purge", action="store_true", help="also delete the state directory and its logs")
    status = actions.add_parser("status", help="say whether it is running and where")
    status.add_argument("--dir", type=Path, help=dir_help)
    actions.add_parser("provision", help="build or locate the binaries (cached; minutes on the first run)")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="airflow-k8s-reconcile",
        description="Kubernetes from Airflow, safe and debuggable: diagnose connections, run a local cluster.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_cluster(subparsers)
    doctor.add_parser(subparsers)
    reconcile.add_parser(subparsers)
    rbac.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit code (0 ok, 1 a check or command failed, 2 usage)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 for --help/--version
        return int(exc.code or 0)
    if args.command == "cluster":
        from airflow_k8s_reconcile.cli import cluster

        return cluster.run(args)
    if args.command == "reconcile":
        return reconcile.run(parser, args)
    if args.command == "rbac":
        return rbac.run(parser, args)
    return doctor.run(parser, args)


if __name__ == "__main__":
    sys.exit(main())
