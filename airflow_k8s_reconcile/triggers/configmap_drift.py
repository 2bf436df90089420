"""Triggers that watch generated ConfigMaps (and their input custom resources) and fire on drift.

``ConfigMapDriftTrigger`` fires once and ends, for :class:`~airflow_k8s_reconcile.sensors.configmap_drift.
K8sConfigMapDriftSensor` in deferrable mode. ``ConfigMapDriftEventTrigger`` is a ``BaseEventTrigger`` for an
``AssetWatcher``: it fires for every tamper and keeps watching, as Airflow's event triggers do, so an event-driven
DAG restores a deleted or edited ConfigMap within seconds of the change (Kopf, by contrast, does not notice a
deleted child at all: kopf#153).

Both watch with :mod:`airflow_k8s_reconcile.hooks.watch` (list, then watch with bookmarks, resume from
resourceVersion, re-list after 410 or a dropped connection without losing a change) and judge each state with the
pure :class:`~airflow_k8s_reconcile.domain.reconcile.drift.tracker.DriftTracker`: deleted, uid changed (deleted and
recreated), content not matching the hash the reconcile recorded (a key added, removed or edited), an input's
generation moved. Event payloads name keys, hashes, uids and generations, never a value.

Importing this module imports neither the hooks nor the Kubernetes client (DAG files import it to build an
``AssetWatcher``; the DAG processor parses them often): :meth:`run` imports them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent

from airflow_k8s_reconcile.domain.connection.settings import DEFAULT_CONN_ID
from airflow_k8s_reconcile.domain.reconcile.drift.tracker import DriftTracker, InputExpectation, event_payload
from airflow_k8s_reconcile.domain.reconcile.drift.watch import Expectation

_NAME_FIELD = "metadata.name="


class _DriftWatch:
    """What both triggers share: arguments, targets, and the watch-and-judge loop."""

    def __init__(
        self,
        *,
        namespace: str,
        names: Sequence[str] = (),
        label_selector: str = "",
        expectations: Sequence[Mapping[str, Any]] = (),
        inputs: Sequence[Mapping[str, Any]] = (),
        resource_version: str = "",
        k8s_reconcile_conn_id: str = DEFAULT_CONN_ID,
        connection_arguments: Mapping[str, Any] | None = None,
        watch_seconds: int = 300,
        max_failures: int = 10,
    ) -> None:
        self.namespace = namespace
        self.names = list(names)
        self.label_selector = label_selector
        self.expectations = [
            Expectation.from_dict(item, namespace=namespace).to_dict() for item in expectations
        ]
        self.inputs = [InputExpectation.from_dict(item).to_dict() for item in inputs]
        self.resource_version = resource_version
        self.k8s_reconcile_conn_id = k8s_reconcile_conn_id
        self.connection_arguments = dict(connection_arguments or {})
        self.watch_seconds = watch_seconds
        self.max_failures = max_failures
        if not (self.names or self.label_selector or self.expectations):
            raise ValueError(
                "Give names, a label_selector or expectations: the trigger must know what to watch."
            )

    def _kwargs(self) -> dict[str, Any]:
        return {
            "namespace": self.namespace,
            "names": list(self.names),
            "label_selector": self.label_selector,
            "expectations": [dict(item) for item in self.expectations],
            "inputs": [dict(item) for item in self.inputs],
            "resource_version": self.resource_version,
            "k8s_reconcile_conn_id": self.k8s_reconcile_conn_id,
            "connection_arguments": dict(self.connection_arguments),
            "watch_seconds": self.watch_seconds,
            "max_failures": self.max_failures,
        }

    def _tracker(self, *, keep_watching: bool) -> DriftTracker:
        """Return a fresh tracker for these arguments."""
        expected = {
            (item["namespace"], item["name"]): Expectation.from_dict(item) for item in self.expectations
        }
        for name in self.names:
            expected.setdefault((self.namespace, name), Expectation(namespace=self.namespace, name=name))
        return DriftTracker(
            expected.values(),
            [InputExpectation.from_dict(item) for item in self.inputs],
            keep_watching=keep_watching,
            adopt_unknown=bool(self.label_selector) and not expected,
        )

    def _targets(self, tracker: DriftTracker) -> list[Any]:
        """Return the :class:`~airflow_k8s_reconcile.hooks.watch.WatchTarget` list: ConfigMaps, then inputs."""
        from airflow_k8s_reconcile.hooks.watch import WatchTarget

        if self.label_selector:
            targets = [WatchTarget(namespace=self.namespace, label_selector=self.label_selector)]
        else:
            namespaces = {ns for ns, _ in tracker.expectations}
            targets = [
                WatchTarget(namespace=ns, field_selector=_NAME_FIELD + name) for ns, name in sorted(tracker.expectations)
            ] if len(tracker.expectations) <= 3 else [WatchTarget(namespace=ns) for ns in sorted(namespaces)]  # fmt: skip
        groups: dict[tuple[str, str, str, str], list[str]] = {}
        for item in tracker.inputs.values():
            groups.setdefault((item.group, item.version, item.plural, item.namespace), []).append(item.name)
        for (group, version, plural, namespace), names in sorted(groups.items()):
            selector = _NAME_FIELD + names[0] if len(names) == 1 else ""
            targets.append(WatchTarget(plural, group, version, namespace, field_selector=selector))
        return targets

    def _hook(self) -> Any:
        from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook

        return AsyncK8sReconcileHook(self.k8s_reconcile_conn_id, **self.connection_arguments)

    async def drifts(self, *, keep_watching: bool) -> AsyncIterator[dict[str, Any]]:
        """Yield one event payload per batch of drifted states, forever."""
        from airflow_k8s_reconcile.hooks.watch import watch_targets

        tracker = self._tracker(keep_watching=keep_watching)
        options = {"resource_version": self.resource_version, "watch_seconds": self.watch_seconds}
        hook = self._hook()
        async with hook:
            stream = watch_targets(hook, self._targets(tracker), max_failures=self.max_failures, **options)
            async for event in stream:
                reports = _judge_event(tracker, event)
                if reports:
                    source = "list" if event.from_list else "watch"
                    yield event_payload(reports, resource_version=event.resource_version, source=source)

    def _error_payload(self, err: Exception) -> dict[str, Any]:
        finding = getattr(err, "finding", None)
        return {
            "status": "error",
            "message": str(err),
            "transient": bool(getattr(err, "transient", False)),
            "finding": finding.to_dict() if finding is not None else None,
        }


def _covered(selector: str) -> list[str] | None:
    return [selector[len(_NAME_FIELD) :]] if selector.startswith(_NAME_FIELD) else None


def _judge_event(tracker: DriftTracker, event: Any) -> list[dict[str, Any]]:
    """Feed one :class:`~airflow_k8s_reconcile.hooks.watch.ObjectEvent` to the tracker; return its reports."""
    target = event.target
    if target.plural == "configmaps" and not target.group:
        if event.type == "LISTED":
            present = [name for ns, name in event.names if ns == target.namespace]
            return tracker.configmaps_listed(target.namespace, present, _covered(target.field_selector))
        meta = event.object.get("metadata") or {}
        live = None if event.type == "DELETED" else event.object
        report = tracker.configmap(str(meta.get("namespace", "")), str(meta.get("name", "")), live)
        return [report] if report else []
    if event.type == "LISTED":
        present = [name for ns, name in event.names if ns == target.namespace]
        covered = _covered(target.field_selector)
        return tracker.inputs_listed(target.group, target.plural, target.namespace, present, covered)
    meta = event.object.get("metadata") or {}
    key = (target.group, target.plural, str(meta.get("namespace", "")), str(meta.get("name", "")))
    report = tracker.input(key, None if event.type == "DELETED" else event.object)
    return [report] if report else []


class ConfigMapDriftTrigger(_DriftWatch, BaseTrigger):
    """Fire one ``TriggerEvent`` when a watched ConfigMap or input drifts; then end.

    The payload is ``{"status": "drift", "objects": [...], "inputs": [...], "message", "resource_version"}``,
    or ``{"status": "error", "message", "transient", "finding"}`` when the API server refuses the watch (a
    missing permission) or stays unreachable past ``max_failures``.

    :param namespace: where the ConfigMaps live.
    :param names: ConfigMap names to watch (one ``metadata.name`` watch each, up to three; else the namespace).
    :param label_selector: watch the ConfigMaps it selects instead (each judged against its own hash annotation).
    :param expectations: recorded state per ConfigMap, :meth:`Expectation.to_dict
        <airflow_k8s_reconcile.domain.reconcile.drift.watch.Expectation.to_dict>` (hash, uid, key fingerprints).
    :param inputs: input custom resources, :meth:`InputExpectation.to_dict
        <airflow_k8s_reconcile.domain.reconcile.drift.tracker.InputExpectation.to_dict>` or a reconcile report's
        ``inputs`` entries; fires when one's generation moves, or it is deleted or recreated.
    :param resource_version: watch from here instead of listing first (a change since then is seen even if
        undone; too old means one re-list).
    :param k8s_reconcile_conn_id: the connection.
    :param connection_arguments: hook arguments overriding the connection (``namespace``, ``request_timeout``...).
    :param watch_seconds: shortest server-side watch duration (each asks for up to twice this).
    :param max_failures: consecutive failed attempts (API server unreachable) before giving up.
    """

    def __init__(self, **kwargs: Any) -> None:
        _DriftWatch.__init__(self, **kwargs)
        BaseTrigger.__init__(self)  # type: ignore[no-untyped-call]

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", self._kwargs()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_k8s_reconcile.exceptions import ReconcileError

        try:
            async for payload in self.drifts(keep_watching=False):
                self.log.warning("%s", payload["message"])
                yield _event(payload)
                return
        except ReconcileError as err:
            yield _event(self._error_payload(err))


class ConfigMapDriftEventTrigger(_DriftWatch, BaseEventTrigger):
    """Fire a ``TriggerEvent`` for every drift of the watched ConfigMaps or inputs, and keep watching.

    For ``Asset(..., watchers=[AssetWatcher(name=..., trigger=ConfigMapDriftEventTrigger(...))])``: each event
    becomes an asset event that schedules the restoring DAG. After a reported deletion the recreated object's uid
    becomes the baseline, and after a reported input change its generation does, so the restore itself is not
    reported as a new tamper. Same arguments as :class:`ConfigMapDriftTrigger`; ``max_failures`` defaults to
    ``0`` (retry forever with capped backoff: an asset watcher should outlive an API server outage). A refusal
    (missing permission) raises, with its finding, in the triggerer's log.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_failures", 0)
        _DriftWatch.__init__(self, **kwargs)
        BaseEventTrigger.__init__(self)  # type: ignore[no-untyped-call]

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", self._kwargs()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        async for payload in self.drifts(keep_watching=True):
            self.log.warning("%s", payload["message"])
            yield _event(payload)


def _listed_events(target: Any, items: list[dict[str, Any]], version: str) -> list[Any]:
    """Return the events one plain list amounts to (every item ``ADDED``, then ``LISTED``), for a poke."""
    from airflow_k8s_reconcile.hooks.watch import ObjectEvent

    names = frozenset(
        (str(item["metadata"].get("namespace", "")), str(item["metadata"]["name"])) for item in items
    )
    out = [ObjectEvent("ADDED", target, item, from_list=True, resource_version=version) for item in items]
    return [*out, ObjectEvent("LISTED", target, None, True, names, version)]


def _event(payload: dict[str, Any]) -> TriggerEvent:
    return TriggerEvent(payload)  # type: ignore[no-untyped-call]


__all__ = ["ConfigMapDriftEventTrigger", "ConfigMapDriftTrigger"]
