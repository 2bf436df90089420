"""Turn kubeconfig bytes into a YAML document, or say precisely why they are not one.

Decides text-level problems: not UTF-8, empty, invalid YAML or JSON (line and column, never the content; tabs named
as such), and content that is not a mapping (a path or base64 pasted where the YAML belongs). An inline kubeconfig
may also be base64 (``base64 -w0 kubeconfig``): the Airflow form's "Kubeconfig (inline)" field is a one-line input,
where YAML loses its line breaks but base64 and JSON survive. A block-style YAML kubeconfig collapsed onto one line
is recognised and reported with that fix (``CONN_KUBECONFIG_COLLAPSED``), not guessed back into shape. Called by
:func:`~airflow_k8s_reconcile.domain.connection.kubeconfig.merge.parse_kubeconfig`, which then checks the document's structure.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import yaml

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error
from airflow_k8s_reconcile.domain.common.wording import cap

_BASE64ISH = re.compile(r"^[A-Za-z0-9+/=\s]+$")
# libyaml's safe loader is ~10x faster and lighter than the pure-Python one, with the same error marks.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_document(text: str | bytes, *, where: str, origin: str, inline: bool) -> dict[str, Any]:
    """Parse kubeconfig text (YAML or JSON) into a mapping.

    :param text: the content (secret: never echoed).
    :param where: how messages name it, e.g. ``kubeconfig file '/x'``.
    :param origin: the path or ``<inline>``, for the evidence.
    :param inline: whether it is the connection's inline kubeconfig (shapes the fix).
    :raises ConnectionConfigError: ``CONN_KUBECONFIG_EMPTY``, ``_BAD_YAML`` or ``_NOT_A_MAPPING``.
    """
    source = _decode(text, where)
    if not source.strip():
        raise _empty(where, origin)
    if inline and _looks_like_base64_kubeconfig(source):
        source = _decode(_b64decode(source), where)
    failure: Exception | None = None
    try:
        data = yaml.load(source, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader, libyaml-backed when available
    except yaml.YAMLError as err:  # the error holds the whole text: build ours, raise it outside this block
        failure = _collapsed(origin) if _looks_collapsed(source) else _bad_yaml(err, where, origin, source)
    if failure is not None:
        raise failure
    if data is None:
        raise _empty(where, origin)
    if not isinstance(data, dict):
        raise config_error(
            codes.CONN_KUBECONFIG_NOT_A_MAPPING,
            f"The content of {where} is {_scalar_kind(data, source)}, not a kubeconfig mapping.",
            _not_mapping_fix(data, source, inline=inline),
            evidence={"kubeconfig": origin},
        )
    return data


def _decode(text: str | bytes, where: str) -> str:
    if isinstance(text, str):
        return text
    offset = -1
    try:
        return text.decode("utf-8-sig")
    except UnicodeDecodeError as err:  # the error holds the content: raise ours outside this block
        offset = err.start
    raise config_error(
        codes.CONN_KUBECONFIG_BAD_YAML,
        f"The content of {where} is not UTF-8 text (invalid byte at offset {offset}).",
        "Save the kubeconfig as UTF-8 text; a binary or encrypted file cannot be used directly.",
    )


def _empty(where: str, origin: str) -> Exception:
    return config_error(
        codes.CONN_KUBECONFIG_EMPTY,
        f"{cap(where)} is empty (or only comments).",
        "Check the Secret key or template that produces it; kubectl config view --raw shows a working one.",
        evidence={"kubeconfig": origin},
    )


def _bad_yaml(err: yaml.YAMLError, where: str, origin: str, source: str = "") -> Exception:
    mark = getattr(err, "problem_mark", None)
    position = (
        f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "an unknown position"
    )
    problem = str(getattr(err, "problem", "") or "")
    # libyaml does not quote the offending character; look at the text under the mark instead.
    at_mark = _char_at(source, mark.line, mark.column) if mark is not None else ""
    is_tab = "\\t" in problem or at_mark == "\t"
    detail = "a tab character (YAML indents with spaces only)" if is_tab else _scrub(problem)
    return config_error(
        codes.CONN_KUBECONFIG_BAD_YAML,
        f"{cap(where)} is not valid YAML or JSON at {position}: {detail or 'syntax error'}.",
        "Fix the syntax there; text pasted into the Airflow UI often loses its indentation, so paste JSON instead.",
        evidence={"kubeconfig": origin, "position": position},
    )


# Top-level kubeconfig keys as kubectl writes them; two or more of them on ONE line means lost line breaks.
_TOP_KEYS = re.compile(
    r"(?:^|\s)(apiVersion|clusters|contexts|current-context|kind|preferences|users):(?:\s|$)"
)


def _looks_collapsed(source: str) -> bool:
    """Whether ``source`` is block YAML on one line: several top-level keys and no line break between them."""
    return any(len(set(_TOP_KEYS.findall(line))) >= 2 for line in source.splitlines())


def _collapsed(origin: str) -> Exception:
    # The cause stays short on purpose: the Test button's toast has ~300 characters, and the fix is what counts.
    return config_error(
        codes.CONN_KUBECONFIG_COLLAPSED,
        "Its line breaks became spaces (YAML pasted into a one-line field).",
        "Paste JSON (kubectl config view --flatten -o json) or base64 (base64 -w0 kubeconfig).",
        evidence={"kubeconfig": origin},
    )


def _b64decode(source: str) -> bytes:
    compact = "".join(source.split())
    return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)


def _char_at(source: str, line: int, column: int) -> str:
    lines = source.splitlines()
    if 0 <= line < len(lines) and 0 <= column < len(lines[line]):
        return lines[line][column]
    return ""


def _scrub(problem: str) -> str:
    """Keep the parser's wording but drop any quoted content (which may be secret)."""

    def keep_punctuation(match: re.Match[str]) -> str:
        inner = match.group(0)[1:-1]
        return match.group(0) if len(inner) <= 3 and not any(ch.isalnum() for ch in inner) else "'…'"

    return re.sub(r"'[^']*'|\"[^\"]*\"", keep_punctuation, problem)


def _scalar_kind(data: Any, source: str) -> str:
    if isinstance(data, list):
        return "a YAML list"
    if isinstance(data, str):
        if _looks_like_path(data):
            return "a single line that looks like a file path"
        if _looks_like_base64_kubeconfig(source):
            return "base64-encoded text"
        return "a plain string"
    return f"a single {type(data).__name__} value"


def _not_mapping_fix(data: Any, source: str, *, inline: bool) -> str:
    if isinstance(data, str) and _looks_like_path(data) and inline:
        return (
            "Put the path in kube_config_path (auth_mode kubeconfig_file); the Kubeconfig (inline) field holds the "
            "kubeconfig itself."
        )
    if isinstance(data, str) and _looks_like_base64_kubeconfig(source):
        return "Decode it first (base64 -d) and use the YAML it contains."
    return "Use the complete kubeconfig YAML or JSON (kubectl config view --minify --flatten prints one)."


def _looks_like_path(text: str) -> bool:
    line = text.strip()
    return (
        "\n" not in line and " " not in line and (line.startswith(("/", "~", "./")) or line.count("/") >= 1)
    )


def _looks_like_base64_kubeconfig(source: str) -> bool:
    if len("".join(source.split())) < 16 or not _BASE64ISH.match(source):
        return False
    try:
        decoded = _b64decode(source)
    except (binascii.Error, ValueError):
        return False
    return any(marker in decoded for marker in (b"apiVersion", b"clusters", b"current-context"))


def malformed(cause: str, origin: str | None = None) -> Exception:
    """Return the ``CONN_KUBECONFIG_MALFORMED`` error for a structural fault (the one helper for it).

    :param cause: the fault, without the final period.
    :param origin: the kubeconfig path or ``<inline>``, for the evidence.
    :return: the error, ready to raise.
    """
    return config_error(
        codes.CONN_KUBECONFIG_MALFORMED,
        f"{cause}.",
        "Compare with the layout kubectl writes (kubectl config view --minify --flatten) and fix that entry.",
        evidence={"kubeconfig": origin} if origin else None,
    )
