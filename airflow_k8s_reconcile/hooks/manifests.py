"""Desired ConfigMaps from operator arguments (dicts) and from manifest files (multi-document YAML).

Never raises for bad input: every problem (an unreadable file, bad YAML, a document that is not a ConfigMap, an
unknown field, undecodable base64) becomes a finding, so the caller can report them all together with the
validation findings of :func:`~airflow_k8s_reconcile.domain.reconcile.desired.validation.validate_specs`, before any
request. Dicts go through the same :func:`~airflow_k8s_reconcile.domain.reconcile.desired.spec.spec_from_manifest` as
files, so a templated argument and a file mean exactly the same thing. Used by the operators and the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from airflow_k8s_reconcile.domain.common.catalogue import RECONCILE_BAD_MANIFEST, finding
from airflow_k8s_reconcile.domain.common.wording import show
from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec, spec_from_manifest

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding

SPEC_FIELDS = ("name", "namespace", "data", "binary_data", "labels", "annotations", "immutable")
"""The keys of one ``configmaps=[...]`` item; ``binary_data`` values are bytes, or base64 text."""

Loaded = tuple[list[ConfigMapSpec], list["Finding"]]
# libyaml's loader parses about ten times faster than the pure-Python one (57 ms against 556 ms for 500
# ConfigMaps); both accept the same safe subset of YAML.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def spec_from_mapping(item: Any, *, namespace: str = "", where: str = "configmaps") -> Loaded:
    """Return the spec of one ``configmaps=[...]`` item (a dict with :data:`SPEC_FIELDS`), or findings.

    :param item: the item as rendered by Airflow's templating.
    :param namespace: used when the item names none.
    :param where: how the caller names the item in messages, e.g. ``configmaps[2]``.
    """
    if isinstance(item, ConfigMapSpec):
        return [item], []
    if not isinstance(item, Mapping):
        cause = f"{where} is a {type(item).__name__}, not a mapping with {', '.join(SPEC_FIELDS)}."
        return [], [
            finding(
                RECONCILE_BAD_MANIFEST,
                cause,
                "Give each ConfigMap as a dict, e.g. {'name': 'app', 'data': {...}}.",
            )
        ]
    unknown = sorted(str(key) for key in item if key not in SPEC_FIELDS)
    if unknown:
        cause = (
            f"{where} has unknown field(s) {', '.join(map(show, unknown))}; known: {', '.join(SPEC_FIELDS)}."
        )
        return [], [finding(RECONCILE_BAD_MANIFEST, cause, "Fix the spelling (binary_data, not binaryData).")]
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": item.get("name", ""),
            "namespace": item.get("namespace") or namespace,
            "labels": item.get("labels") or {},
            "annotations": item.get("annotations") or {},
        },
        "data": item.get("data") or {},
        "binaryData": item.get("binary_data") or {},
        "immutable": item.get("immutable") is True,
    }
    spec, found = spec_from_manifest(manifest, namespace=namespace)
    return ([spec] if spec is not None else []), list(found)


def specs_from_mappings(items: Iterable[Any], *, namespace: str = "") -> Loaded:
    """Return the specs of every ``configmaps=[...]`` item, and every problem found."""
    specs: list[ConfigMapSpec] = []
    found: list[Finding] = []
    for index, item in enumerate(items):
        more, problems = spec_from_mapping(item, namespace=namespace, where=f"configmaps[{index}]")
        specs += more
        found += problems
    return specs, found


def load_manifests(paths: Iterable[str | Path], *, namespace: str = "") -> Loaded:
    """Return the specs of every ConfigMap document in ``paths`` (``---``-separated YAML), and every problem.

    Empty documents are skipped, as ``kubectl apply -f`` does; a ``List`` is not unpacked (give the items).

    :param paths: manifest files.
    :param namespace: for documents that name none.
    """
    specs: list[ConfigMapSpec] = []
    found: list[Finding] = []
    for path in map(Path, paths):
        try:
            documents = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_LOADER))
        except OSError as err:
            cause = f"Cannot read {path}: {err.strerror or type(err).__name__}."
            found.append(finding(RECONCILE_BAD_MANIFEST, cause, "Give an existing, readable file."))
            continue
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            mark = getattr(err, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark is not None else ""
            cause = f"{path} is not valid YAML{at}: {getattr(err, 'problem', None) or type(err).__name__}."
            found.append(
                finding(RECONCILE_BAD_MANIFEST, cause, "Fix the YAML (check indentation and quoting).")
            )
            continue
        for index, document in enumerate(documents):
            if document is None:
                continue
            if not isinstance(document, Mapping):
                cause = f"Document {index + 1} of {path} is a {type(document).__name__}, not a manifest."
                found.append(finding(RECONCILE_BAD_MANIFEST, cause, "Give ConfigMap manifests only."))
                continue
            spec, problems = spec_from_manifest(document, namespace=namespace)
            found += [_located(problem, path, index) for problem in problems]
            specs += [spec] if spec is not None else []
    return specs, found


def _located(item: Finding, path: Path, index: int) -> Finding:
    return finding(item.code, f"{path}, document {index + 1}: {item.cause}", item.fix)


__all__ = ["Loaded", "load_manifests", "spec_from_mapping", "specs_from_mappings"]
