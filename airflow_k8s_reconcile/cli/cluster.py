"""``airflow-k8s-reconcile cluster up|down|status|provision``."""

from __future__ import annotations

import argparse
import sys

from airflow_k8s_reconcile.testing.assets import AssetsNotFoundError, find_assets
from airflow_k8s_reconcile.testing.control_plane import (
    ControlPlaneError,
    LocalControlPlane,
    default_directory,
)


def _progress(line: str) -> None:
    print(f"cluster: {line}", file=sys.stderr, flush=True)


def _export_line(plane: LocalControlPlane) -> str:
    return f"export KUBECONFIG={plane.kubeconfig_path}"


def run(args: argparse.Namespace) -> int:
    """Run one ``cluster`` action; return the exit code."""
    if args.action == "provision":
        try:
            assets = find_assets()
        except AssetsNotFoundError as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        print(assets.describe())
        return 0
    plane = LocalControlPlane(args.dir or default_directory(), progress=_progress)
    if args.action == "status":
        state = plane.state()
        if state is not None and plane.is_running():
            print(f"running: Kubernetes v{state.version} at {state.server}, pids {state.pids}")
            print(_export_line(plane))
            return 0
        print(f"not running (state directory {plane.directory})")
        return 1
    if args.action == "down":
        stopped = plane.stop(keep_logs=not args.purge)
        print("stopped" if stopped else f"nothing was running in {plane.directory}")
        return 0
    if plane.is_running():
        _progress(f"already running in {plane.directory}")
        print(_export_line(plane))
        return 0
    plane.stop()  # clear a stale or half-started state (dead processes, old etcd data)
    try:
        plane.start(timeout=args.timeout)
    except (ControlPlaneError, AssetsNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(_export_line(plane))
    return 0
