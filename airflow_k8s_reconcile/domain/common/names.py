"""Kubernetes object-name rules, checked locally so a bad name fails before any request is sent.

Namespaces (and labels' name parts) are RFC 1123 DNS labels: lowercase alphanumerics and ``-``, starting and
ending alphanumeric, at most 63 characters (``IsDNS1123Label`` in k8s.io/apimachinery/pkg/util/validation).
"""

from __future__ import annotations

import re

DNS_LABEL_MAX = 63
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DNS_LABEL_RULE = (
    "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters"
)


def is_dns_label(text: str) -> bool:
    """Return whether ``text`` is a valid RFC 1123 label, e.g. a namespace name."""
    return _DNS_LABEL.fullmatch(text) is not None
