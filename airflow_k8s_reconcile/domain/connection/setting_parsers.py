"""Parsing of single connection setting values: strict booleans, auth modes, URLs, namespaces, timeouts.

Decides what counts as a valid value for each :class:`~airflow_k8s_reconcile.domain.connection.settings.ConnectionSettings`
field, whichever layer (hook argument or connection field) it comes from, and words the error naming the field and
the value (never for secret fields). Called by :mod:`~airflow_k8s_reconcile.domain.connection.settings` and, for server and
proxy URLs found in kubeconfigs, by :mod:`~airflow_k8s_reconcile.domain.connection.kubeconfig.entries`.
"""

from __future__ import annotations

import difflib
import enum
import json
import math
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import SplitResult, urlsplit

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error
from airflow_k8s_reconcile.domain.common.names import is_dns_label
from airflow_k8s_reconcile.domain.common.redaction import redact_url
from airflow_k8s_reconcile.domain.common.wording import show

DEFAULT_REQUEST_TIMEOUT = 30.0
PROXY_SCHEMES = frozenset({"http", "https", "socks5", "socks5h"})

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class AuthMode(enum.StrEnum):
    """How the connection finds its cluster and credentials."""

    AUTO = "auto"
    IN_CLUSTER = "in_cluster"
    KUBECONFIG_FILE = "kubeconfig_file"
    KUBECONFIG_INLINE = "kubeconfig_inline"


def _split_url(text: str) -> SplitResult | None:
    """Return the parts of ``text``, or ``None`` when it is not a URL (including a non-numeric port)."""
    try:
        parts = urlsplit(text)
        _ = parts.port
    except ValueError:
        return None
    return parts


def validate_server_url(url: str, where: str) -> str:
    """Return ``url`` stripped, or fail when it is not an ``http(s)://host[:port]`` URL.

    :param url: the API server URL.
    :param where: what set it, for the message, e.g. ``connection field 'api_server'``.
    :return: the URL without a trailing slash.
    :raises ConnectionConfigError: ``CONN_BAD_SERVER_URL``.
    """
    text = url.strip()
    parts = _split_url(text)
    if parts is None or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise config_error(
            codes.CONN_BAD_SERVER_URL,
            f"The API server URL {redact_url(text)!r} from {where} is not an http(s)://host[:port] URL.",
            "Use the full URL with scheme, e.g. https://10.0.0.1:6443 (kubectl config view --minify shows it).",
        )
    return text.rstrip("/")


def validate_proxy_url(url: str, where: str) -> str:
    """Return ``url`` stripped, or fail when its scheme is not http, https or socks5 or it has no host.

    :param url: the proxy URL; may carry ``user:password@`` (redacted in every message).
    :param where: what set it, for the message.
    :return: the URL.
    :raises ConnectionConfigError: ``CONN_BAD_PROXY_URL``.
    """
    text = url.strip()
    parts = _split_url(text)
    if parts is None or parts.scheme.lower() not in PROXY_SCHEMES or not parts.hostname:
        raise config_error(
            codes.CONN_BAD_PROXY_URL,
            f"The proxy URL {redact_url(text)!r} from {where} is not a http, https or socks5 URL with a host.",
            "Use e.g. http://proxy.example.com:3128 (credentials as http://user:password@host:port).",
        )
    return text


def parse_bool(value: Any, where: str) -> bool:
    """Parse a strict boolean: real bools, 0/1, or true/false/yes/no/on/off/1/0 in any case; ``None`` is false.

    :param value: the raw value.
    :param where: the field, for the message, e.g. ``connection field 'verify_ssl'``.
    :return: the boolean.
    :raises ConnectionConfigError: ``CONN_BAD_BOOLEAN`` naming the field and value.
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in {0, 1}:
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise config_error(
        codes.CONN_BAD_BOOLEAN,
        f"The {where} is {show(value)}, which is not a boolean.",
        "Use true or false (also accepted: yes/no, on/off, 1/0).",
    )


def _parse_auth_mode(value: Any, where: str) -> AuthMode:
    if isinstance(value, AuthMode):
        return value
    text = value.strip().lower() if isinstance(value, str) else value
    allowed = [mode.value for mode in AuthMode]
    if text in allowed:
        return AuthMode(text)
    close = difflib.get_close_matches(str(text), allowed, n=1, cutoff=0.5)
    hint = f"Did you mean {close[0]!r}? " if close else ""
    raise config_error(
        codes.CONN_UNKNOWN_AUTH_MODE,
        f"The {where} is {show(value)}, which is not a known auth mode.",
        f"{hint}Allowed values: {', '.join(allowed)}.",
    )


def _parse_str(value: Any, where: str) -> str | None:
    if not isinstance(value, str):
        raise config_error(
            codes.CONN_BAD_VALUE, f"The {where} is {show(value)}, not a string.", "Set it to a text value."
        )
    return value.strip() or None


def _parse_kube_config(value: Any, where: str) -> str | None:
    if isinstance(value, Mapping):
        return json.dumps(value)
    if not isinstance(value, str):
        raise config_error(
            codes.CONN_BAD_VALUE,
            f"The {where} is a {type(value).__name__}, not kubeconfig text or an object.",
            "Paste the kubeconfig as YAML or JSON text (or a JSON object in the extras).",
        )
    return value or None


def _parse_namespace(value: Any, where: str) -> str | None:
    text = _parse_str(value, where)
    if text is not None and not is_dns_label(text):
        raise config_error(
            codes.CONN_BAD_VALUE,
            f"The {where} is {show(text)}, which is not a valid namespace name.",
            "Namespaces are lowercase letters, digits and '-', at most 63 characters (RFC 1123 label).",
        )
    return text


def _parse_server(value: Any, where: str) -> str | None:
    text = _parse_str(value, where)
    return None if text is None else validate_server_url(text, where)


def _parse_proxy(value: Any, where: str) -> str | None:
    text = _parse_str(value, where)
    return None if text is None else validate_proxy_url(text, where)


def parse_timeout(value: Any, where: str) -> float:
    """Parse a positive, finite number of seconds (a number or numeric text; not a bool).

    :param value: the raw value.
    :param where: the field, for the message.
    :return: the seconds.
    :raises ConnectionConfigError: ``CONN_BAD_VALUE``.
    """
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or number <= 0:
        raise config_error(
            codes.CONN_BAD_VALUE,
            f"The {where} is {show(value)}, not a positive number of seconds.",
            f"Use a number of seconds greater than 0 (the default is {DEFAULT_REQUEST_TIMEOUT:g}).",
        )
    return number


NORMALIZERS: Mapping[str, Callable[[Any, str], Any]] = MappingProxyType(
    {
        "auth_mode": _parse_auth_mode,
        "kube_config_path": _parse_str,
        "kube_config": _parse_kube_config,
        "cluster_context": _parse_str,
        "namespace": _parse_namespace,
        "api_server": _parse_server,
        "ca_bundle": _parse_str,
        "verify_ssl": parse_bool,
        "tls_server_name": _parse_str,
        "proxy_url": _parse_proxy,
        "request_timeout": parse_timeout,
        "service_account_dir": _parse_str,
        "allow_exec_plugins": parse_bool,
    }
)

SETTING_FIELDS: tuple[str, ...] = tuple(NORMALIZERS)


def is_unset(value: Any) -> bool:
    """Return whether a raw value means "not set" (``None`` or ``""``).

    :param value: the raw value.
    :return: ``True`` when it is not set.
    """
    return value is None or (isinstance(value, str) and value == "")


def normalize(name: str, value: Any, where: str) -> Any:
    """Parse one raw value of the setting ``name``.

    :param name: a :data:`SETTING_FIELDS` name.
    :param value: the raw value (already known to be set).
    :param where: the layer, e.g. ``argument`` or ``connection field``.
    :return: the parsed value, or ``None`` when it reduces to "not set" (e.g. whitespace).
    :raises ConnectionConfigError: when the value is invalid.
    """
    return NORMALIZERS[name](value, f"{where} {name!r}")
