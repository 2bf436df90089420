"""From a stream of watched states to drift reports: when to fire, and what the baseline becomes afterwards.

Inputs to this state machine are plain object states (dicts, or ``None`` for gone), whatever delivered them: a
watch event, a re-list after ``410 Expired`` or a dropped connection, a poke's list. It reports each distinct
drifted state once (the same tampered content seen again after a re-list is not news), and forgets a report when
the object is back in sync, so a second tamper later is reported again.

``keep_watching`` (event triggers, which fire for every tamper and never end) moves the baseline after a report:
the uid after a reported deletion (the restore DAG recreates the object with a new uid; that is the fix, not a
second tamper) and an input's generation after a reported change (so each spec change fires once). A one-shot
trigger fires once and ends, so its baseline never moves. A custom resource input is judged on
``metadata.generation`` (spec changes only), as controller-runtime's ``GenerationChangedPredicate`` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_k8s_reconcile.domain.reconcile.drift.watch import (
    Expectation,
    Key,
    drifted,
    judge,
    object_summary,
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InputExpectation:
    """One input custom resource, as the reconcile read it (the report's ``inputs`` entries fit).

    :param group: API group (``""`` for core).
    :param version: API version.
    :param plural: resource plural.
    :param namespace: ``""`` for cluster-scoped inputs.
    :param name: object name.
    :param uid: the uid read; ``""`` takes the first one seen.
    :param generation: the generation read; ``None`` takes the first one seen.
    """

    group: str
    version: str
    plural: str
    namespace: str
    name: str
    uid: str = ""
    generation: int | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Return ``(group, plural, namespace, name)``."""
        return (self.group, self.plural, self.namespace, self.name)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape trigger arguments carry."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> InputExpectation:
        """Accept :meth:`to_dict`'s shape or a report's ``inputs`` entry (``apiVersion`` instead of group/version)."""
        group, version = value.get("group"), value.get("version")
        if version is None:
            group, _, version = str(value.get("apiVersion", "")).rpartition("/")
        generation = value.get("generation")
        return cls(
            group=str(group or ""),
            version=str(version),
            plural=str(value["plural"]),
            namespace=str(value.get("namespace") or ""),
            name=str(value["name"]),
            uid=str(value.get("uid") or ""),
            generation=generation if isinstance(generation, int) else None,
        )


@dataclasses.dataclass(slots=True)
class _Seen:
    uid: str = ""
    generation: int | None = None
    reported: tuple[object, ...] | None = None
    deletion_reported: bool = False


class DriftTracker:
    """Decide which observed states to report.

    :param expectations: the ConfigMaps watched by name.
    :param inputs: the input custom resources watched.
    :param keep_watching: move the baseline after each report (event triggers), see the module doc.
    :param adopt_unknown: judge ConfigMaps not in ``expectations`` too (label-selector watches): their baseline is
        their own hash annotation and the first uid seen.
    """

    def __init__(
        self,
        expectations: Iterable[Expectation] = (),
        inputs: Iterable[InputExpectation] = (),
        *,
        keep_watching: bool = False,
        adopt_unknown: bool = False,
    ) -> None:
        self.expectations = {item.key: item for item in expectations}
        self.inputs = {item.key: item for item in inputs}
        self.keep_watching = keep_watching
        self.adopt_unknown = adopt_unknown
        self._objects: dict[Key, _Seen] = {}
        self._inputs: dict[tuple[str, str, str, str], _Seen] = {}

    def baseline_uids(self) -> dict[Key, str]:
        """Return the uid each ConfigMap is judged against (recorded, or first seen)."""
        return {key: seen.uid for key, seen in self._objects.items() if seen.uid}

    def configmap(self, namespace: str, name: str, live: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """Observe one ConfigMap state; return its drift summary when it is to be reported."""
        key = (namespace, name)
        expect = self.expectations.get(key)
        if expect is None:
            if not self.adopt_unknown or live is None:
                return None
            expect = self.expectations[key] = Expectation(namespace=namespace, name=name)
        seen = self._objects.setdefault(key, _Seen(uid=expect.uid))
        live_uid = str(((live or {}).get("metadata") or {}).get("uid", ""))
        if live is not None and (not seen.uid or (self.keep_watching and seen.deletion_reported)):
            seen.uid, seen.deletion_reported = live_uid, False
        drift = judge(dataclasses.replace(expect, uid=""), live, baseline_uid=seen.uid)
        if not drifted(drift):
            seen.reported = None
            return None
        state = (drift.missing, drift.live_uid, drift.live_hash, drift.annotated_hash)
        if state == seen.reported:
            return None
        seen.reported = state
        seen.deletion_reported = drift.missing
        if self.keep_watching and drift.uid_changed:
            seen.uid = drift.live_uid
        return object_summary(expect, drift)

    def configmaps_listed(
        self, namespace: str, present: Iterable[str], covered: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        """After a (re-)list of ``namespace``: report expected ConfigMaps the list did not contain.

        :param present: names the list returned.
        :param covered: names the list could have returned (a ``metadata.name`` field selector); ``None``: all.
        """
        names, scope = set(present), None if covered is None else set(covered)
        out = []
        for ns, name in sorted(self.expectations):
            if ns != namespace or name in names or (scope is not None and name not in scope):
                continue
            if summary := self.configmap(ns, name, None):
                out.append(summary)
        return out

    def input(self, ref: tuple[str, str, str, str], live: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """Observe one input state, keyed ``(group, plural, namespace, name)``; return a summary to report."""
        expect = self.inputs.get(ref)
        if expect is None:
            return None
        seen = self._inputs.setdefault(ref, _Seen(uid=expect.uid, generation=expect.generation))
        meta = (live or {}).get("metadata") or {}
        uid, generation = str(meta.get("uid", "")), meta.get("generation")
        generation = generation if isinstance(generation, int) else None
        if live is not None:
            seen.uid = seen.uid or uid
            seen.generation = seen.generation if seen.generation is not None else generation
        if live is None:
            change = "deleted"
        elif uid != seen.uid:
            change = "recreated"
        elif generation != seen.generation:
            change = "generation"
        else:
            seen.reported = None
            return None
        state = (change, uid, generation)
        if state == seen.reported:
            return None
        seen.reported = state
        summary = {
            "kind": "input",
            "group": expect.group,
            "version": expect.version,
            "plural": expect.plural,
            "namespace": expect.namespace,
            "name": expect.name,
            "change": change,
            "previous_uid": seen.uid,
            "uid": uid,
            "previous_generation": seen.generation,
            "generation": generation,
            "cause": _input_cause(change, seen.generation, generation),
        }
        if self.keep_watching and live is not None:
            seen.uid, seen.generation, seen.reported = uid, generation, None
        return summary

    def inputs_listed(
        self,
        group: str,
        plural: str,
        namespace: str,
        present: Iterable[str],
        covered: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        """After a (re-)list of one input resource: report watched inputs the list did not contain."""
        names, scope = set(present), None if covered is None else set(covered)
        out = []
        for key in sorted(self.inputs):
            if (
                key[:3] != (group, plural, namespace)
                or key[3] in names
                or (scope is not None and key[3] not in scope)
            ):
                continue
            if summary := self.input(key, None):
                out.append(summary)
        return out


def _input_cause(change: str, before: int | None, after: int | None) -> str:
    if change == "generation":
        return f"spec changed (generation {before} -> {after})"
    return "deleted" if change == "deleted" else "deleted and recreated (uid changed)"


def event_payload(
    reports: Iterable[Mapping[str, Any]], *, resource_version: str = "", source: str = "list"
) -> dict[str, Any]:
    """Return a trigger event payload: ``{"status": "drift", "objects", "inputs", "message", ...}``.

    JSON-serialisable and secret-free: names, keys, hashes, uids and generations only.

    :param resource_version: the collection's resourceVersion when the drift was seen.
    :param source: ``watch`` (a watch event) or ``list`` (a list or a re-list after 410 or a dropped connection).
    """
    items = list(reports)
    objects = [dict(item) for item in items if item.get("kind") == "ConfigMap"]
    inputs = [dict(item) for item in items if item.get("kind") == "input"]
    lines = [f"ConfigMap {item['namespace']}/{item['name']}: {item['cause']}" for item in objects]
    lines += [
        f"input {item['plural']} {item['namespace']}/{item['name']}: {item['cause']}" for item in inputs
    ]
    return {
        "status": "drift",
        "objects": objects,
        "inputs": inputs,
        "message": "; ".join(lines),
        "resource_version": resource_version,
        "source": source,
    }
