"""The demo's frame: arguments, the cluster it runs on (started here or given), clean-up, exit code.

The story itself (DAG runs, tampers, restores) is :mod:`.story`. Every step prints a line starting with ``==``;
a failed step prints ``!!`` with what went wrong and the demo exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from airflow_k8s_reconcile.testing.cluster import TestCluster
from airflow_k8s_reconcile.testing.demo.story import DemoFailedError, Story, say


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_k8s_reconcile.testing.demo",
        description="Run the example DAGs against a real local control plane: reconcile, tamper, restore.",
    )
    parser.add_argument(
        "--kubeconfig",
        type=Path,
        help="an admin kubeconfig of a running cluster to use instead of starting the local control plane",
    )
    parser.add_argument("--airflow-home", type=Path, help="reuse this AIRFLOW_HOME (migrated if needed)")
    parser.add_argument(
        "--keep",
        action="store_true",
        default=os.environ.get("KEEP", "") in {"1", "true", "yes"},
        help="leave the control plane running and keep the work directory (also KEEP=1)",
    )
    return parser.parse_args(argv)


def _provisioned() -> None:
    """Find the control plane binaries; say so (with the time it takes) before building them the first time."""
    from airflow_k8s_reconcile.testing.assets import AssetsNotFoundError, cached_assets_dir, find_assets

    try:
        assets = find_assets(allow_provision=False)
    except AssetsNotFoundError:
        say(
            "== First run: provisioning the control plane binaries (kube-apiserver and kube-controller-manager "
            "built from Debian's kubernetes source package, etcd from Debian). This takes about 5 minutes on 2 "
            f"cores, once; they are cached in {cached_assets_dir()}. Progress follows."
        )
        assets = find_assets()
    say(f"== Control plane binaries: {assets.describe()}")


@contextlib.contextmanager
def _cluster(args: argparse.Namespace, workdir: Path) -> Iterator[tuple[TestCluster, str]]:
    """Yield the cluster and how to stop it ('' when the demo stops it itself or did not start it)."""
    run_id = secrets.token_hex(3)
    if args.kubeconfig is not None:
        from airflow_k8s_reconcile.testing.cluster import _external

        environ = {"K8S_TEST_KUBECONFIG": str(args.kubeconfig), "K8S_TEST_ALLOW_EXTERNAL": "1"}
        cluster = _external(environ, run_id, workdir)
        say(f"== Using the running cluster at {cluster.server} ({cluster.git_version})")
        yield cluster, ""
        return
    from airflow_k8s_reconcile.testing.control_plane import LocalControlPlane

    _provisioned()
    say("== Starting the local control plane (etcd, kube-apiserver, kube-controller-manager on loopback)")
    plane = LocalControlPlane(
        workdir / "cluster", die_with_parent=not args.keep, progress=lambda line: say(f"   {line}")
    )
    state = plane.start()
    stop = f"airflow-k8s-reconcile cluster down --dir {plane.directory}"
    try:
        yield TestCluster.from_local(plane, state, run_id), stop if args.keep else ""
    finally:
        if not args.keep:
            plane.stop(keep_logs=False)
            say("== Control plane stopped (KEEP=1 leaves it running)")


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the exit code (0 only when every step succeeded)."""
    args = _arguments(argv)
    began = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="airflow-k8s-reconcile-demo-"))
    failed = True
    try:
        with _cluster(args, workdir) as (cluster, stop):
            story = Story(cluster, workdir, airflow_home=args.airflow_home, keep=args.keep)
            try:
                story.run()
                story.next_steps(stop)
                failed = False
            finally:
                if not args.keep:
                    story.clean_up()
    except DemoFailedError as err:
        say(f"!! {err}")
    except Exception as err:  # a step's own error: show it plainly, exit 1
        say(f"!! the demo failed: {type(err).__name__}: {err}")
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    verdict = "FAILED" if failed else "done"
    say(f"== Demo {verdict} in {time.monotonic() - began:.0f} s")
    return 1 if failed else 0
