"""The real Airflow 3 components on loopback, for end-to-end tests and the event-restore benchmark.

``AirflowStack`` gives one temporary ``AIRFLOW_HOME`` to ``airflow scheduler``, ``airflow dag-processor``,
``airflow triggerer`` and ``airflow api-server`` (LocalExecutor; task processes report to the api-server's
Execution API). The metadata database is SQLite: Airflow 3's own ``airflow standalone`` runs these four components
with LocalExecutor on SQLite (``cli/commands/standalone_command.py``), and 3.3 has no SQLite/LocalExecutor guard
any more, so PostgreSQL would add a system package, a server and a driver and prove nothing extra here.

Why the intervals are short: an AssetWatcher's trigger is only registered when the DAG file is re-parsed after
the DAG is unpaused (``dag_processing/collection.py``, ``add_asset_trigger_references``), so the parse interval
bounds how soon watching starts; the triggerer polls for new triggers every second on its own.

Every component runs in its own process group, dies with this process (parent-death signal) and is stopped by
PID (SIGTERM, then SIGKILL). Logs: ``<home>/logs/<component>.log`` plus Airflow's task logs under ``<home>/logs``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from airflow_k8s_reconcile.testing._process import free_ports, log_tail

COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
PROJECT = Path(__file__).resolve().parents[3]


def _die_with_parent() -> None:
    # prctl(PR_SET_PDEATHSIG, SIGKILL): a killed pytest leaves no component behind.
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)


def spawn(argv: list[str], log_path: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own process group, output appended to ``log_path``."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            argv,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            close_fds=True,
        )


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM the process group (the component and the task or trigger processes it started), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait)
            break
    # Whatever else is left in the group (a task process that outlived its supervisor) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


class StackError(RuntimeError):
    """A component failed to start or died; the message names its log and shows the tail."""


def component_env(
    home: Path, dags_folder: Path, port: int, connection: Mapping[str, Any], extra: Mapping[str, str]
) -> dict[str, str]:
    """Return the environment every component (and every task process they start) shares."""
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))}
    pythonpath = [str(PROJECT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "PYTHONPATH": os.pathsep.join(dict.fromkeys(pythonpath)),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            # Find the DAG file at once, re-parse it every few seconds (the watcher is registered on re-parse).
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "300",
            "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW_CONN_K8S_RECONCILE_DEFAULT": json.dumps(dict(connection)),
        }
    )
    env.update(extra)
    return env


class AirflowStack:
    """Run the four components against one temporary ``AIRFLOW_HOME``; a context manager that always stops them.

    :param home: the ``AIRFLOW_HOME`` (created; logs under ``home/logs``).
    :param dags_folder: the DAGs folder the dag-processor parses.
    :param connection: the ``k8s_reconcile_default`` connection (``AIRFLOW_CONN_K8S_RECONCILE_DEFAULT``, JSON).
    :param extra_env: more environment for components and tasks (the DAG's namespace, say).
    :param progress: called with one line per step.
    """

    def __init__(
        self,
        home: Path,
        dags_folder: Path,
        connection: Mapping[str, Any],
        extra_env: Mapping[str, str] | None = None,
        progress: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.home = home
        self.logs = home / "logs"
        self.port = free_ports(1)[0]
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = component_env(home, dags_folder, self.port, connection, extra_env or {})
        self.progress = progress
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._client: httpx.Client | None = None

    def __enter__(self) -> AirflowStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 180.0) -> None:
        """Migrate the database, start the components, wait until the api-server reports all of them healthy."""
        self.logs.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with (self.logs / "db-migrate.log").open("wb") as log:
            rc = subprocess.call(
                [AIRFLOW, "db", "migrate"], env=self.env, stdout=log, stderr=subprocess.STDOUT, timeout=300
            )
        if rc != 0:
            raise StackError(f"airflow db migrate exited {rc}:\n{log_tail(self.logs / 'db-migrate.log')}")
        self.progress(f"metadata database migrated in {time.monotonic() - started:.0f}s")
        for name in COMPONENTS:
            self.processes[name] = spawn([AIRFLOW, name], self.logs / f"{name}.log", env=self.env)
        self._wait_healthy(started + timeout)
        self.progress(
            f"scheduler, dag-processor, triggerer, api-server healthy after {time.monotonic() - started:.0f}s"
        )

    def _wait_healthy(self, deadline: float) -> None:
        wanted = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                health = httpx.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
            except (httpx.HTTPError, ValueError):
                health = {}
            if all((health.get(part) or {}).get("status") == "healthy" for part in wanted):
                return
            time.sleep(1)
        raise StackError(f"components not healthy in time: {health}\n{self.tails()}")

    def check_alive(self) -> None:
        """Raise :class:`StackError` (with the log's tail) if a component exited."""
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise StackError(
                    f"airflow {name} exited with {proc.returncode}; log {self.logs / (name + '.log')}:\n"
                    + log_tail(self.logs / f"{name}.log", 40)
                )

    def tails(self, lines: int = 15) -> str:
        """Return the last lines of every component's log."""
        return "\n".join(
            f"--- {name}.log\n{log_tail(self.logs / f'{name}.log', lines)}" for name in COMPONENTS
        )

    def stop(self) -> None:
        """Stop every component's process group (SIGTERM, then SIGKILL), api-server last (tasks report to it)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        for name in ("scheduler", "triggerer", "dag-processor", "api-server"):
            proc = self.processes.pop(name, None)
            if proc is not None:
                _stop(proc, timeout=20)

    def keep_logs(self, destination: Path) -> Path:
        """Copy the component and task logs to ``destination`` (the home is temporary); return it."""
        shutil.copytree(self.logs, destination, dirs_exist_ok=True)
        return destination

    # REST API (v2), with a token from the simple auth manager (all users are admins in this stack).

    @property
    def api(self) -> httpx.Client:
        """Return an authenticated client for the api-server's public REST API."""
        if self._client is None:
            token = httpx.get(f"{self.url}/auth/token", timeout=10).json()["access_token"]
            self._client = httpx.Client(
                base_url=f"{self.url}/api/v2", headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
        return self._client

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one REST request; raise with the response body on an error status."""
        response = self.api.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise StackError(f"{method} {path}: HTTP {response.status_code}: {response.text[:500]}")
        return response.json() if response.content else None
