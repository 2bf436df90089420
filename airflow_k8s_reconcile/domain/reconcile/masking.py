"""Masking of ConfigMap values in reports, logs and Events: show that a value changed, never what it is.

ConfigMaps hold what people put there, and that includes passwords and DSNs whatever the docs say. So by default
no value appears anywhere: each is replaced by a short SHA-256 fingerprint (``sha256:1a2b3c4d``), enough to see
that two values are equal or differ and to correlate with a file on disk, as Argo CD's equality-preserving
``++++++++`` masks and Flux's ``*** (before)``/``*** (after)`` do. ``show_values=True`` reveals values of keys that
match none of the sensitive patterns (``fnmatch``, case-insensitive); sensitive keys and binary values are masked
always.

WARNING: a plain hash of a low-entropy value (``true``, a 4-digit PIN) can be found by trying candidates. Pass a
``fingerprint_key`` (from a secrets backend) to use HMAC-SHA256 instead, which nobody without the key can check.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import hmac

from airflow_k8s_reconcile.domain.common.redaction import fingerprint
from airflow_k8s_reconcile.domain.common.wording import clip

DEFAULT_SENSITIVE: tuple[str, ...] = (
    "*password*",
    "*passwd*",
    "*secret*",
    "*token*",
    "*key*",
    "*credential*",
    "*cert*",
    "*.pem",
    "*auth*",
    "*private*",
    "*dsn*",
    "*conn*",
)
"""Key patterns always masked; deliberately broad (``*key*`` also masks ``keyboard``: a false positive is cheap)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Masking:
    """How values are shown.

    :param sensitive: ``fnmatch`` patterns of keys whose values are always masked.
    :param show_values: show values of other keys (text only, cut to 80 characters).
    :param fingerprint_key: HMAC key for fingerprints; ``None`` for plain SHA-256.
    """

    sensitive: tuple[str, ...] = DEFAULT_SENSITIVE
    show_values: bool = False
    fingerprint_key: bytes | None = dataclasses.field(default=None, repr=False)

    def is_sensitive(self, key: str) -> bool:
        """Return whether ``key`` matches a sensitive pattern (case-insensitive)."""
        lowered = key.lower()
        return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in self.sensitive)

    def fingerprint(self, value: str | bytes) -> str:
        """Return the short fingerprint of ``value``: ``sha256:`` or ``hmac:`` and 8 hex digits."""
        data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value
        if self.fingerprint_key is None:
            return fingerprint(data)
        return "hmac:" + hmac.new(self.fingerprint_key, data, hashlib.sha256).hexdigest()[:8]

    def show(self, key: str, value: str | bytes | None) -> str | None:
        """Return how ``value`` of ``key`` appears in a report: its fingerprint, or itself when allowed."""
        if value is None:
            return None
        if self.show_values and isinstance(value, str) and not self.is_sensitive(key):
            return clip(value, 80)
        return self.fingerprint(value)
