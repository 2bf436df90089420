"""Kubeconfig parsing, merging and context selection, with a precise diagnosis for every way it goes wrong.

Decides whether kubeconfig text is usable (YAML, a mapping, well-formed lists), how several ``$KUBECONFIG`` files
merge (as kubectl does: the first file wins per cluster, context and user name; the first non-empty
``current-context`` wins), and which context, cluster and user are selected. Unlike the Kubernetes Python client it
fails when a context names a user that does not exist, instead of silently sending anonymous requests. Messages name
paths, line and column, and context names, never kubeconfig content. Called by
:mod:`~airflow_k8s_reconcile.domain.connection.resolution`; cluster and user entries are interpreted by
:mod:`~airflow_k8s_reconcile.domain.connection.kubeconfig.entries`.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import difflib
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error
from airflow_k8s_reconcile.domain.common.wording import cap
from airflow_k8s_reconcile.domain.connection.kubeconfig.parse import load_document, malformed

INLINE = "<inline>"
_LISTS = (("clusters", "cluster"), ("contexts", "context"), ("users", "user"))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NamedEntry:
    """One ``clusters[]``, ``contexts[]`` or ``users[]`` entry and the kubeconfig it came from.

    :param name: the entry's ``name``.
    :param origin: the kubeconfig file path, or ``<inline>``; relative paths in the entry resolve against it.
    :param body: the inner ``cluster``/``context``/``user`` mapping; may hold secrets, never shown.
    """

    name: str
    origin: str
    body: Mapping[str, Any] = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MergedKubeconfig:
    """The merge of one or more kubeconfig documents.

    :param origins: the documents merged, in order (paths, or ``<inline>``).
    :param current_context: the first non-empty ``current-context``, if any.
    :param clusters: cluster entries by name (first definition wins).
    :param contexts: context entries by name (first definition wins).
    :param users: user entries by name (first definition wins).
    """

    origins: tuple[str, ...]
    current_context: str | None
    clusters: Mapping[str, NamedEntry]
    contexts: Mapping[str, NamedEntry]
    users: Mapping[str, NamedEntry]

    @property
    def where(self) -> str:
        """Return how messages name this kubeconfig."""
        return describe_origins(self.origins)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SelectedContext:
    """The context chosen for a connection and the entries it points at.

    :param name: context name.
    :param chosen_by: ``cluster_context`` (the setting) or ``current-context`` (the kubeconfig).
    :param namespace: the context's ``namespace``, if set.
    :param cluster: the cluster entry.
    :param user: the user entry, or ``None`` when the context names no user (anonymous).
    """

    name: str
    chosen_by: str
    namespace: str | None
    cluster: NamedEntry
    user: NamedEntry | None


def describe_origins(origins: Sequence[str]) -> str:
    """Return the phrase messages use for a kubeconfig, e.g. ``kubeconfig file '/x'``.

    :param origins: paths, or ``<inline>``.
    :return: the phrase.
    """
    if list(origins) == [INLINE]:
        return "the inline kubeconfig (the connection's Kubeconfig (inline) field, or kube_config)"
    if len(origins) == 1:
        return f"kubeconfig file {origins[0]!r}"
    return "the merged kubeconfig files " + ", ".join(repr(origin) for origin in origins)


def parse_kubeconfig(text: str | bytes, *, origin: str) -> dict[str, Any]:
    """Parse kubeconfig YAML or JSON text and check its overall shape.

    :param text: the kubeconfig content (secret: never echoed).
    :param origin: the file path, or ``<inline>``.
    :return: the parsed mapping.
    :raises ConnectionConfigError: ``CONN_KUBECONFIG_EMPTY``, ``_BAD_YAML``, ``_NOT_A_MAPPING`` or ``_MALFORMED``.
    """
    where = describe_origins([origin])
    data = load_document(text, where=where, origin=origin, inline=origin == INLINE)
    _check_shape(data, where, origin)
    return data


def merge_kubeconfigs(documents: Sequence[tuple[str, Mapping[str, Any]]]) -> MergedKubeconfig:
    """Merge parsed kubeconfigs the way kubectl merges ``$KUBECONFIG``.

    :param documents: ``(origin, parsed document)`` pairs, in ``$KUBECONFIG`` order.
    :return: the merged view; each entry remembers the file that defined it.
    """
    merged: dict[str, dict[str, NamedEntry]] = {"clusters": {}, "contexts": {}, "users": {}}
    current: str | None = None
    for origin, document in documents:
        for key, inner in _LISTS:
            for item in document.get(key) or ():
                name = _name(item.get("name"))
                if name is not None and name not in merged[key]:
                    body = item.get(inner) or {}
                    merged[key][name] = NamedEntry(name=name, origin=origin, body=MappingProxyType(body))
        value = document.get("current-context")
        if current is None and isinstance(value, str) and value.strip():
            current = value.strip()
    return MergedKubeconfig(
        origins=tuple(origin for origin, _ in documents),
        current_context=current,
        clusters=MappingProxyType(merged["clusters"]),
        contexts=MappingProxyType(merged["contexts"]),
        users=MappingProxyType(merged["users"]),
    )


def select_context(merged: MergedKubeconfig, requested: str | None) -> SelectedContext:
    """Choose the context (``requested`` beats ``current-context``) and check what it points at.

    :param merged: the merged kubeconfig.
    :param requested: the ``cluster_context`` setting, if any.
    :return: the selection.
    :raises ConnectionConfigError: ``CONN_NO_CURRENT_CONTEXT``, ``CONN_UNKNOWN_CONTEXT``, ``CONN_MISSING_CLUSTER``
        or ``CONN_MISSING_USER``.
    """
    where = merged.where
    name = requested or merged.current_context
    chosen_by = "cluster_context" if requested else "current-context"
    known = sorted(merged.contexts)
    if not name:
        raise config_error(
            codes.CONN_NO_CURRENT_CONTEXT,
            f"{cap(where)} has no current-context and the connection sets no cluster_context.",
            _pick_fix("Set cluster_context in the connection to", known, "context"),
            evidence={"kubeconfig": ", ".join(merged.origins)},
        )
    if name not in merged.contexts:
        raise config_error(
            codes.CONN_UNKNOWN_CONTEXT,
            f"The context {name!r} (from {chosen_by}) is not defined in {where}.",
            _pick_fix(
                "Set cluster_context to" if requested else "Set cluster_context (or fix current-context) to",
                known,
                "context",
                name,
            ),
            evidence={"context": name, "known_contexts": ", ".join(known)},
        )
    context = merged.contexts[name]
    cluster = _referenced(merged, context, "cluster", merged.clusters, codes.CONN_MISSING_CLUSTER)
    user = _referenced(merged, context, "user", merged.users, codes.CONN_MISSING_USER)
    namespace = context.body.get("namespace")
    if cluster is None:
        raise config_error(
            codes.CONN_MISSING_CLUSTER,
            f"The context {name!r} in {where} names no cluster.",
            _pick_fix("Set the context's cluster to", sorted(merged.clusters), "cluster"),
            evidence={"context": name},
        )
    return SelectedContext(
        name=name,
        chosen_by=chosen_by,
        namespace=(namespace.strip() or None) if isinstance(namespace, str) else None,
        cluster=cluster,
        user=user,
    )


def decode_data_field(value: Any, *, field: str, entry: str, where: str) -> bytes:
    """Decode a kubeconfig ``*-data`` field (base64 of PEM or of a token).

    :param value: the field value.
    :param field: the field name, e.g. ``certificate-authority-data``.
    :param entry: the entry, e.g. ``cluster 'prod'``.
    :param where: the kubeconfig phrase from :func:`describe_origins`.
    :return: the decoded bytes.
    :raises ConnectionConfigError: ``CONN_BAD_BASE64`` (naming a pasted PEM when it sees one).
    """
    text = "".join(value.split()) if isinstance(value, str) else ""
    decoded: bytes | None = None
    try:
        decoded = base64.b64decode(text, validate=True) if text else None
    except (binascii.Error, ValueError):
        decoded = None
    if decoded is not None:
        return decoded
    pem = isinstance(value, str) and "-----BEGIN" in value
    cause_tail = "holds a PEM block instead of base64 of it" if pem else "is not valid base64"
    raise config_error(
        codes.CONN_BAD_BASE64,
        f"The field {field} of {entry} in {where} {cause_tail}.",
        f"Put base64 of the whole PEM file in {field} (base64 -w0 < file.pem), or use the field without -data "
        "with a file path.",
        evidence={"field": field, "entry": entry},
    )


def _check_shape(data: Mapping[str, Any], where: str, origin: str) -> None:
    if not any(key in data for key in ("clusters", "contexts", "users", "current-context")):
        kind = data.get("kind")
        shown = (
            f" (its kind is {kind!r})"
            if isinstance(kind, str) and re.fullmatch(r"[A-Za-z]{1,40}", kind)
            else ""
        )
        raise malformed(
            f"{cap(where)} has none of clusters, contexts, users or current-context{shown}", origin
        )
    for key, inner in _LISTS:
        items = data.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            raise malformed(f"The {key} key of {where} is not a list", origin)
        for index, item in enumerate(items):
            if not isinstance(item, dict) or _name(item.get("name")) is None:
                raise malformed(f"The entry {key}[{index}] of {where} has no string name", origin)
            if not isinstance(item.get(inner) or {}, dict):
                raise malformed(
                    f"The {inner} of {key}[{index}] ({item['name']!r}) in {where} is not a mapping", origin
                )
    current = data.get("current-context")
    if current is not None and not isinstance(current, str):
        raise malformed(f"The current-context of {where} is not a string", origin)


def _name(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def _referenced(
    merged: MergedKubeconfig, context: NamedEntry, key: str, table: Mapping[str, NamedEntry], code: str
) -> NamedEntry | None:
    target = _name(context.body.get(key))
    if target is None:
        return None
    if target in table:
        return table[target]
    silent = "; the Kubernetes Python client would silently send anonymous requests" if key == "user" else ""
    raise config_error(
        code,
        f"The context {context.name!r} refers to {key} {target!r}, which is not defined in {merged.where}{silent}.",
        _pick_fix(f"Add the {key} entry, or point the context's {key} at", sorted(table), key, target),
        evidence={"context": context.name, key: target},
    )


def _pick_fix(action: str, known: Sequence[str], noun: str, wanted: str | None = None) -> str:
    if not known:
        return f"The kubeconfig defines no {noun}s; generate a complete one (kubectl config view --minify --flatten)."
    close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.5) if wanted else []
    guess = f"Did you mean {close[0]!r}? " if close else ""
    choices = ", ".join(repr(item) for item in known[:20]) + (" …" if len(known) > 20 else "")
    return f"{guess}{action} one of the {noun}s defined: {choices}."
