"""Request bodies the hooks send: the server-side apply object, the guarded JSON patch, the delete options.

- **Apply** (``PATCH ...?fieldManager=airflow-k8s-reconcile[&force=true]``, ``application/apply-patch+yaml``; a JSON
  body is valid YAML): only the fields we own, never a full typed object (kubernetes#95989: serialising a whole
  object claims fields you never meant to own). SSA re-creates a deleted object, restores values we own and drops
  keys we stopped declaring, but never removes fields another manager owns (Kubernetes docs, "Server-Side Apply").
- **Removal of foreign keys**: an RFC 6902 JSON patch (``application/json-patch+json``) led by a ``test`` of
  ``/metadata/resourceVersion`` (the guard Kopf uses for its own patches), so a concurrent change makes the patch
  fail instead of removing keys from a state we never saw. Path tokens are escaped per RFC 6901 section 3
  (``~`` -> ``~0`` first, then ``/`` -> ``~1``). ConfigMap keys cannot hold either character today, but label and
  annotation keys hold ``/``, and the escape must not depend on what the server happens to accept.
- **Delete** (recreate, prune): ``DeleteOptions`` with ``preconditions`` on uid and resourceVersion, so we delete
  exactly the object we judged, never one recreated or changed since.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow_k8s_reconcile.domain.reconcile.desired.markers import (
    desired_annotations,
    desired_labels,
    encode_binary,
)
from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec, owner_reference

APPLY_CONTENT_TYPE = "application/apply-patch+yaml"
JSON_PATCH_CONTENT_TYPE = "application/json-patch+json"


def escape_token(token: str) -> str:
    """Return ``token`` escaped as one RFC 6901 reference token (``~`` first, so ``~1`` is never double-escaped)."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str) -> str:
    """Return the JSON pointer made of ``tokens``, e.g. ``pointer("metadata", "labels", "a/b")`` -> ``/metadata/labels/a~1b``."""
    return "".join("/" + escape_token(token) for token in tokens)


def apply_body(spec: ConfigMapSpec, *, owner: str, adopted_at: str = "") -> dict[str, Any]:
    """Return the server-side apply body for ``spec``: the object as we want it, with our markers.

    :param spec: the desired ConfigMap (validated).
    :param owner: our owner id.
    :param adopted_at: the adoption time (RFC 3339) when this apply adopts a foreign object, else ``""``.
    :return: a JSON-serialisable dict.
    """
    metadata: dict[str, Any] = {
        "name": spec.name,
        "namespace": spec.namespace,
        "labels": desired_labels(spec),
        "annotations": desired_annotations(spec, owner, adopted_at=adopted_at),
    }
    if spec.controlled_by is not None:
        metadata["ownerReferences"] = [owner_reference(spec.controlled_by)]
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
    if spec.data:
        body["data"] = dict(spec.data)
    if spec.binary_data:
        body["binaryData"] = encode_binary(spec.binary_data)
    if spec.immutable:
        # Declared only when true: owning ``immutable: false`` would gain nothing (it cannot be unset anyway).
        body["immutable"] = True
    return body


def removal_patch(resource_version: str, paths: Iterable[tuple[str, ...]]) -> list[dict[str, Any]]:
    """Return the RFC 6902 patch removing ``paths``, guarded by a ``test`` of the resourceVersion that was read.

    :param resource_version: ``metadata.resourceVersion`` of the live object the plan was made from.
    :param paths: token tuples, e.g. ``("data", "evil.conf")``; escaped here.
    :return: the patch body (a list); an empty list when there is nothing to remove.
    """
    removals = [{"op": "remove", "path": pointer(*tokens)} for tokens in paths]
    if not removals:
        return []
    return [{"op": "test", "path": "/metadata/resourceVersion", "value": resource_version}, *removals]


def delete_options(live: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``DeleteOptions`` that delete only this exact version of ``live`` (409 if it changed since)."""
    meta = live.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "preconditions": {"uid": meta.get("uid", ""), "resourceVersion": meta.get("resourceVersion", "")},
    }
