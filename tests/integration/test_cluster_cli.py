"""``airflow-k8s-reconcile cluster up|down`` and process hygiene of the local control plane."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from airflow_k8s_reconcile.testing import _process
from airflow_k8s_reconcile.testing.assets import find_assets

pytestmark = pytest.mark.integration

CLI = [sys.executable, "-m", "airflow_k8s_reconcile.cli.main"]
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager")


@pytest.fixture(scope="module")
def assets():
    if os.environ.get("K8S_TEST_KUBECONFIG"):
        pytest.skip("the local control plane is not used when K8S_TEST_KUBECONFIG names a cluster")
    return find_assets()


def _cmdlines() -> dict[int, bytes]:
    found = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                found[int(proc.name)] = (proc / "cmdline").read_bytes()
            except OSError:
                continue  # exited while we looked
    return found


def _processes_using(directory: Path) -> list[int]:
    return [
        pid
        for pid, raw in _cmdlines().items()
        if str(directory) in (cmdline := raw.decode(errors="replace"))
        and any(c in cmdline for c in COMPONENTS)
    ]


def _wait_gone(directory: Path, timeout: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := _processes_using(directory)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def test_cluster_up_version_forbidden_down(assets, tmp_path):
    directory = tmp_path / "cluster"
    up = subprocess.run(
        [*CLI, "cluster", "up", "--dir", str(directory)], capture_output=True, text=True, timeout=180
    )
    try:
        assert up.returncode == 0, up.stderr
        kubeconfig = directory / "admin.kubeconfig"
        assert up.stdout.strip().splitlines()[-1] == f"export KUBECONFIG={kubeconfig}"
        assert "ready in" in up.stderr

        again = subprocess.run(
            [*CLI, "cluster", "up", "--dir", str(directory)], capture_output=True, text=True, timeout=60
        )
        assert again.returncode == 0
        assert again.stdout.strip().splitlines()[-1] == f"export KUBECONFIG={kubeconfig}"
        assert "already running" in again.stderr
        state = json.loads((directory / "state.json").read_text())

        if shutil.which("kubectl"):
            version = subprocess.run(
                ["kubectl", "--kubeconfig", str(kubeconfig), "version", "-o", "json"],
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert json.loads(version.stdout)["serverVersion"]["gitVersion"] == "v" + state["version"]
            kubectl = ["kubectl", "--kubeconfig", str(kubeconfig)]
            subprocess.run([*kubectl, "create", "serviceaccount", "nobody"], check=True, capture_output=True)
            token = subprocess.run([*kubectl, "create", "token", "nobody"], capture_output=True, text=True)
            if token.returncode == 0:  # `kubectl create token` needs the TokenRequest API (1.22+ kubectl; ok)
                denied = subprocess.run(
                    [*kubectl, "--token", token.stdout.strip(), "--user", "", "get", "configmaps"],
                    capture_output=True,
                    text=True,
                )
                assert denied.returncode != 0
                assert "Forbidden" in denied.stderr
                assert (
                    'User "system:serviceaccount:default:nobody" cannot list resource "configmaps"'
                    in denied.stderr
                )
        status = subprocess.run(
            [*CLI, "cluster", "status", "--dir", str(directory)], capture_output=True, text=True
        )
        assert status.returncode == 0
        assert "running" in status.stdout
    finally:
        down = subprocess.run(
            [*CLI, "cluster", "down", "--dir", str(directory)], capture_output=True, text=True, timeout=60
        )
    assert down.returncode == 0
    assert "stopped" in down.stdout
    assert _wait_gone(directory) == []
    assert (directory / "logs" / "kube-apiserver.log").exists()
    after = subprocess.run(
        [*CLI, "cluster", "status", "--dir", str(directory)], capture_output=True, text=True
    )
    assert after.returncode == 1


def test_no_process_survives_a_killed_parent(assets, tmp_path):
    directory = tmp_path / "orphan"
    script = (
        "import sys, pathlib\n"
        "from airflow_k8s_reconcile.testing.control_plane import LocalControlPlane\n"
        f"plane = LocalControlPlane(pathlib.Path({str(directory)!r}), die_with_parent=True)\n"
        "plane.start()\n"
        "print('started', flush=True)\n"
        "sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as parent:
        try:
            assert parent.stdout.readline().strip() == "started"
            assert len(_processes_using(directory)) == 3
        finally:
            parent.send_signal(signal.SIGKILL)
            parent.wait()
    assert _wait_gone(directory) == []


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        pytest.param("echo 'error: unknown flag --bogus' >&2\nexit 1\n", "unknown flag --bogus", id="exits"),
        pytest.param("echo 'waiting for nothing' >&2\nsleep 317\n", "waiting for nothing", id="never-ready"),
    ],
)
def test_failed_start_keeps_logs_names_them_and_leaves_nothing(assets, tmp_path, script, expected):
    from airflow_k8s_reconcile.testing.assets import ControlPlaneAssets
    from airflow_k8s_reconcile.testing.control_plane import ControlPlaneError, LocalControlPlane

    broken = tmp_path / "kube-apiserver"
    broken.write_text("#!/bin/sh\n" + script)
    broken.chmod(0o755)
    plane = LocalControlPlane(
        tmp_path / "failing",
        ControlPlaneAssets(
            etcd=assets.etcd, kube_apiserver=broken, kube_controller_manager=None, origin="test"
        ),
    )
    with pytest.raises(ControlPlaneError) as err:
        plane.start(timeout=3)
    assert "kube-apiserver did not answer /readyz" in str(err.value)
    assert str(plane.logs_dir / "kube-apiserver.log") in str(err.value)
    assert expected in str(err.value)
    assert _wait_gone(tmp_path / "failing") == []
    assert _wait_gone(broken) == []
    assert b"sleep\x00317\x00" not in _cmdlines().values(), "the never-ready API server's children survived"


def test_is_alive_rejects_recycled_pids():
    assert _process.is_alive(os.getpid(), "python")
    assert not _process.is_alive(os.getpid(), "kube-apiserver")
