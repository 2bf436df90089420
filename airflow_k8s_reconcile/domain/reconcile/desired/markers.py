"""Ownership markers, the canonical content hash, hash-suffixed names, and who owns a live object.

Markers (Helm's idiom: a selector-friendly label plus annotations for what does not fit a label's 63 characters,
which is also why Argo CD moved tracking to an annotation):

- label ``app.kubernetes.io/managed-by: airflow-k8s-reconcile`` (the recommended-labels key), for list selectors;
- annotation ``airflow-k8s-reconcile/owner``: ``<dag_id>/<task_id>`` by default, or an explicit owner id, so two
  DAGs never fight over one object (Argo CD's ``FailOnSharedResource``, controller-runtime's ``AlreadyOwnedError``);
- annotation ``airflow-k8s-reconcile/content-sha256``: :func:`content_hash` of what we wrote;
- annotation ``airflow-k8s-reconcile/adopted-at``: set once when a foreign object is adopted (explicit, auditable);
- annotation ``airflow-k8s-reconcile/base-name``: the name before the hash suffix, to group rotations.

The hash is SHA-256 over canonical JSON (sorted keys, no whitespace, ASCII escapes) of ``data``, ``binaryData``
(base64, as on the wire) and ``immutable``. JSON is unambiguous where Reloader's ``k=v;`` joining is not (its
``{"a": "b;c=d"}`` and ``{"a": "b", "c": "d"}`` collide): every string is quoted and its quotes and backslashes are
escaped, so a value can never end early or spill into the next key, and ``data`` and ``binaryData`` are separate
members. Formally the encoding is injective because ``json.loads`` inverts it; the unit tests check that round
trip and the known collisions. kustomize's 10-character suffix is kept only for names (40 bits are fine to tell
versions apart, not as tamper evidence).
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec, InputRef

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "airflow-k8s-reconcile"
PREFIX = "airflow-k8s-reconcile/"
OWNER_ANNOTATION = PREFIX + "owner"
HASH_ANNOTATION = PREFIX + "content-sha256"
ADOPTED_ANNOTATION = PREFIX + "adopted-at"
BASE_NAME_ANNOTATION = PREFIX + "base-name"
SUFFIX_LENGTH = 10


def default_owner(dag_id: str, task_id: str) -> str:
    """Return the default owner id ``<dag_id>/<task_id>``: one task owns what it generates."""
    return f"{dag_id}/{task_id}"


def selector() -> str:
    """Return the label selector that lists every ConfigMap this provider manages (one list per namespace)."""
    return f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"


def encode_binary(binary_data: Mapping[str, bytes]) -> dict[str, str]:
    """Return ``binaryData`` as the API carries it: padded standard base64 (Go's ``base64.StdEncoding``)."""
    return {key: base64.b64encode(value).decode("ascii") for key, value in binary_data.items()}


def canonical_content(data: Mapping[str, str], binary_data: Mapping[str, bytes], immutable: bool) -> str:
    """Return the canonical JSON text the content hash is computed over.

    :param data: text values.
    :param binary_data: decoded bytes.
    :param immutable: the ``immutable`` flag (part of the content: flipping it changes what consumers may assume).
    :return: sorted-key, whitespace-free, ASCII-only JSON.
    """
    document = {"binaryData": encode_binary(binary_data), "data": dict(data), "immutable": bool(immutable)}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def content_hash(data: Mapping[str, str], binary_data: Mapping[str, bytes], immutable: bool) -> str:
    """Return the 64-hex-digit SHA-256 of :func:`canonical_content`."""
    return hashlib.sha256(canonical_content(data, binary_data, immutable).encode("ascii")).hexdigest()


def spec_hash(spec: ConfigMapSpec) -> str:
    """Return the content hash of a spec."""
    return content_hash(spec.data, spec.binary_data, spec.immutable)


def with_hash_suffix(spec: ConfigMapSpec) -> ConfigMapSpec:
    """Return ``spec`` renamed to ``<name>-<hash10>`` and marked with its base name, for immutable rotation.

    An immutable ConfigMap's content cannot change (the API answers ``field is immutable``), so a new content gets
    a new name, as kustomize's ``configMapGenerator`` does; :func:`select_rotation` then keeps the last N.
    WARNING: the base name must leave room for the suffix: at most 253 - 11 = 242 characters.
    """
    suffix = spec_hash(spec)[:SUFFIX_LENGTH]
    annotations = {**spec.annotations, BASE_NAME_ANNOTATION: spec.name}
    return dataclasses.replace(spec, name=f"{spec.name}-{suffix}", annotations=annotations)


def desired_labels(spec: ConfigMapSpec) -> dict[str, str]:
    """Return the labels we apply: the spec's plus the managed-by label."""
    return {**spec.labels, MANAGED_BY_LABEL: MANAGED_BY_VALUE}


def desired_annotations(spec: ConfigMapSpec, owner: str, *, adopted_at: str = "") -> dict[str, str]:
    """Return the annotations we apply: the spec's plus owner, content hash and (once) adoption time."""
    out = {**spec.annotations, OWNER_ANNOTATION: owner, HASH_ANNOTATION: spec_hash(spec)}
    if adopted_at:
        out[ADOPTED_ANNOTATION] = adopted_at
    return out


class Ownership(enum.StrEnum):
    """Who a live object belongs to, from our point of view."""

    OURS = "ours"
    """Our label and our owner annotation."""
    UNMARKED = "unmarked"
    """No managed-by label and no other controller: a foreign object ``on_foreign`` decides about."""
    OTHER_OWNER = "other-owner"
    """Another owner id, another tool's managed-by label, or another controller ``ownerReference``."""


def _meta(live: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = live.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _same_owner_object(ref: Mapping[str, Any], owner: InputRef) -> bool:
    # controller-runtime's referSameObject compares group, kind and name (not the uid, nor the version).
    group = str(ref.get("apiVersion", "")).rpartition("/")[0]
    return (group, ref.get("kind"), ref.get("name")) == (owner.group, owner.kind, owner.name)


def other_controller(live: Mapping[str, Any], controlled_by: InputRef | None) -> Mapping[str, Any] | None:
    """Return the live controller ``ownerReference`` that is not ``controlled_by``, if any."""
    for ref in _meta(live).get("ownerReferences") or ():
        mine = (
            controlled_by is not None and isinstance(ref, Mapping) and _same_owner_object(ref, controlled_by)
        )
        if isinstance(ref, Mapping) and ref.get("controller") is True and not mine:
            return ref
    return None


def ownership(live: Mapping[str, Any], owner: str, controlled_by: InputRef | None = None) -> Ownership:
    """Classify a live object dict against our markers and owner id.

    A managed-by label naming another tool (``Helm``, say) is another owner, never something to adopt: taking it
    over silently is what Helm's "invalid ownership metadata" check exists to prevent.

    :param live: the object as the API returned it.
    :param owner: our owner id.
    :param controlled_by: the input that should control the object, if any.
    :return: the classification.
    """
    meta = _meta(live)
    labels = meta.get("labels") or {}
    annotations = meta.get("annotations") or {}
    managed_by = labels.get(MANAGED_BY_LABEL)
    if managed_by == MANAGED_BY_VALUE and annotations.get(OWNER_ANNOTATION) == owner:
        return Ownership.OURS
    if managed_by is not None or other_controller(live, controlled_by) is not None:
        return Ownership.OTHER_OWNER
    return Ownership.UNMARKED


def owner_of(live: Mapping[str, Any]) -> str:
    """Return the live object's owner annotation, or the managed-by label's tool name, for messages."""
    meta = _meta(live)
    owner = (meta.get("annotations") or {}).get(OWNER_ANNOTATION)
    if owner:
        return str(owner)
    tool = (meta.get("labels") or {}).get(MANAGED_BY_LABEL)
    if tool:
        return f"{MANAGED_BY_LABEL}={tool}"
    ref = other_controller(live, None)
    return f"{ref.get('kind')}/{ref.get('name')} (controller ownerReference)" if ref else "nobody"


@dataclasses.dataclass(frozen=True, slots=True)
class Rotation:
    """Which hash-suffixed ConfigMaps of one base name to keep and which to prune."""

    keep: tuple[str, ...]
    prune: tuple[str, ...]


def select_rotation(
    live_objects: Iterable[Mapping[str, Any]], *, base_name: str, current: str, owner: str, keep_last: int
) -> Rotation:
    """Select the ConfigMaps of one rotation to keep: the current one plus the newest others, ``keep_last`` in all.

    Only objects we own and that carry ``base-name: <base_name>`` take part, so a foreign object whose name merely
    looks like ``<base>-<hash>`` is never pruned (Flux prunes only objects still labelled as its own). Newest means
    latest ``creationTimestamp`` (RFC 3339 in UTC, so text order is time order), ties broken by name.

    :param live_objects: live ConfigMap dicts of the namespace.
    :param base_name: the name before the suffix.
    :param current: the desired (hash-suffixed) name; always kept, even if not created yet.
    :param owner: our owner id.
    :param keep_last: how many to keep, including ``current``; at least 1.
    :return: names to keep (newest first, ``current`` first) and names to prune.
    """
    members: list[tuple[str, str]] = []
    for live in live_objects:
        meta = _meta(live)
        name = str(meta.get("name", ""))
        annotations = meta.get("annotations") or {}
        if name == current or annotations.get(BASE_NAME_ANNOTATION) != base_name:
            continue
        if ownership(live, owner) is Ownership.OURS:
            members.append((str(meta.get("creationTimestamp", "")), name))
    members.sort(reverse=True)
    names: Sequence[str] = [name for _, name in members]
    room = max(keep_last, 1) - 1
    return Rotation(keep=(current, *names[:room]), prune=tuple(names[room:]))
