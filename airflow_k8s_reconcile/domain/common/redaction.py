"""Redaction of secrets before anything is shown: URLs with credentials, tool output, tokens.

Every message, finding and explanation built by the connection modules passes user-controlled text through here
first. The only token-derived value ever shown is :func:`fingerprint`. Called by the settings, credentials and
resolution modules.
"""

from __future__ import annotations

import hashlib
import re

_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.DOTALL)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+\S+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.?[A-Za-z0-9_-]*")
_KEY_VALUE = re.compile(
    r"(?i)\b([\w-]*(?:token|password|passwd|secret|credential|api[_-]?key|access[_-]?key)[\w-]*)"
    r"(\"?\s*[=:]\s*\"?)([^\s\"',;]+)"
)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]+@")
_AWS_KEY = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
_OPAQUE = re.compile(r"(?<![\w/.-])(?=[A-Za-z0-9_+=-]*[0-9])(?=[A-Za-z0-9_+=-]*[A-Za-z])[A-Za-z0-9_+=-]{24,}")
_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")

REDACTED = "[redacted]"


def fingerprint(secret: str | bytes) -> str:
    """Return ``sha256:`` plus the first 8 hex digits of the SHA-256 of ``secret``.

    Enough to tell two tokens apart in logs, far too little to recover or replay one.

    :param secret: the token (or other secret) to fingerprint.
    :return: e.g. ``sha256:1a2b3c4d``.
    """
    data = secret.encode() if isinstance(secret, str) else secret
    return "sha256:" + hashlib.sha256(data).hexdigest()[:8]


def redact_url(url: str) -> str:
    """Return ``url`` with any ``user:password@`` part replaced by ``***@``.

    Works on malformed URLs too (no scheme, stray characters), since those are the ones that end up in messages.

    :param url: a proxy or server URL, possibly carrying credentials.
    :return: the URL safe to show.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{separator}{authority}{slash}{path}"


def redact_text(text: str, *, limit: int = 400) -> str:
    """Return tool output (e.g. an exec plugin's stderr) with anything token-like removed, trimmed.

    Removes PEM blocks, ``Bearer``/``Basic`` values, JWTs, ``token=...``-style pairs, credentials in URLs, AWS key
    ids and long opaque strings; strips terminal escapes and collapses whitespace.

    :param text: the raw text.
    :param limit: maximum length of the result; longer text is cut and ends with ``…``.
    :return: the redacted, single-line text.
    """
    out = _CONTROL.sub(" ", text)
    out = _PEM_BLOCK.sub("[redacted PEM]", out)
    out = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", out)
    out = _JWT.sub(REDACTED, out)
    out = _URL_USERINFO.sub(r"\1***@", out)
    out = _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", out)
    out = _AWS_KEY.sub(REDACTED, out)
    out = _OPAQUE.sub(REDACTED, out)
    out = " ".join(out.split())
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"
