"""Run example DAGs the way a DAG author tries them: ``airflow dags test`` in a temporary Airflow home.

One home is migrated once (SQLite) and reused for every run; each run is a subprocess, so it imports Airflow, the
provider and the DAG file exactly as a worker would. The connection is never stored: it comes from an
``AIRFLOW_CONN_K8S_RECONCILE_DEFAULT`` environment variable naming a kubeconfig file, and the DAGs' settings from
their ``K8S_RECONCILE_*`` variables. XComs are read back from the home's database, which is how the demo prints
the reports the tasks returned.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import airflow_k8s_reconcile

CONN_VARIABLE = "AIRFLOW_CONN_K8S_RECONCILE_DEFAULT"


def repository_dags() -> Path:
    """Return the example DAG folder: the checkout's, run from its root (``make``), else next to the package.

    The working directory comes first because an installed wheel (``make test-oldest``) puts the package in
    site-packages, where no ``dags/`` lives next to it.
    """
    here = Path.cwd() / "dags"
    if (here / "restore_on_drift.py").exists():
        return here
    return Path(airflow_k8s_reconcile.__file__).resolve().parents[1] / "dags"


def connection_uri(kubeconfig: Path) -> str:
    """Return the connection (JSON form of an ``AIRFLOW_CONN_*`` variable) for a kubeconfig file."""
    extra = {"auth_mode": "kubeconfig_file", "kube_config_path": str(kubeconfig)}
    return json.dumps({"conn_type": "k8s_reconcile", "extra": extra})


@dataclasses.dataclass(frozen=True, slots=True)
class DagRun:
    """One ``airflow dags test``: its run id (from the database), exit code, combined output and duration."""

    dag_id: str
    run_id: str
    returncode: int
    output: str
    seconds: float

    @property
    def succeeded(self) -> bool:
        """Return whether the command exited 0 and the DAG run ended in ``success``."""
        return (
            self.returncode == 0 and re.search(r"DagRun Finished: .*state=success", self.output) is not None
        )

    def tail(self, lines: int = 40) -> str:
        """Return the end of the output (what to show when the run failed)."""
        return "\n".join(self.output.splitlines()[-lines:])


class AirflowHome:
    """A throw-away ``AIRFLOW_HOME`` with the example DAGs and no example DAGs of Airflow's own.

    :param path: the home directory (created).
    :param dags_folder: the DAG folder (default: the repository's ``dags/``).
    """

    def __init__(self, path: Path, dags_folder: Path | None = None) -> None:
        self.path = path
        self.dags_folder = dags_folder or repository_dags()
        self.airflow = Path(sys.executable).with_name("airflow")
        path.mkdir(parents=True, exist_ok=True)

    @property
    def database(self) -> Path:
        """Return the SQLite metadata database."""
        return self.path / "airflow.db"

    def environ(
        self, kubeconfig: Path | None = None, settings: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """Return the environment of an ``airflow`` command in this home (the caller's, plus these)."""
        package_root = str(Path(airflow_k8s_reconcile.__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
        env = {
            **os.environ,
            "PYTHONPATH": path,
            "AIRFLOW_HOME": str(self.path),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            **dict(settings or {}),
        }
        if kubeconfig is not None:
            env[CONN_VARIABLE] = connection_uri(kubeconfig)
        return env

    def is_migrated(self) -> bool:
        """Return whether the database exists and holds Airflow's tables."""
        if not self.database.exists():
            return False
        with sqlite3.connect(self.database) as db:
            return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'dag_run'").fetchone() is not None

    def migrate(self) -> float:
        """Run ``airflow db migrate`` unless already done; return the seconds it took.

        :raises RuntimeError: with the command's output when it fails.
        """
        if self.is_migrated():
            return 0.0
        began = time.monotonic()
        done = subprocess.run(
            [str(self.airflow), "db", "migrate"],
            env=self.environ(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"airflow db migrate failed (exit {done.returncode}):\n{done.stdout}{done.stderr}"
            )
        return time.monotonic() - began

    def dags_test(
        self,
        dag_id: str,
        *,
        kubeconfig: Path,
        settings: Mapping[str, str] | None = None,
        conf: Mapping[str, Any] | None = None,
        timeout: float = 300.0,
    ) -> DagRun:
        """Run ``airflow dags test DAG_ID`` against ``kubeconfig``'s cluster and return what happened."""
        argv = [str(self.airflow), "dags", "test", dag_id]
        if conf:
            argv += ["--conf", json.dumps(dict(conf))]
        began = time.monotonic()
        done = subprocess.run(
            argv,
            env=self.environ(kubeconfig, settings),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        return DagRun(
            dag_id, self.last_run_id(dag_id), done.returncode, done.stdout, time.monotonic() - began
        )

    def last_run_id(self, dag_id: str) -> str:
        """Return the newest run id of ``dag_id`` ('' when it never ran)."""
        with sqlite3.connect(self.database) as db:
            row = db.execute(
                "SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", (dag_id,)
            ).fetchone()
        return str(row[0]) if row else ""

    def xcoms(self, run: DagRun, task_id: str, key: str = "return_value") -> list[Any]:
        """Return a task's XCom values in ``run``, one per map index (one item for an unmapped task)."""
        with sqlite3.connect(self.database) as db:
            rows = db.execute(
                "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? AND key = ? "
                "ORDER BY map_index",
                (run.dag_id, run.run_id, task_id, key),
            ).fetchall()
        return [json.loads(value) if isinstance(value, str | bytes) else value for (value,) in rows]

    def xcom(self, run: DagRun, task_id: str, key: str = "return_value") -> Any:
        """Return an unmapped task's XCom value in ``run``.

        :raises LookupError: when the task pushed none.
        """
        values = self.xcoms(run, task_id, key)
        if not values:
            raise LookupError(f"no XCom {key!r} of {run.dag_id}.{task_id} in run {run.run_id}")
        return values[0]
