"""Judging watched states: is a generated ConfigMap still what the reconcile left behind.

A watch delivers object states, not intentions, so the judgement is level-based like :mod:`.diff`: each state is
compared with an :class:`Expectation` recorded when the reconcile ran (the content hash it wrote, the uid it saw,
optionally a fingerprint per key), never with the previous event. Values never reach this module's output: keys
are compared through fingerprints (:class:`~.masking.Masking`), and the summaries name keys, hashes and uids only,
so a trigger event can be stored and shown without exposing a ConfigMap value.

Without an explicit hash the baseline is the object's own ``airflow-k8s-reconcile/content-sha256`` annotation (what
the reconcile last wrote, in the same write as the content), and without an explicit uid the first uid seen. The
:class:`DriftTracker` turns a stream of states into reports: once per distinct drifted state, and (for event
triggers that keep watching) re-baselined after a reported deletion, so the restore that recreates the object is
not reported as a second tamper. A custom resource's ``metadata.generation`` moves only on spec changes (status
and metadata writes leave it), which is why inputs are judged on it, as controller-runtime's
``GenerationChangedPredicate`` does; ConfigMaps have no generation, hence the content hash.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.reconcile.desired.markers import HASH_ANNOTATION, spec_hash
from airflow_k8s_reconcile.domain.reconcile.drift.diff import (
    Change,
    Drift,
    KeyDrift,
    live_binary,
    live_content_hash,
)
from airflow_k8s_reconcile.domain.reconcile.masking import Masking

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec

Key = tuple[str, str]
_MASK = Masking()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Expectation:
    """What one generated ConfigMap should be, as the reconcile recorded it (no values).

    :param namespace: its namespace.
    :param name: its name.
    :param content_sha256: the desired content hash (:func:`~.markers.content_hash`); ``""`` judges against the
        object's own hash annotation.
    :param uid: the uid the reconcile saw; ``""`` takes the first uid the watch sees.
    :param fingerprints: ``{key label: fingerprint}`` of every desired key (``binaryData/<key>`` for binary
        keys), so added, removed and modified keys can be named; ``None`` when unknown.
    """

    namespace: str
    name: str
    content_sha256: str = ""
    uid: str = ""
    fingerprints: Mapping[str, str] | None = None

    @property
    def key(self) -> Key:
        """Return ``(namespace, name)``."""
        return (self.namespace, self.name)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON shape trigger arguments carry."""
        fingerprints = None if self.fingerprints is None else dict(sorted(self.fingerprints.items()))
        return {
            "namespace": self.namespace,
            "name": self.name,
            "content_sha256": self.content_sha256,
            "uid": self.uid,
            "fingerprints": fingerprints,
        }

    @classmethod
    def from_dict(cls, value: Mapping[str, Any], *, namespace: str = "") -> Expectation:
        """Return the expectation of :meth:`to_dict`'s shape (``namespace`` fills a missing one)."""
        prints = value.get("fingerprints")
        return cls(
            namespace=str(value.get("namespace") or namespace),
            name=str(value["name"]),
            content_sha256=str(value.get("content_sha256") or ""),
            uid=str(value.get("uid") or ""),
            fingerprints=None if prints is None else {str(k): str(v) for k, v in dict(prints).items()},
        )


def fingerprints_of(data: Mapping[str, str], binary_data: Mapping[str, bytes]) -> dict[str, str]:
    """Return ``{key label: fingerprint}`` of a ConfigMap's content (values fingerprinted, never kept)."""
    out = {key: _MASK.fingerprint(value) for key, value in data.items()}
    out |= {f"binaryData/{key}": _MASK.fingerprint(value) for key, value in binary_data.items()}
    return out


def expectation_from_spec(spec: ConfigMapSpec, *, uid: str = "") -> Expectation:
    """Return the expectation of a desired spec: its content hash and a fingerprint per key."""
    return Expectation(
        namespace=spec.namespace,
        name=spec.name,
        content_sha256=spec_hash(spec),
        uid=uid,
        fingerprints=fingerprints_of(spec.data, spec.binary_data),
    )


def expectations_from_report(report: Mapping[str, Any]) -> list[Expectation]:
    """Return the expectations a reconcile report (its XCom) records: desired hash and uid of each object.

    Objects that were pruned, skipped or failed are left out: nothing was promised about them.
    """
    out = []
    for entry in report.get("objects") or ():
        if not isinstance(entry, Mapping) or entry.get("status") in {"pruned", "skipped", "failed"}:
            continue
        hashes = entry.get("hashes") or {}
        out.append(
            Expectation(
                namespace=str(entry.get("namespace", "")),
                name=str(entry.get("name", "")),
                content_sha256=str(hashes.get("desired") or ""),
                uid=str(entry.get("uid") or ""),
            )
        )
    return out


def _key_drift(expected: Mapping[str, str], live: Mapping[str, Any]) -> tuple[KeyDrift, ...]:
    actual = fingerprints_of(live.get("data") or {}, live_binary(live))
    out = []
    for label in sorted(set(expected) | set(actual)):
        section, key = ("binaryData", label[11:]) if label.startswith("binaryData/") else ("data", label)
        if label not in actual:
            out.append(KeyDrift(section, key, Change.REMOVED, None, None))
        elif label not in expected:
            out.append(KeyDrift(section, key, Change.ADDED, None, None))
        elif actual[label] != expected[label]:
            out.append(KeyDrift(section, key, Change.MODIFIED, None, None))
    return tuple(out)


def judge(expect: Expectation, live: Mapping[str, Any] | None, *, baseline_uid: str = "") -> Drift:
    """Return how a live ConfigMap state differs from its expectation, as the core's :class:`~.diff.Drift`.

    ``desired_hash`` is the recorded hash, or the object's own annotation when none was recorded. An edit that
    also rewrote the annotation passes the annotation check (``hash_mismatch``) but not the recorded hash
    (:func:`content_changed`).

    :param expect: the expectation.
    :param live: the object dict as the API returned it, ``None`` when it is gone.
    :param baseline_uid: the uid to compare with when the expectation records none.
    """
    previous = expect.uid or baseline_uid
    if live is None:
        return Drift(missing=True, previous_uid=previous, desired_hash=expect.content_sha256)
    meta = live.get("metadata") or {}
    annotated = str((meta.get("annotations") or {}).get(HASH_ANNOTATION, ""))
    return Drift(
        keys=_key_drift(expect.fingerprints, live) if expect.fingerprints is not None else (),
        live_uid=str(meta.get("uid", "")),
        previous_uid=previous,
        desired_hash=expect.content_sha256 or annotated,
        live_hash=live_content_hash(live),
        annotated_hash=annotated,
    )


def content_changed(drift: Drift) -> bool:
    """Return whether the live content differs from the desired hash (recorded, or else annotated)."""
    return not drift.missing and bool(drift.desired_hash) and drift.live_hash != drift.desired_hash


def drifted(drift: Drift) -> bool:
    """Return whether a judged state is a drift worth reporting (deleted, recreated, edited)."""
    return (
        drift.missing
        or drift.uid_changed
        or drift.hash_mismatch
        or bool(drift.keys)
        or content_changed(drift)
    )


def object_summary(expect: Expectation, drift: Drift) -> dict[str, Any]:
    """Return the secret-free summary of one drifted ConfigMap: keys, hashes and uids, never values."""
    causes = []
    if drift.missing:
        causes.append("deleted")
    if drift.uid_changed:
        causes.append("deleted and recreated (uid changed)")
    for change in Change:
        if labels := drift.labels_of(change):
            causes.append(f"keys {change.value}: {', '.join(labels)}")
    if drift.hash_mismatch:
        causes.append("content does not match its hash annotation")
    elif content_changed(drift) and not drift.keys:
        causes.append("content does not match the recorded hash")
    return {
        "kind": "ConfigMap",
        "namespace": expect.namespace,
        "name": expect.name,
        "missing": drift.missing,
        "added": drift.labels_of(Change.ADDED),
        "removed": drift.labels_of(Change.REMOVED),
        "modified": drift.labels_of(Change.MODIFIED),
        "uid_changed": drift.uid_changed,
        "previous_uid": drift.previous_uid,
        "uid": drift.live_uid,
        "hash_mismatch": drift.hash_mismatch,
        "content_changed": content_changed(drift),
        "expected_hash": drift.desired_hash,
        "live_hash": drift.live_hash,
        "cause": "; ".join(causes),
    }
