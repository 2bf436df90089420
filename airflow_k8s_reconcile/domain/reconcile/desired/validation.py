"""Local validation of desired ConfigMaps: every violation at once, before any request is sent.

The API server would reject these with 422, one object at a time and after earlier objects were already written;
checking locally lets a task fail with nothing written and with the whole list to fix. The rules are the API
server's own (``k8s.io/apimachinery/pkg/util/validation`` and ``pkg/apis/core/validation``):

- name: DNS-1123 subdomain, at most 253 characters (``IsDNS1123Subdomain``); namespace: DNS-1123 label;
- keys: ``[-._a-zA-Z0-9]+``, at most 253, not ``.`` or ``..``, not starting with ``..`` (``IsConfigMapKey``);
  no key in both ``data`` and ``binaryData`` ("duplicate of key present in binaryData");
- values: ``data`` holds UTF-8 strings, ``binaryData`` bytes; their total size (keys not counted, binary values
  decoded) at most ``MaxSecretSize`` = 1048576 bytes;
- labels: qualified-name keys (optional DNS-subdomain prefix, ``/``, a name of at most 63), values at most 63 of
  ``[A-Za-z0-9_.-]`` starting and ending alphanumeric; annotations: qualified-name keys, total size of keys plus
  values at most 256 KiB (``TotalAnnotationSizeLimitB``), counted with the markers we add.

Causes name the bad key or name and what it should be; they never quote a value, because values may be secret.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, cast

from airflow_k8s_reconcile.domain.common.catalogue import (
    RECONCILE_ANNOTATIONS_TOO_LARGE,
    RECONCILE_BAD_ANNOTATION,
    RECONCILE_BAD_KEY,
    RECONCILE_BAD_LABEL,
    RECONCILE_BAD_NAME,
    RECONCILE_BAD_NAMESPACE,
    RECONCILE_BAD_OWNER,
    RECONCILE_BAD_VALUE,
    RECONCILE_CROSS_NAMESPACE_OWNER,
    RECONCILE_DUPLICATE_KEY,
    RECONCILE_DUPLICATE_OBJECT,
    RECONCILE_RESERVED_METADATA,
    RECONCILE_TOO_LARGE,
    finding,
)
from airflow_k8s_reconcile.domain.common.names import DNS_LABEL_RULE, is_dns_label
from airflow_k8s_reconcile.domain.common.wording import show
from airflow_k8s_reconcile.domain.reconcile.desired.markers import (
    BASE_NAME_ANNOTATION,
    MANAGED_BY_LABEL,
    PREFIX,
    desired_annotations,
)

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec
    from airflow_k8s_reconcile.findings import Finding

MAX_SIZE = 1048576
"""``core.MaxSecretSize``, the limit the API server applies to a ConfigMap's values too."""
MAX_ANNOTATIONS = 256 * 1024
"""``TotalAnnotationSizeLimitB``: the sum of the lengths of annotation keys and values."""
MAX_NAME = 253
MAX_KEY = 253
MAX_LABEL_VALUE = 63

_LABEL_OK = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = re.compile(rf"{_LABEL_OK}(\.{_LABEL_OK})*")
_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_SUBDOMAIN_RULE = "lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"


def is_subdomain(text: str) -> bool:
    """Return whether ``text`` is a DNS-1123 subdomain of at most 253 characters (object names)."""
    return len(text) <= MAX_NAME and _SUBDOMAIN.fullmatch(text) is not None


def key_problem(key: str) -> str:
    """Return why ``key`` is not a valid ConfigMap key, or ``""`` (the rules of ``IsConfigMapKey``)."""
    if not _KEY.fullmatch(key):
        return "may contain only letters, digits, '-', '_' and '.' (regex [-._a-zA-Z0-9]+)"
    if key in {".", ".."}:
        return "must not be '.' or '..'"
    if key.startswith(".."):
        return "must not start with '..'"
    if len(key) > MAX_KEY:
        return f"is {len(key)} characters long; at most {MAX_KEY} are allowed"
    return ""


def qualified_name_problem(key: str) -> str:
    """Return why ``key`` is not a valid label or annotation key, or ``""`` (``IsQualifiedName``)."""
    prefix, slash, name = key.rpartition("/")
    if slash and not (prefix and is_subdomain(prefix)):
        return f"has prefix {prefix!r}, which must be a DNS subdomain ({_SUBDOMAIN_RULE}, at most 253)"
    if not _QUALIFIED_NAME.fullmatch(name) or len(name) > MAX_LABEL_VALUE:
        return "must have a name part of at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric"
    return ""


def _where(spec: ConfigMapSpec) -> str:
    return f"ConfigMap {spec.namespace}/{spec.name}"


def _name_findings(spec: ConfigMapSpec) -> list[Finding]:
    found = []
    if not isinstance(spec.name, str) or not is_subdomain(spec.name):
        rotated = BASE_NAME_ANNOTATION in spec.annotations
        extra = " (the 11-character hash suffix of an immutable rotation counts)" if rotated else ""
        cause = (
            f"The name {show(spec.name)} is not a DNS-1123 subdomain of at most {MAX_NAME} characters{extra}."
        )
        found.append(finding(RECONCILE_BAD_NAME, cause, f"Use {_SUBDOMAIN_RULE}, e.g. 'app-config'."))
    namespace = spec.namespace
    if not isinstance(namespace, str) or not is_dns_label(namespace) or namespace.endswith("\n"):
        cause = f"The namespace {show(namespace)} of ConfigMap {show(spec.name)} is not a DNS-1123 label."
        found.append(finding(RECONCILE_BAD_NAMESPACE, cause, f"Use {DNS_LABEL_RULE}."))
    return found


def _value_findings(spec: ConfigMapSpec) -> list[Finding]:
    found: list[Finding] = []
    size = 0
    data = cast("Mapping[object, object]", spec.data)
    binary = cast("Mapping[object, object]", spec.binary_data)
    for section, values, wanted in (("data", data, str), ("binaryData", binary, bytes)):
        for key, value in values.items():
            problem = key_problem(key) if isinstance(key, str) else "is not a string"
            if problem:
                cause = f"Key {show(key)} in {section} of {_where(spec)} {problem}."
                found.append(
                    finding(RECONCILE_BAD_KEY, cause, "Rename the key, e.g. 'app.properties' or 'LOG_LEVEL'.")
                )
            if not isinstance(value, wanted):
                cause = (
                    f"{section}[{key}] of {_where(spec)} is a {type(value).__name__}, not {wanted.__name__}."
                )
                fix = (
                    "Quote it in YAML or convert it with str()."
                    if wanted is str
                    else "Pass the value as bytes."
                )
                found.append(finding(RECONCILE_BAD_VALUE, cause, fix))
            elif isinstance(value, str):
                try:
                    size += len(value.encode("utf-8"))
                except UnicodeEncodeError:
                    cause = (
                        f"data[{key}] of {_where(spec)} is not valid UTF-8 text (it holds a lone surrogate)."
                    )
                    found.append(
                        finding(RECONCILE_BAD_VALUE, cause, "Put the raw bytes in binary_data instead.")
                    )
            elif isinstance(value, bytes):
                size += len(value)
    for key in sorted(set(data) & set(binary), key=str):
        cause = f"Key {show(key)} of {_where(spec)} is in both data and binaryData."
        found.append(finding(RECONCILE_DUPLICATE_KEY, cause, "Keep the key in one of them only."))
    if size > MAX_SIZE:
        cause = f"The values of {_where(spec)} total {size} bytes; the API server allows at most {MAX_SIZE}."
        fix = "Split the content over several ConfigMaps, or mount it from a volume or an object store."
        found.append(finding(RECONCILE_TOO_LARGE, cause, fix))
    return found


def _metadata_findings(spec: ConfigMapSpec, owner: str) -> list[Finding]:
    found: list[Finding] = []
    labels = cast("Mapping[object, object]", spec.labels)
    for key, value in labels.items():
        problem = qualified_name_problem(key) if isinstance(key, str) else "is not a string"
        if problem:
            found.append(
                finding(
                    RECONCILE_BAD_LABEL,
                    f"Label key {show(key)} of {_where(spec)} {problem}.",
                    "Use e.g. 'app.kubernetes.io/name'.",
                )
            )
        if (
            not isinstance(value, str)
            or len(value) > MAX_LABEL_VALUE
            or (value and not _QUALIFIED_NAME.fullmatch(value))
        ):
            cause = f"Label {show(key)} of {_where(spec)} has value {show(value)}, not a valid label value."
            fix = "Use at most 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric (or empty)."
            found.append(finding(RECONCILE_BAD_LABEL, cause, fix))
    annotations = cast("Mapping[object, object]", spec.annotations)
    for key, value in annotations.items():
        problem = qualified_name_problem(key) if isinstance(key, str) else "is not a string"
        if problem:
            found.append(
                finding(
                    RECONCILE_BAD_ANNOTATION,
                    f"Annotation key {show(key)} of {_where(spec)} {problem}.",
                    "Use e.g. 'example.com/reason'.",
                )
            )
        if not isinstance(value, str):
            cause = f"Annotation {show(key)} of {_where(spec)} is a {type(value).__name__}, not a string."
            found.append(
                finding(RECONCILE_BAD_ANNOTATION, cause, "Quote it in YAML or convert it with str().")
            )
    reserved = [k for k in labels if k == MANAGED_BY_LABEL]
    reserved += [
        k for k in annotations if isinstance(k, str) and k.startswith(PREFIX) and k != BASE_NAME_ANNOTATION
    ]
    for key in reserved:
        cause = f"{show(key)} on {_where(spec)} is an ownership marker this provider sets itself."
        found.append(
            finding(
                RECONCILE_RESERVED_METADATA, cause, "Remove it from the spec; use owner= to name the owner."
            )
        )
    if all(isinstance(k, str) and isinstance(v, str) for k, v in annotations.items()):
        total = sum(len(k) + len(v) for k, v in desired_annotations(spec, owner).items())
        if total > MAX_ANNOTATIONS:
            cause = f"The annotations of {_where(spec)} total {total} bytes with our markers; at most {MAX_ANNOTATIONS}."
            found.append(
                finding(RECONCILE_ANNOTATIONS_TOO_LARGE, cause, "Move large annotation values into data.")
            )
    return found


def _owner_findings(spec: ConfigMapSpec, owner: str) -> list[Finding]:
    found = []
    if not owner or not owner.isprintable() or len(owner) > 1024:
        cause = f"The owner id {show(owner)} must be 1 to 1024 printable characters."
        found.append(
            finding(
                RECONCILE_BAD_OWNER,
                cause,
                "Leave owner unset for '<dag_id>/<task_id>', or pass owner='team/app'.",
            )
        )
    ref = spec.controlled_by
    if ref is not None and ref.namespace and ref.namespace != spec.namespace:
        cause = (
            f"{_where(spec)} would be controlled by {ref.kind} {ref.namespace}/{ref.name}; Kubernetes only honours "
            "owners in the same namespace or cluster-scoped ones."
        )
        found.append(
            finding(RECONCILE_CROSS_NAMESPACE_OWNER, cause, f"Generate it into namespace {ref.namespace!r}.")
        )
    return found


def validate_spec(spec: ConfigMapSpec, *, owner: str) -> tuple[Finding, ...]:
    """Return one finding per violation in ``spec`` (empty when valid).

    :param spec: the desired ConfigMap, typically straight from templated arguments or YAML.
    :param owner: the owner id the markers will carry (counted in the annotation budget).
    :return: the findings, all ``FAIL``.
    """
    return tuple(
        _name_findings(spec)
        + _value_findings(spec)
        + _metadata_findings(spec, owner)
        + _owner_findings(spec, owner)
    )


def validate_specs(specs: Sequence[ConfigMapSpec], *, owner: str) -> tuple[Finding, ...]:
    """Return every violation in a desired set: each spec's, plus objects declared more than once.

    :param specs: the desired ConfigMaps.
    :param owner: the owner id.
    :return: the findings; nothing may be written unless this is empty.
    """
    found: list[Finding] = []
    for spec in specs:
        found += validate_spec(spec, owner=owner)
    found += _duplicates(spec.key for spec in specs)
    return tuple(found)


def _duplicates(keys: Iterable[tuple[str, str]]) -> list[Finding]:
    counts = Counter(keys)
    return [
        finding(
            RECONCILE_DUPLICATE_OBJECT,
            f"ConfigMap {namespace}/{name} is declared {count} times; the last would silently win.",
            "Give each ConfigMap one spec, or merge their data.",
        )
        for (namespace, name), count in sorted(counts.items())
        if count > 1
    ]
