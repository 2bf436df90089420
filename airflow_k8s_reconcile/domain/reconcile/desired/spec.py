"""Desired state: what one ConfigMap should hold, and which inputs it was generated from.

A :class:`ConfigMapSpec` is a frozen value. ``binary_data`` holds **decoded bytes**, not base64 text: the API server
counts decoded bytes against the 1 MiB limit, the canonical base64 the server returns (Go's padded
``StdEncoding``) is derived from bytes in one way only, and a ``str`` field could not tell "already base64" from
"raw text". Manifests that carry base64 text (CLI files) go through :func:`spec_from_manifest`, which decodes and
reports undecodable values as findings instead of raising, so validation can still list every violation at once.

Provenance: an :class:`InputRef` records the custom resource a spec was rendered from (its uid, resourceVersion and
generation: the observedGeneration analogue, since ConfigMaps have no generation). When a spec is controlled by
one input, :func:`owner_reference` builds the ``ownerReference`` exactly as controller-runtime's
``SetControllerReference`` does (``controller: true``, ``blockOwnerDeletion: true``), so Kubernetes' garbage
collector deletes the ConfigMap with its input. Called by the operators (building specs) and by :mod:`.plan`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.common.catalogue import (
    RECONCILE_BAD_BASE64,
    RECONCILE_BAD_MANIFEST,
    finding,
)
from airflow_k8s_reconcile.domain.common.wording import show

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding

FIELD_MANAGER = "airflow-k8s-reconcile"
"""The server-side apply field manager (at most 128 printable characters, see the ``fieldManager`` API doc)."""


def _frozen(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InputRef:
    """One input object a ConfigMap was generated from, as it was when read.

    :param group: API group, ``""`` for the core group.
    :param version: API version, e.g. ``v1alpha1``.
    :param plural: resource name used in URLs, e.g. ``widgets``.
    :param kind: the kind, needed for an ``ownerReference``.
    :param namespace: ``""`` for a cluster-scoped input.
    :param name: object name.
    :param uid: ``metadata.uid``; changes when the input is deleted and recreated.
    :param resource_version: ``metadata.resourceVersion`` when read.
    :param generation: ``metadata.generation`` (spec changes), ``None`` when the kind has none.
    """

    group: str
    version: str
    plural: str
    kind: str
    namespace: str
    name: str
    uid: str
    resource_version: str = ""
    generation: int | None = None

    @property
    def api_version(self) -> str:
        """Return ``group/version``, or ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @classmethod
    def from_object(cls, obj: Mapping[str, Any], *, plural: str) -> InputRef:
        """Return the reference of a live object dict (as the API's JSON returns it).

        :param obj: the object; list items carry no ``kind``/``apiVersion``, so pass them in ``obj`` if needed.
        :param plural: the resource's plural name.
        :return: the reference.
        """
        api_version = str(obj.get("apiVersion", ""))
        group, _, version = api_version.rpartition("/")
        meta = obj.get("metadata") or {}
        generation = meta.get("generation")
        return cls(
            group=group,
            version=version,
            plural=plural,
            kind=str(obj.get("kind", "")),
            namespace=str(meta.get("namespace", "")),
            name=str(meta.get("name", "")),
            uid=str(meta.get("uid", "")),
            resource_version=str(meta.get("resourceVersion", "")),
            generation=generation if isinstance(generation, int) else None,
        )

    def to_dict(self) -> dict[str, object]:
        """Return the JSON shape used in reports."""
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "plural": self.plural,
            "namespace": self.namespace,
            "name": self.name,
            "uid": self.uid,
            "resourceVersion": self.resource_version,
            "generation": self.generation,
        }


def owner_reference(owner: InputRef) -> dict[str, object]:
    """Return the controller ``ownerReference`` to ``owner``, as controller-runtime's ``SetControllerReference``.

    WARNING: Kubernetes only honours owners in the same namespace or cluster-scoped ones, and setting
    ``blockOwnerDeletion`` needs ``delete`` permission on the owner, else the write is rejected with 422
    (Kubernetes docs, "Owners and Dependents"). :mod:`.validation` checks the namespace rule.

    :param owner: the controlling input.
    :return: the reference dict.
    """
    return {
        "apiVersion": owner.api_version,
        "kind": owner.kind,
        "name": owner.name,
        "uid": owner.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ConfigMapSpec:
    """The desired state of one ConfigMap.

    Field types are what a correct spec holds; values built from templates or YAML may not match them at run time
    (an ``int`` value, say), which is why :func:`~.validation.validate_spec` checks types too.

    :param name: object name (DNS-1123 subdomain).
    :param namespace: namespace (DNS-1123 label).
    :param data: UTF-8 text values.
    :param binary_data: decoded bytes; sent base64-encoded as the API requires.
    :param labels: labels besides the ownership label :mod:`.markers` adds.
    :param annotations: annotations besides the ownership annotations :mod:`.markers` adds.
    :param immutable: whether to set ``immutable: true``; pair with :func:`~.markers.with_hash_suffix`.
    :param inputs: the inputs this spec was rendered from, for the report and for watching them.
    :param controlled_by: the input that owns this ConfigMap (becomes a controller ``ownerReference``).
    """

    name: str
    namespace: str
    data: Mapping[str, str] = dataclasses.field(default_factory=dict)
    binary_data: Mapping[str, bytes] = dataclasses.field(default_factory=dict)
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)
    immutable: bool = False
    inputs: tuple[InputRef, ...] = ()
    controlled_by: InputRef | None = None

    def __post_init__(self) -> None:
        for field in ("data", "binary_data", "labels", "annotations"):
            object.__setattr__(self, field, _frozen(getattr(self, field)))
        object.__setattr__(self, "inputs", tuple(self.inputs))

    @property
    def key(self) -> tuple[str, str]:
        """Return ``(namespace, name)``, the identity used to match live objects."""
        return (self.namespace, self.name)


def spec_from_manifest(
    manifest: Mapping[str, Any], *, namespace: str = ""
) -> tuple[ConfigMapSpec | None, tuple[Finding, ...]]:
    """Build a spec from a ConfigMap manifest (one YAML document, as ``kubectl apply -f`` takes it).

    :param manifest: the parsed document.
    :param namespace: used when the manifest names none (as ``kubectl -n``).
    :return: the spec (``None`` when the document is not a ConfigMap) and findings for undecodable base64; the
        spec still needs :func:`~.validation.validate_spec`.
    """
    if manifest.get("kind") != "ConfigMap" or manifest.get("apiVersion") != "v1":
        cause = (
            f"The document has apiVersion {show(manifest.get('apiVersion'))} and kind "
            f"{show(manifest.get('kind'))}; only v1 ConfigMaps are reconciled."
        )
        return None, (
            finding(
                RECONCILE_BAD_MANIFEST, cause, "Give only `apiVersion: v1`, `kind: ConfigMap` documents."
            ),
        )
    meta = manifest.get("metadata") or {}
    name = str(meta.get("name", ""))
    found: list[Finding] = []
    binary: dict[str, Any] = {}
    for key, text in (manifest.get("binaryData") or {}).items():
        try:
            binary[key] = base64.b64decode(text, validate=True) if isinstance(text, str) else text
        except (binascii.Error, ValueError):
            cause = f"binaryData[{key}] of ConfigMap {name!r} is not standard padded base64."
            found.append(finding(RECONCILE_BAD_BASE64, cause, "Encode the bytes with `base64 -w0 FILE`."))
    spec = ConfigMapSpec(
        name=name,
        namespace=str(meta.get("namespace") or namespace),
        data=manifest.get("data") or {},
        binary_data=binary,
        labels=meta.get("labels") or {},
        annotations=meta.get("annotations") or {},
        immutable=manifest.get("immutable") is True,
    )
    return spec, tuple(found)
