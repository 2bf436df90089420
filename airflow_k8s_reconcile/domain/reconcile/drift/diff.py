"""Diff: how a live ConfigMap (a plain dict from the API) differs from its desired spec.

Level-based, as controller-runtime's ``Reconcile``: the diff looks only at the current state, never at events, so a
deletion is simply a missing object. Unlike SSA-based tools (Argo CD, Flux, which by design report only fields they
declared), the whole key set is compared: a key someone *added* is drift too, because an injected setting is the
attack this provider exists to catch. Labels and annotations are compared only where we manage them; others'
metadata (``kubectl.kubernetes.io/last-applied-configuration``, say) is theirs.

Value types follow Kopf's ``diffs.py``: a ``str`` enum for the change, NamedTuple items, one frozen result.
Classes of drift: missing; keys added, removed, modified (``data`` and ``binaryData`` separately); managed labels,
annotations and the controller ``ownerReference`` changed; uid changed (deleted and recreated, compared with a uid
the caller remembers); made immutable by someone else; and the content no longer matching its own hash annotation
(edited behind our back: the annotation says what we last wrote). Called by :mod:`.plan`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_k8s_reconcile.domain.reconcile.desired.markers import (
    HASH_ANNOTATION,
    OWNER_ANNOTATION,
    content_hash,
    desired_labels,
    spec_hash,
)

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec


class Change(enum.StrEnum):
    """What happened to one key, seen from the desired state."""

    ADDED = "added"
    """In the live object only: someone added it."""
    REMOVED = "removed"
    """In the desired state only: missing from the live object."""
    MODIFIED = "modified"
    """In both, with different values."""


class KeyDrift(NamedTuple):
    """One drifted ``data`` or ``binaryData`` key. Values are kept for hashing in the report, never shown."""

    section: str
    key: str
    change: Change
    live: str | bytes | None
    desired: str | bytes | None

    @property
    def label(self) -> str:
        """Return ``key`` for data and ``binaryData/key`` for binary data (keys cannot contain ``/``)."""
        return self.key if self.section == "data" else f"binaryData/{self.key}"


class MetadataDrift(NamedTuple):
    """One drifted managed label, annotation or controller reference."""

    field: str
    key: str
    change: Change
    live: str | None
    desired: str | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Drift:
    """Everything that differs between one desired ConfigMap and its live object."""

    missing: bool = False
    keys: tuple[KeyDrift, ...] = ()
    metadata: tuple[MetadataDrift, ...] = ()
    live_uid: str = ""
    previous_uid: str = ""
    made_immutable: bool = False
    """The live object is immutable and the spec is not: someone else set it (it cannot be unset)."""
    immutable_differs: bool = False
    desired_hash: str = ""
    live_hash: str = ""
    """Hash of the live content, computed here."""
    annotated_hash: str = ""
    """The live object's hash annotation: what we last wrote, unless that was tampered with too."""

    @property
    def uid_changed(self) -> bool:
        """Return whether the object was deleted and recreated since the remembered uid."""
        return bool(self.previous_uid and self.live_uid and self.previous_uid != self.live_uid)

    @property
    def hash_mismatch(self) -> bool:
        """Return whether the live content no longer matches its own hash annotation (changed behind our back)."""
        return bool(self.annotated_hash) and not self.missing and self.annotated_hash != self.live_hash

    @property
    def spec_changed(self) -> bool:
        """Return whether what we last wrote differs from what is desired now (an update, not a tamper)."""
        return self.annotated_hash != self.desired_hash

    @property
    def content_differs(self) -> bool:
        """Return whether ``data``, ``binaryData`` or ``immutable`` differ."""
        return self.missing or bool(self.keys) or self.immutable_differs

    @property
    def in_sync(self) -> bool:
        """Return whether nothing differs (a second reconcile must find every object in sync)."""
        return not (self.content_differs or self.metadata or self.uid_changed or self.hash_mismatch)

    @property
    def tampered(self) -> bool:
        """Return whether someone else changed the object (as opposed to the spec having changed)."""
        deleted = self.missing and bool(self.previous_uid)
        return deleted or self.uid_changed or self.hash_mismatch or self.made_immutable or bool(self.metadata)

    def labels_of(self, change: Change) -> list[str]:
        """Return the sorted key labels with one kind of change, for the report's ``added``/``removed``/``modified``."""
        return sorted(item.label for item in self.keys if item.change is change)


def live_binary(live: Mapping[str, Any]) -> dict[str, bytes]:
    """Return a live object's ``binaryData`` decoded; a value that is not base64 is kept as its text bytes."""
    out = {}
    for key, text in (live.get("binaryData") or {}).items():
        try:
            out[key] = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError, TypeError):
            out[key] = str(text).encode()
    return out


def live_content_hash(live: Mapping[str, Any]) -> str:
    """Return the content hash of a live object dict, comparable with :func:`~.markers.spec_hash`."""
    return content_hash(live.get("data") or {}, live_binary(live), live.get("immutable") is True)


def _key_drift(section: str, desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[KeyDrift]:
    out = []
    for key in sorted(set(desired) | set(live)):
        if key not in live:
            out.append(KeyDrift(section, key, Change.REMOVED, None, desired[key]))
        elif key not in desired:
            out.append(KeyDrift(section, key, Change.ADDED, live[key], None))
        elif live[key] != desired[key]:
            out.append(KeyDrift(section, key, Change.MODIFIED, live[key], desired[key]))
    return out


def _managed_drift(field: str, desired: Mapping[str, str], live: Mapping[str, Any]) -> list[MetadataDrift]:
    out = []
    for key, value in sorted(desired.items()):
        if key not in live:
            out.append(MetadataDrift(field, key, Change.REMOVED, None, value))
        elif live[key] != value:
            out.append(MetadataDrift(field, key, Change.MODIFIED, str(live[key]), value))
    return out


def _owner_ref_drift(spec: ConfigMapSpec, meta: Mapping[str, Any]) -> list[MetadataDrift]:
    ref = spec.controlled_by
    if ref is None:
        return []
    wanted = f"{ref.kind}/{ref.name}"
    for live_ref in meta.get("ownerReferences") or ():
        if isinstance(live_ref, Mapping) and live_ref.get("uid") == ref.uid:
            if live_ref.get("controller") is True and live_ref.get("blockOwnerDeletion") is True:
                return []
            return [MetadataDrift("ownerReferences", wanted, Change.MODIFIED, "not controller", ref.uid)]
    return [MetadataDrift("ownerReferences", wanted, Change.REMOVED, None, ref.uid)]


def diff(spec: ConfigMapSpec, live: Mapping[str, Any] | None, *, owner: str, previous_uid: str = "") -> Drift:
    """Compare a desired ConfigMap with its live object.

    :param spec: the desired state (validated).
    :param live: the live object dict as the API returned it, or ``None`` when it does not exist.
    :param owner: our owner id (its annotation is managed metadata).
    :param previous_uid: the uid seen at the last reconcile (from the previous report), ``""`` if unknown.
    :return: the drift; :attr:`Drift.in_sync` when nothing differs.
    """
    desired_hash = spec_hash(spec)
    if live is None:
        return Drift(missing=True, previous_uid=previous_uid, desired_hash=desired_hash)
    meta = live.get("metadata") or {}
    live_immutable = live.get("immutable") is True
    keys = _key_drift("data", spec.data, live.get("data") or {})
    keys += _key_drift("binaryData", spec.binary_data, live_binary(live))
    annotations = {**spec.annotations, OWNER_ANNOTATION: owner}
    metadata = _managed_drift("labels", desired_labels(spec), meta.get("labels") or {})
    metadata += _managed_drift("annotations", annotations, meta.get("annotations") or {})
    metadata += _owner_ref_drift(spec, meta)
    return Drift(
        keys=tuple(keys),
        metadata=tuple(metadata),
        live_uid=str(meta.get("uid", "")),
        previous_uid=previous_uid,
        made_immutable=live_immutable and not spec.immutable,
        immutable_differs=live_immutable != spec.immutable,
        desired_hash=desired_hash,
        live_hash=live_content_hash(live),
        annotated_hash=str((meta.get("annotations") or {}).get(HASH_ANNOTATION, "")),
    )
