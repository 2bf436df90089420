"""A real Kubernetes control plane on loopback: etcd + kube-apiserver + kube-controller-manager.

Like Go's envtest, but with RBAC on and a controller manager, so namespace deletion, ``default`` service
accounts and TokenRequest work as on a real cluster. Everything lives in one state directory::

    <dir>/pki/            CA, serving certificate, service-account keys, static admin token (mode 0600)
    <dir>/etcd-data/      fresh for every start
    <dir>/logs/           one log per component (kept when a start fails or a test run fails)
    <dir>/state.json      PIDs, ports, server URL, version
    <dir>/admin.kubeconfig

The admin identity authenticates with a random bearer token (group ``system:masters``); every other identity
comes from real ServiceAccounts and TokenRequest. Only the standard library is used here, so ``cluster up`` starts
quickly and the Kubernetes client is not needed.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from airflow_k8s_reconcile.testing import _process
from airflow_k8s_reconcile.testing.assets import ControlPlaneAssets, find_assets
from airflow_k8s_reconcile.testing.pki import write_pki

ADMIN_USER = "admin"
_SA_ISSUER = "https://kubernetes.default.svc"
# Controllers that need nodes, clouds or pods are off: this control plane runs no kubelet.
_KCM_CONTROLLERS = "*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-service,-route,-attachdetach,-persistentvolume-binder,-ttl"


class ControlPlaneError(RuntimeError):
    """The control plane did not start, or its state directory is unusable. The message names the log to read."""


@dataclasses.dataclass(frozen=True, slots=True)
class ClusterState:
    """What ``state.json`` records about a running control plane."""

    server: str
    version: str
    pids: dict[str, int]
    ports: dict[str, int]
    assets: str
    started_at: float

    @classmethod
    def read(cls, path: Path) -> ClusterState:
        """Load ``state.json``."""
        data = json.loads(path.read_text())
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})


def _binary_version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False, timeout=30)
    match = re.search(r"v(\d+\.\d+\.\d+\S*)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


def _supports_flag(binary: Path, flag: str) -> bool:
    out = subprocess.run([str(binary), "--help"], capture_output=True, text=True, check=False, timeout=30)
    return re.search(rf"^\s+--{re.escape(flag)}\b", out.stdout + out.stderr, re.MULTILINE) is not None


class LocalControlPlane:
    """Start, attach to and stop a local control plane whose state lives in ``directory``.

    :param directory: state directory (created if needed).
    :param assets: binaries to run; found with :func:`~airflow_k8s_reconcile.testing.assets.find_assets` when
        omitted.
    :param die_with_parent: have the kernel kill the processes when this Python process dies (for test runs).
    :param progress: called with one line per step (e.g. ``print`` for the CLI).
    """

    def __init__(
        self,
        directory: Path,
        assets: ControlPlaneAssets | None = None,
        *,
        die_with_parent: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.directory = directory.absolute()
        self._assets = assets
        self._die_with_parent = die_with_parent
        self._progress = progress or (lambda _line: None)
        self._children: list[Any] = []

    # --- paths -------------------------------------------------------------------------------------------
    @property
    def kubeconfig_path(self) -> Path:
        """Return the admin kubeconfig's path."""
        return self.directory / "admin.kubeconfig"

    @property
    def ca_cert_path(self) -> Path:
        """Return the CA certificate that signed the serving certificate."""
        return self.directory / "pki" / "ca.crt"

    @property
    def logs_dir(self) -> Path:
        """Return the directory holding one log file per component."""
        return self.directory / "logs"

    @property
    def state_path(self) -> Path:
        """Return the path of ``state.json``."""
        return self.directory / "state.json"

    def state(self) -> ClusterState | None:
        """Return the recorded state, or ``None`` if the directory holds no started cluster."""
        try:
            return ClusterState.read(self.state_path)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    @property
    def admin_token(self) -> str:
        """Return the admin bearer token (secret: never log it)."""
        return (self.directory / "pki" / "admin.token").read_text().strip()

    # --- status ------------------------------------------------------------------------------------------
    def _ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_cert_path))

    def _get(self, server: str, path: str, *, token: str | None = None, timeout: float = 2.0) -> int:
        request = urllib.request.Request(server + path)  # noqa: S310 - https URL we built ourselves
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout, context=self._ssl_context()) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as err:
            return err.code
        except (OSError, ssl.SSLError):
            return 0

    def is_running(self) -> bool:
        """Return whether every recorded process is alive and the API server answers ``/readyz``."""
        state = self.state()
        if state is None:
            return False
        alive = all(_process.is_alive(pid, name) for name, pid in state.pids.items())
        return alive and self._get(state.server, "/readyz") == 200

    # --- start -------------------------------------------------------------------------------------------
    def _prepare(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        for sub in ("pki", "logs"):
            (self.directory / sub).mkdir(exist_ok=True)
        shutil.rmtree(self.directory / "etcd-data", ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            self.state_path.unlink()
        write_pki(self.directory / "pki")
        token = secrets.token_urlsafe(32)
        token_file = self.directory / "pki" / "admin.token"
        token_file.write_text(token + "\n")
        token_file.chmod(0o600)
        tokens_csv = self.directory / "pki" / "tokens.csv"
        tokens_csv.write_text(f'{token},{ADMIN_USER},uid-{ADMIN_USER},"system:masters"\n')
        tokens_csv.chmod(0o600)

    def _write_kubeconfig(self, server: str) -> None:
        ca_data = base64.b64encode(self.ca_cert_path.read_bytes()).decode()
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "local", "cluster": {"server": server, "certificate-authority-data": ca_data}}
            ],
            "users": [{"name": ADMIN_USER, "user": {"token": self.admin_token}}],
            "contexts": [
                {"name": "local", "context": {"cluster": "local", "user": ADMIN_USER, "namespace": "default"}}
            ],
            "current-context": "local",
        }
        self.kubeconfig_path.write_text(yaml.safe_dump(config, sort_keys=False))
        self.kubeconfig_path.chmod(0o600)

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        self._progress(f"starting {name}")
        proc = _process.spawn(argv, self.logs_dir / f"{name}.log", die_with_parent=self._die_with_parent)
        self._children.append(proc)
        return proc

    def _fail(self, component: str, what: str, proc: subprocess.Popen[bytes]) -> ControlPlaneError:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2)  # an exiting process may still be writing its last words to the log
        log = self.logs_dir / f"{component}.log"
        return ControlPlaneError(
            f"{component} {what}. Its log is {log}; last lines:\n{_process.log_tail(log)}"
        )

    def start(self, *, timeout: float = 60.0) -> ClusterState:
        """Start all components with a fresh etcd and wait until the API server is ready.

        :param timeout: seconds to wait for each component.
        :raises ControlPlaneError: when a component exits or does not become ready; the logs are kept.
        """
        began = time.monotonic()
        assets = self._assets or find_assets()
        self._progress(f"binaries from {assets.describe()}")
        self._prepare()
        etcd_port, peer_port, api_port = _process.free_ports(3)
        pids: dict[str, int] = {}
        try:
            pids["etcd"] = self._start_etcd(assets, etcd_port, peer_port, timeout)
            server = f"https://127.0.0.1:{api_port}"
            pids["kube-apiserver"] = self._start_apiserver(assets, etcd_port, api_port, timeout)
            self._progress(f"kube-apiserver answers /readyz after {time.monotonic() - began:.1f} s")
            self._write_kubeconfig(server)
            if assets.kube_controller_manager is not None:
                pids["kube-controller-manager"] = self._start_controller_manager(assets, server, timeout)
        except BaseException:
            self._stop_pids(pids)
            raise
        state = ClusterState(
            server=server,
            version=_binary_version(assets.kube_apiserver),
            pids=pids,
            ports={"etcd": etcd_port, "etcd-peer": peer_port, "kube-apiserver": api_port},
            assets=str(assets.kube_apiserver.parent),
            started_at=time.time(),
        )
        self.state_path.write_text(json.dumps(dataclasses.asdict(state), indent=2))
        self._progress(f"ready in {time.monotonic() - began:.1f} s: Kubernetes v{state.version} at {server}")
        return state

    def _start_etcd(self, assets: ControlPlaneAssets, port: int, peer: int, timeout: float) -> int:
        client_url, peer_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer}"
        proc = self._spawn(
            "etcd",
            [
                str(assets.etcd),
                "--name",
                "local",
                "--data-dir",
                str(self.directory / "etcd-data"),
                "--listen-client-urls",
                client_url,
                "--advertise-client-urls",
                client_url,
                "--listen-peer-urls",
                peer_url,
                "--initial-advertise-peer-urls",
                peer_url,
                "--initial-cluster",
                f"local={peer_url}",
                "--log-level",
                "warn",
            ],
        )

        def healthy() -> bool:
            try:
                with urllib.request.urlopen(client_url + "/health", timeout=1) as response:  # noqa: S310
                    return b'"health":"true"' in response.read()
            except OSError:
                return False

        if not _process.wait_until(healthy, timeout=timeout, alive=lambda: proc.poll() is None):
            raise self._fail("etcd", "did not become healthy", proc)
        return int(proc.pid)

    def _start_apiserver(self, assets: ControlPlaneAssets, etcd_port: int, port: int, timeout: float) -> int:
        pki = self.directory / "pki"
        proc = self._spawn(
            "kube-apiserver",
            [
                str(assets.kube_apiserver),
                f"--etcd-servers=http://127.0.0.1:{etcd_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={port}",
                f"--tls-cert-file={pki / 'apiserver.crt'}",
                f"--tls-private-key-file={pki / 'apiserver.key'}",
                f"--client-ca-file={pki / 'ca.crt'}",
                f"--token-auth-file={pki / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                f"--service-account-key-file={pki / 'sa.pub'}",
                f"--service-account-signing-key-file={pki / 'sa.key'}",
                f"--service-account-issuer={_SA_ISSUER}",
                f"--api-audiences={_SA_ISSUER}",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--endpoint-reconciler-type=none",
                # Service-account admission only mutates pods, and no pods run here.
                "--disable-admission-plugins=ServiceAccount",
                f"--cert-dir={self.directory / 'certs'}",
                "--profiling=false",
            ],
        )
        server = f"https://127.0.0.1:{port}"
        ready = _process.wait_until(
            lambda: self._get(server, "/readyz") == 200,
            timeout=timeout,
            interval=0.2,
            alive=lambda: proc.poll() is None,
        )
        if not ready:
            raise self._fail("kube-apiserver", "did not answer /readyz", proc)
        return int(proc.pid)

    def _start_controller_manager(self, assets: ControlPlaneAssets, server: str, timeout: float) -> int:
        binary = assets.kube_controller_manager
        assert binary is not None  # noqa: S101 - checked by the caller
        pki = self.directory / "pki"
        argv = [
            str(binary),
            f"--kubeconfig={self.kubeconfig_path}",
            "--leader-elect=false",
            "--secure-port=0",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            f"--controllers={_KCM_CONTROLLERS}",
        ]
        if _supports_flag(binary, "port"):
            argv.append("--port=0")  # insecure serving exists (and defaults to :10252) only before 1.24
        proc = self._spawn("kube-controller-manager", argv)
        # The service-account controller creating `default` proves the controllers are running.
        ready = _process.wait_until(
            lambda: (
                self._get(
                    server, "/api/v1/namespaces/default/serviceaccounts/default", token=self.admin_token
                )
                == 200
            ),
            timeout=timeout,
            interval=0.2,
            alive=lambda: proc.poll() is None,
        )
        if not ready:
            raise self._fail("kube-controller-manager", "did not create the default service account", proc)
        return int(proc.pid)

    # --- stop --------------------------------------------------------------------------------------------
    def _stop_pids(self, pids: dict[str, int]) -> None:
        for name in ("kube-controller-manager", "kube-apiserver", "etcd"):
            if name in pids:
                _process.terminate(pids[name], name)
        # Processes this object started but that never became ready (so are not in `pids`) go too, newest first.
        for child in reversed(self._children):
            if child.poll() is None:
                _process.terminate_group(child.pid)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=5)
        self._children.clear()

    def stop(self, *, keep_logs: bool = True) -> bool:
        """Stop every recorded process (controller manager, API server, then etcd) by process group.

        :param keep_logs: keep the state directory; otherwise remove it entirely.
        :return: whether a running cluster was stopped.
        """
        state = self.state()
        stopped = False
        if state is not None:
            stopped = any(_process.is_alive(pid, name) for name, pid in state.pids.items())
            self._stop_pids(state.pids)
            with contextlib.suppress(FileNotFoundError):
                self.state_path.unlink()
        shutil.rmtree(self.directory / "etcd-data", ignore_errors=True)
        if not keep_logs:
            shutil.rmtree(self.directory, ignore_errors=True)
        return stopped

    def __enter__(self) -> LocalControlPlane:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop(keep_logs=exc_info[0] is not None)


def default_directory() -> Path:
    """Return the default state directory for ``cluster up`` (``$XDG_STATE_HOME``-style, per user)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "airflow-k8s-reconcile" / "cluster"
