"""Connection settings: parse connection extras and hook arguments into one validated, frozen value.

Decides which connection fields exist (our ``k8s_reconcile`` type and the cncf ``kubernetes`` type's extras), how
their values are parsed (strict booleans, positive timeouts, DNS-1123 namespaces, http(s) URLs) and the precedence
hook/operator argument > connection field > default. The environment (``$KUBECONFIG``, in-cluster variables) is not
read here; :func:`~airflow_k8s_reconcile.domain.connection.resolution.resolve` handles it. Called by the hooks, before
``plan_reads``/``resolve``.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error
from airflow_k8s_reconcile.domain.common.redaction import redact_url
from airflow_k8s_reconcile.domain.connection.inline_kubeconfig import (
    INLINE_FIELD_LABEL,
    with_password_kubeconfig,
)
from airflow_k8s_reconcile.domain.connection.setting_parsers import (
    DEFAULT_REQUEST_TIMEOUT,
    NORMALIZERS,
    SETTING_FIELDS,
    AuthMode,
    is_unset,
    normalize,
    parse_bool,
    parse_timeout,
)

__all__ = [
    "CNCF_CONN_TYPE",
    "CONN_TYPE",
    "DEFAULT_CONN_ID",
    "SETTING_FIELDS",
    "AuthMode",
    "ConnectionSettings",
    "merge_settings",
    "settings_from_extra",
]

# The connection type this provider registers, and the id its hooks use by default.
CONN_TYPE = "k8s_reconcile"
DEFAULT_CONN_ID = "k8s_reconcile_default"
CNCF_CONN_TYPE = "kubernetes"
ORIGIN_ARGUMENT = "argument"
ORIGIN_CONNECTION = "connection"
ORIGIN_OVERRIDE = "argument (overrides connection)"

_SOURCE_FIELDS = ("auth_mode", "kube_config_path", "kube_config")
# Hook-argument spellings of the cncf KubernetesHook constructor, accepted for drop-in compatibility.
_ARGUMENT_ALIASES = {
    "config_file": "kube_config_path",
    "in_cluster": "auth_mode",
    "disable_verify_ssl": "verify_ssl",
}
_CNCF_FIELDS = (
    "in_cluster",
    "kube_config_path",
    "kube_config",
    "cluster_context",
    "namespace",
    "disable_verify_ssl",
)
_CNCF_HARMLESS = ("disable_tcp_keepalive",)
_CNCF_HARMLESS_PREFIX = "xcom_sidecar_"
# Common misspellings, and names users carry over from the cncf type into ours: point them at our spelling.
_ALIASES = {"kubeconfig": "kube_config", "kubeconfig_path": "kube_config_path", "context": "cluster_context"}
_OWN_HINTS = {
    "in_cluster": "auth_mode",
    "disable_verify_ssl": "verify_ssl",
    "config_file": "kube_config_path",
    "context": "cluster_context",
}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class ConnectionSettings:
    """The merged, validated settings of one connection; ``None`` means "not set".

    :param auth_mode: how to find credentials; ``auto`` tries in-cluster, then ``$KUBECONFIG``, then ``~/.kube/config``.
    :param kube_config_path: kubeconfig file (``~`` is expanded by ``resolve``).
    :param kube_config: inline kubeconfig, YAML or JSON text. SECRET: never shown.
    :param cluster_context: kubeconfig context to use instead of ``current-context``.
    :param namespace: default namespace for the work.
    :param api_server: replaces the server URL found by the credential source.
    :param ca_bundle: PEM text, or a path to a PEM file, replacing the CA found by the source.
    :param verify_ssl: verify the API server certificate; turning it off is never recommended.
    :param tls_server_name: name to verify the server certificate against (SNI), e.g. when connecting by IP.
    :param proxy_url: ``http``, ``https`` or ``socks5`` proxy; credentials in it are redacted everywhere.
    :param request_timeout: client-side timeout per API request, in seconds; must be positive.
    :param service_account_dir: in-cluster token directory (default ``/var/run/secrets/kubernetes.io/serviceaccount``).
    :param allow_exec_plugins: allow ``exec`` credential plugins in an inline kubeconfig (they run commands on
        workers, so anyone who may edit the connection could run code).
    :param origins: for each set field, ``argument``, ``connection`` or ``argument (overrides connection)``.
    """

    auth_mode: AuthMode = AuthMode.AUTO
    kube_config_path: str | None = None
    kube_config: str | None = None
    cluster_context: str | None = None
    namespace: str | None = None
    api_server: str | None = None
    ca_bundle: str | None = None
    verify_ssl: bool = True
    tls_server_name: str | None = None
    proxy_url: str | None = None
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    service_account_dir: str | None = None
    allow_exec_plugins: bool = False
    origins: Mapping[str, str] = dataclasses.field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "auth_mode", normalize("auth_mode", self.auth_mode, "setting"))
        object.__setattr__(self, "origins", MappingProxyType(dict(self.origins)))
        parse_timeout(self.request_timeout, "setting 'request_timeout'")
        sources = {name: getattr(self, name) for name in _SOURCE_FIELDS if getattr(self, name) is not None}
        _layer_mode(sources, "the settings")
        if self.auth_mode is AuthMode.KUBECONFIG_INLINE and not self.kube_config:
            raise config_error(
                codes.CONN_BAD_VALUE,
                "auth_mode is 'kubeconfig_inline' but the inline kubeconfig (kube_config) is empty.",
                f"Paste the kubeconfig as JSON into the connection's {INLINE_FIELD_LABEL} field (hook argument "
                "kube_config), or choose another auth_mode.",
            )

    def __repr__(self) -> str:
        shown: list[str] = [f"auth_mode={self.auth_mode.value!r}"]
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in {"auth_mode", "origins"} or value is None:
                continue
            if field.name == "kube_config":
                value = f"<redacted, {len(value)} chars>"
            elif field.name == "ca_bundle" and "-----BEGIN" in value:
                value = f"<PEM, {len(value)} chars>"
            elif field.name == "proxy_url":
                value = redact_url(value)
            shown.append(f"{field.name}={value!r}")
        shown.append(f"origins={dict(self.origins)!r}")
        return f"ConnectionSettings({', '.join(shown)})"


def settings_from_extra(
    conn_type: str, extra: Mapping[str, Any], *, password: str | None = None
) -> dict[str, Any]:
    """Read a connection's extras into settings values keyed by :class:`ConnectionSettings` field names.

    Our type ``k8s_reconcile`` uses the field names directly (or ``extra__k8s_reconcile__<field>``), and its
    password field is the inline kubeconfig (see :mod:`~airflow_k8s_reconcile.domain.connection.inline_kubeconfig`). The cncf type
    ``kubernetes`` uses ``in_cluster``, ``kube_config_path``, ``kube_config`` (text or an object), ``cluster_context``,
    ``namespace``, ``disable_verify_ssl`` (or ``extra__kubernetes__<field>``). Missing, ``None`` and ``""`` mean
    "not set".

    :param conn_type: the Airflow connection type.
    :param extra: the connection's extra dict.
    :param password: the connection's password field; read for our type only (cncf ignores it too).
    :return: parsed values, only for fields that are set.
    :raises ConnectionConfigError: ``CONN_UNKNOWN_FIELD``, ``CONN_BAD_BOOLEAN``, ``CONN_BAD_VALUE``,
        ``CONN_UNKNOWN_AUTH_MODE`` or ``CONN_CONFLICTING_SOURCES`` (several cncf sources set).
    """
    kind = (conn_type or "").strip().lower()
    if kind == CONN_TYPE:
        raw = _collect(extra, prefix=f"extra__{CONN_TYPE}__", known=SETTING_FIELDS, hints=_OWN_HINTS)
        return _normalize_layer(with_password_kubeconfig(raw, password), "connection field")
    if kind == CNCF_CONN_TYPE:
        raw = _collect(extra, prefix=f"extra__{CNCF_CONN_TYPE}__", known=_CNCF_FIELDS, hints={})
        return _from_cncf(raw)
    if not any(not is_unset(value) for value in extra.values()):
        return {}
    raise config_error(
        codes.CONN_BAD_VALUE,
        f"Connection type {conn_type!r} is not one this provider reads.",
        f"Use connection type {CONN_TYPE!r} (or the cncf {CNCF_CONN_TYPE!r} type).",
    )


def merge_settings(arguments: Mapping[str, Any], connection: Mapping[str, Any]) -> ConnectionSettings:
    """Merge hook/operator arguments over connection values: argument > connection field > default.

    The credential source (``auth_mode``, ``kube_config_path``, ``kube_config``) is chosen as a group: when the
    arguments name a source, it replaces the connection's source (``origins`` says so). Within one layer an explicit
    ``auth_mode`` that contradicts a kubeconfig path or inline text is an error, not a precedence question.
    Arguments also accept the cncf hook spellings ``config_file``, ``in_cluster`` and ``disable_verify_ssl``.

    :param arguments: hook/operator keyword arguments; ``None`` and ``""`` mean "not given".
    :param connection: the output of :func:`settings_from_extra`.
    :return: the validated settings.
    :raises ConnectionConfigError: on a conflicting or invalid value.
    """
    arg = _normalize_layer(_apply_aliases(arguments), "argument")
    conn = _normalize_layer(connection, "connection field")
    arg_mode = _layer_mode(arg, "the hook arguments")
    conn_mode = _layer_mode(conn, "the connection")
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for name in SETTING_FIELDS:
        if name in _SOURCE_FIELDS:
            continue
        if name in arg:
            values[name] = arg[name]
            origins[name] = ORIGIN_OVERRIDE if name in conn and conn[name] != arg[name] else ORIGIN_ARGUMENT
        elif name in conn:
            values[name], origins[name] = conn[name], ORIGIN_CONNECTION
    if arg_mode is None:
        for name in _SOURCE_FIELDS:
            if name in conn:
                values[name], origins[name] = conn[name], ORIGIN_CONNECTION
        if conn_mode is not None:
            values["auth_mode"], origins["auth_mode"] = conn_mode, ORIGIN_CONNECTION
    else:
        _merge_source(values, origins, arg, conn, arg_mode, conn_mode)
    implied_by = _implied_by(arg if arg_mode is not None else conn, values.get("auth_mode"))
    if implied_by:
        # Nobody chose this mode: a path or inline text under auth_mode auto did. Resolution says so in its reason.
        origins["auth_mode_implied_by"] = implied_by
    return ConnectionSettings(**values, origins=origins)


def _implied_by(layer: Mapping[str, Any], mode: AuthMode | None) -> str | None:
    """Return the field that selected ``mode`` in a layer whose own ``auth_mode`` is unset or ``auto``."""
    if layer.get("auth_mode") not in {None, AuthMode.AUTO}:
        return None
    if mode is AuthMode.KUBECONFIG_FILE and "kube_config_path" in layer:
        return "kube_config_path"
    if mode is AuthMode.KUBECONFIG_INLINE and "kube_config" in layer:
        return "the inline kubeconfig"
    return None


def _collect(
    extra: Mapping[str, Any], *, prefix: str, known: tuple[str, ...], hints: Mapping[str, str]
) -> dict[str, Any]:
    """Return set extras under their plain names (plain key beats legacy prefixed key); fail on unknown keys."""
    out: dict[str, Any] = {}
    cncf = prefix == f"extra__{CNCF_CONN_TYPE}__"
    for key in sorted(extra, key=lambda k: not k.startswith(prefix)):  # prefixed first, plain keys overwrite
        value = extra[key]
        name = key[len(prefix) :] if key.startswith(prefix) else key
        harmless = cncf and (name in _CNCF_HARMLESS or name.startswith(_CNCF_HARMLESS_PREFIX))
        if is_unset(value) or harmless:
            continue
        if name not in known:
            _unknown_field(key, known, hints)
        out[name] = value
    return out


def _unknown_field(key: str, known: tuple[str, ...], hints: Mapping[str, str]) -> None:
    suggestion = hints.get(key) or _ALIASES.get(key) or _closest(key, known)
    hint = f"Did you mean {suggestion!r}? " if suggestion else ""
    raise config_error(
        codes.CONN_UNKNOWN_FIELD,
        f"The connection extra has an unknown field {key!r}.",
        f"{hint}Known fields: {', '.join(known)}.",
        evidence={"field": key},
    )


def _closest(key: str, known: tuple[str, ...]) -> str | None:
    """Return the most similar known name, preferring one with as many ``_`` parts as ``key``.

    So ``kube_config_file`` suggests ``kube_config_path``, not the (by ratio closer) ``kube_config``.
    """
    close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
    parts = key.count("_")
    ranked = sorted(close, key=lambda name: (name.count("_") != parts, close.index(name)))
    return ranked[0] if ranked else None


def _from_cncf(raw: Mapping[str, Any]) -> dict[str, Any]:
    sources: list[str] = []
    out: dict[str, Any] = {}
    if parse_bool(raw.get("in_cluster"), "connection field 'in_cluster'"):
        sources.append("in_cluster")
        out["auth_mode"] = AuthMode.IN_CLUSTER
    for name, mode in (
        ("kube_config_path", AuthMode.KUBECONFIG_FILE),
        ("kube_config", AuthMode.KUBECONFIG_INLINE),
    ):
        if name in raw:
            sources.append(name)
            out["auth_mode"] = mode
            out[name] = normalize(name, raw[name], "connection field")
    if len(sources) > 1:
        raise config_error(
            codes.CONN_CONFLICTING_SOURCES,
            f"The kubernetes connection sets {' and '.join(sources)}, which are mutually exclusive.",
            "Keep exactly one of in_cluster, kube_config_path and kube_config in the connection extras.",
            evidence={"sources": ", ".join(sources)},
        )
    for name in ("cluster_context", "namespace"):
        if name in raw:
            out[name] = normalize(name, raw[name], "connection field")
    if "disable_verify_ssl" in raw:
        out["verify_ssl"] = not parse_bool(raw["disable_verify_ssl"], "connection field 'disable_verify_ssl'")
    return out


def _apply_aliases(arguments: Mapping[str, Any]) -> dict[str, Any]:
    out = {
        key: value for key, value in arguments.items() if key not in _ARGUMENT_ALIASES and not is_unset(value)
    }
    for alias, name in _ARGUMENT_ALIASES.items():
        value = arguments.get(alias)
        if is_unset(value):
            continue
        if alias == "in_cluster":
            if not parse_bool(value, "argument 'in_cluster'"):
                continue
            value = AuthMode.IN_CLUSTER
        elif alias == "disable_verify_ssl":
            value = not parse_bool(value, "argument 'disable_verify_ssl'")
        if name in out and normalize(name, out[name], "argument") != normalize(name, value, "argument"):
            raise config_error(
                codes.CONN_CONFLICTING_SOURCES,
                f"The hook arguments set both {alias!r} and {name!r} to different values.",
                f"Pass only {name!r}.",
            )
        out[name] = value
    return out


def _normalize_layer(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in NORMALIZERS:
            _unknown_field(name, SETTING_FIELDS, _OWN_HINTS)
        parsed = None if is_unset(value) else normalize(name, value, where)
        if parsed is not None:
            out[name] = parsed
    return out


def _layer_mode(layer: Mapping[str, Any], label: str) -> AuthMode | None:
    """Return the source a single layer asks for, failing when the layer contradicts itself."""
    explicit: AuthMode | None = layer.get("auth_mode")
    has_path, has_inline = "kube_config_path" in layer, "kube_config" in layer
    clash: list[str] = []
    if explicit in {None, AuthMode.AUTO}:
        if has_path and has_inline:
            clash = ["kube_config_path", "kube_config"]
        elif has_path or has_inline:
            return AuthMode.KUBECONFIG_FILE if has_path else AuthMode.KUBECONFIG_INLINE
        else:
            return explicit
    elif explicit is AuthMode.IN_CLUSTER and (has_path or has_inline):
        clash = ["auth_mode 'in_cluster'", "kube_config_path" if has_path else "kube_config"]
    elif explicit is AuthMode.KUBECONFIG_FILE and has_inline:
        clash = ["auth_mode 'kubeconfig_file'", "kube_config"]
    elif explicit is AuthMode.KUBECONFIG_INLINE and has_path:
        clash = ["auth_mode 'kubeconfig_inline'", "kube_config_path"]
    if clash:
        raise config_error(
            codes.CONN_CONFLICTING_SOURCES,
            f"{label[0].upper()}{label[1:]} set {' and '.join(clash)}, which select different credential sources.",
            "Keep one source: auth_mode with its matching field (kube_config_path or kube_config), or nothing.",
            evidence={"layer": label, "sources": ", ".join(clash)},
        )
    return explicit


def _merge_source(
    values: dict[str, Any],
    origins: dict[str, str],
    arg: Mapping[str, Any],
    conn: Mapping[str, Any],
    arg_mode: AuthMode,
    conn_mode: AuthMode | None,
) -> None:
    """Take the arguments' credential source; keep the connection's matching path/text only when not given."""
    overrides = conn_mode is not None and (
        conn_mode is not arg_mode or any(name in arg and name in conn for name in _SOURCE_FIELDS[1:])
    )
    values["auth_mode"] = arg_mode
    origins["auth_mode"] = ORIGIN_OVERRIDE if overrides else ORIGIN_ARGUMENT
    for name, mode in (
        ("kube_config_path", AuthMode.KUBECONFIG_FILE),
        ("kube_config", AuthMode.KUBECONFIG_INLINE),
    ):
        if name in arg:
            values[name] = arg[name]
            origins[name] = ORIGIN_OVERRIDE if name in conn and conn[name] != arg[name] else ORIGIN_ARGUMENT
        elif name in conn and arg_mode is mode:
            values[name], origins[name] = conn[name], ORIGIN_CONNECTION
