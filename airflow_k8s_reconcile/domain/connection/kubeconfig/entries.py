"""Interpretation of a selected kubeconfig cluster and user: server, CA, TLS options and the credential.

Decides which credential a kubeconfig user means (the Kubernetes Python client's order: ``auth-provider``, ``token``,
``tokenFile``, ``exec``, ``username``/``password``, else a client certificate), decodes ``*-data`` fields, resolves
file paths against the kubeconfig that defined the entry (relative paths cannot work for an inline kubeconfig), and
refuses ``exec`` plugins in an inline kubeconfig unless the connection allows them. Files are read through a
:class:`~airflow_k8s_reconcile.domain.connection.files.FileView`. Called by :mod:`~airflow_k8s_reconcile.domain.connection.resolution`.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error, finding
from airflow_k8s_reconcile.domain.connection.credentials.exec_plugin import SUPPORTED_EXEC_API_VERSIONS
from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    AuthProviderCredential,
    BasicAuthCredential,
    ClientCertCredential,
    Credential,
    ExecCredential,
    ExecSpec,
    NoCredential,
    TokenCredential,
)
from airflow_k8s_reconcile.domain.connection.kubeconfig.merge import (
    INLINE,
    NamedEntry,
    decode_data_field,
    describe_origins,
)
from airflow_k8s_reconcile.domain.connection.setting_parsers import validate_proxy_url, validate_server_url
from airflow_k8s_reconcile.findings import Status

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.files import FileView
    from airflow_k8s_reconcile.findings import Finding

_HEADER_KINDS = ("auth-provider", "token", "tokenFile", "exec", "username")
_CERT_KEYS = ("client-certificate", "client-certificate-data", "client-key", "client-key-data")
_INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ClusterEntry:
    """What a kubeconfig cluster entry says about reaching the API server.

    :param name: cluster name.
    :param server: API server URL (``None`` only when the connection overrides it).
    :param ca_pem: CA bundle PEM, when the entry names one.
    :param ca_source: where the CA came from, e.g. ``certificate-authority-data of cluster 'prod'``.
    :param insecure: ``insecure-skip-tls-verify``.
    :param tls_server_name: ``tls-server-name``.
    :param proxy_url: ``proxy-url``; may hold credentials, so not in ``repr``.
    """

    name: str
    server: str | None
    ca_pem: bytes | None = dataclasses.field(default=None, repr=False)
    ca_source: str = "system trust store"
    insecure: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = dataclasses.field(default=None, repr=False)


def read_cluster(entry: NamedEntry, *, files: FileView, need_server: bool, need_ca: bool) -> ClusterEntry:
    """Interpret a cluster entry.

    :param entry: the selected cluster.
    :param files: file snapshots, for ``certificate-authority``.
    :param need_server: whether the entry must name a server (``False`` when ``api_server`` overrides it).
    :param need_ca: whether to load its CA (``False`` when ``ca_bundle`` overrides it).
    :return: the interpreted entry.
    :raises ConnectionConfigError: ``CONN_NO_SERVER``, ``CONN_BAD_SERVER_URL``, ``CONN_BAD_BASE64``,
        ``CONN_CA_FILE_MISSING``, ``CONN_RELATIVE_PATH_INLINE``, ``CONN_FILE_UNREADABLE``, ``CONN_BAD_PROXY_URL``.
    """
    body, where = entry.body, describe_origins([entry.origin])
    label = f"cluster {entry.name!r}"
    server = _text(body, "server", label, where)
    if server is None and need_server:
        raise config_error(
            codes.CONN_NO_SERVER,
            f"The {label} in {where} has no server.",
            "Add server: https://<host>:<port> to the cluster entry, or set api_server in the connection.",
            evidence={"cluster": entry.name},
        )
    ca_pem, ca_source = None, "system trust store"
    if need_ca and body.get("certificate-authority-data"):
        ca_source = f"certificate-authority-data of {label}"
        ca_pem = decode_data_field(
            body["certificate-authority-data"], field="certificate-authority-data", entry=label, where=where
        )
    elif need_ca and (ca_path := _text(body, "certificate-authority", label, where)):
        path = resolve_path(ca_path, entry=entry, field="certificate-authority")
        ca_pem = read_file(files, path, missing_code=codes.CONN_CA_FILE_MISSING, what=f"CA of {label}")
        ca_source = f"file {path!r}"
    proxy = _text(body, "proxy-url", label, where)
    return ClusterEntry(
        name=entry.name,
        server=validate_server_url(server, f"the {label} in {where}") if server else None,
        ca_pem=ca_pem,
        ca_source=ca_source,
        insecure=_flag(body.get("insecure-skip-tls-verify"), "insecure-skip-tls-verify", label, where),
        tls_server_name=_text(body, "tls-server-name", label, where),
        proxy_url=validate_proxy_url(proxy, f"the {label} in {where}") if proxy else None,
    )


def read_user(
    entry: NamedEntry | None, *, context: str, files: FileView, allow_exec: bool
) -> tuple[Credential, list[Finding]]:
    """Identify and load the credential of a user entry.

    :param entry: the selected user, or ``None`` when the context names none.
    :param context: the context name, for messages.
    :param files: file snapshots, for ``tokenFile`` and client certificate/key paths.
    :param allow_exec: whether an exec plugin may be used from an inline kubeconfig.
    :return: the credential and WARN findings (anonymous, several credentials, legacy auth).
    :raises ConnectionConfigError: when the credential is unusable or an exec plugin is refused.
    """
    if entry is None:
        cause = f"The context {context!r} names no user, so requests will be anonymous (system:anonymous)."
        return NoCredential(), [finding(codes.CONN_NO_CREDENTIALS, cause, "Add a user with credentials.")]
    body, where = entry.body, describe_origins([entry.origin])
    label = f"user {entry.name!r} in {where}"
    kinds = [kind for kind in _HEADER_KINDS if body.get(kind) not in (None, "", {})]
    has_cert = any(body.get(key) for key in _CERT_KEYS)
    findings: list[Finding] = []
    if not kinds and not has_cert:
        cause = f"The {label} has no credentials, so requests will be anonymous (system:anonymous)."
        fix = "Add a token, tokenFile, client certificate or exec plugin to the user."
        return NoCredential(), [finding(codes.CONN_NO_CREDENTIALS, cause, fix)]
    ignored = kinds[1:] + (["client-certificate"] if has_cert and kinds else [])
    if ignored:
        cause = f"The {label} configures {kinds[0]} and also {', '.join(ignored)}; only {kinds[0]} is used."
        fix = "Remove the credentials that are not meant to be used."
        findings.append(finding(codes.CONN_MULTIPLE_CREDENTIALS, cause, fix))
    kind = kinds[0] if kinds else "client-certificate"
    credential = _LOADERS[kind](entry, label=label, files=files, allow_exec=allow_exec, findings=findings)
    return credential, findings


def resolve_path(path: str, *, entry: NamedEntry, field: str) -> str:
    """Resolve a kubeconfig file reference against the directory of the kubeconfig that defined the entry.

    :param path: the path as written.
    :param entry: the entry holding it.
    :param field: the field name, for messages.
    :return: an absolute (or cwd-relative, when the kubeconfig path was) normalised path.
    :raises ConnectionConfigError: ``CONN_RELATIVE_PATH_INLINE`` for a relative path in an inline kubeconfig.
    """
    if posixpath.isabs(path):
        return posixpath.normpath(path)
    if entry.origin == INLINE:
        raise config_error(
            codes.CONN_RELATIVE_PATH_INLINE,
            f"The field {field} of {entry.name!r} in the inline kubeconfig is the relative path {path!r}, "
            "which has no directory to be relative to.",
            f"Embed the content with {field}-data (base64 of the file), or use an absolute path mounted on workers.",
            evidence={"field": field, "path": path},
        )
    return posixpath.normpath(posixpath.join(posixpath.dirname(entry.origin), path))


def read_file(files: FileView, path: str, *, missing_code: str, what: str) -> bytes:
    """Return the content of a referenced file, or fail naming the path.

    :param files: file snapshots.
    :param path: the resolved path.
    :param missing_code: the code when it does not exist.
    :param what: what the file is, e.g. ``CA of cluster 'prod'``.
    :return: the bytes.
    :raises ConnectionConfigError: ``missing_code`` or ``CONN_FILE_UNREADABLE``.
    """
    (state,) = files.require(path)
    if state.kind == "missing":
        raise config_error(
            missing_code,
            f"The file {path!r} ({what}) does not exist.",
            "Mount the file on every worker, or embed its content in the kubeconfig's *-data field.",
            evidence={"path": path},
        )
    if state.kind != "file" or state.content is None:
        reason = (
            "is a directory" if state.kind == "directory" else f"cannot be read ({state.error or 'unknown'})"
        )
        raise config_error(
            codes.CONN_FILE_UNREADABLE,
            f"The file {path!r} ({what}) {reason}.",
            "Point at a readable file; for mounted Secrets check the volume's defaultMode and the pod's fsGroup.",
            evidence={"path": path},
        )
    return state.content


def _auth_provider(entry: NamedEntry, *, label: str, findings: list[Finding], **_: Any) -> Credential:
    provider = entry.body.get("auth-provider")
    name = provider.get("name") if isinstance(provider, Mapping) else None
    config = provider.get("config") if isinstance(provider, Mapping) else None
    if not isinstance(name, str) or not name:
        raise _malformed(f"The auth-provider of {label} has no name")
    if name not in {"oidc", "gcp"}:
        raise config_error(
            codes.CONN_AUTH_PROVIDER_UNSUPPORTED,
            f"The auth-provider {name!r} of {label} is not supported; the Kubernetes Python client ignores it and "
            "sends anonymous requests.",
            "Migrate to an exec plugin (for Azure: kubelogin convert-kubeconfig -l azurecli).",
            evidence={"auth_provider": name},
        )
    if name == "gcp":
        cause = f"The {label} uses the legacy gcp auth-provider, removed from kubectl 1.26."
        fix = "Migrate to the gke-gcloud-auth-plugin exec plugin (gcloud container clusters get-credentials)."
        findings.append(finding(codes.CONN_AUTH_PROVIDER_UNSUPPORTED, cause, fix, status=Status.WARN))
    return AuthProviderCredential(name=name, config=dict(config) if isinstance(config, Mapping) else {})


def _token(entry: NamedEntry, *, label: str, **_: Any) -> Credential:
    token = entry.body.get("token")
    if not isinstance(token, str) or not token.strip():
        raise _malformed(f"The token of {label} is not a text value")
    return TokenCredential(token=token.strip(), origin="kubeconfig_token")


def _token_file(entry: NamedEntry, *, label: str, files: FileView, **_: Any) -> Credential:
    raw = _text(entry.body, "tokenFile", label, "")
    path = resolve_path(raw or "", entry=entry, field="tokenFile")
    data = read_file(files, path, missing_code=codes.CONN_TOKEN_FILE_MISSING, what=f"tokenFile of {label}")
    token = data.decode("utf-8", "replace").strip()
    if not token:
        raise config_error(
            codes.CONN_TOKEN_FILE_EMPTY,
            f"The tokenFile {path!r} of {label} is empty.",
            "Check whatever writes the token file (a sidecar, a projected volume) is running.",
            evidence={"path": path},
        )
    return TokenCredential(token=token, origin="kubeconfig_token_file", token_file=path)


def _exec(entry: NamedEntry, *, label: str, allow_exec: bool, **_: Any) -> Credential:
    body = entry.body.get("exec")
    command = body.get("command") if isinstance(body, Mapping) else None
    if entry.origin == INLINE and not allow_exec:
        raise config_error(
            codes.CONN_EXEC_PLUGIN_NOT_ALLOWED,
            f"The {label} uses the exec plugin {command!r}, which would run a command on the worker, and "
            "allow_exec_plugins is not enabled for this connection.",
            "Anyone who can edit the connection could run commands on workers: mount the kubeconfig as a file "
            "(auth_mode kubeconfig_file), or set allow_exec_plugins=true if connection editors are trusted.",
            evidence={"command": str(command)},
        )
    if not isinstance(body, Mapping) or not isinstance(command, str) or not command.strip():
        raise _bad_exec(
            f"The exec section of {label} has no command", "Set exec.command to the plugin binary."
        )
    return ExecCredential(spec=_exec_spec(entry, body, command.strip(), label))


def _exec_spec(entry: NamedEntry, body: Mapping[str, Any], command: str, label: str) -> ExecSpec:
    version = body.get("apiVersion")
    supported = ", ".join(SUPPORTED_EXEC_API_VERSIONS)
    if version not in SUPPORTED_EXEC_API_VERSIONS:
        state = (
            "has no apiVersion" if not version else f"has apiVersion {str(version)!r}, which is not supported"
        )
        raise _bad_exec(
            f"The exec plugin of {label} {state}", f"Use one of {supported} (v1alpha1 was removed)."
        )
    mode = body.get("interactiveMode") or "IfAvailable"
    if mode not in _INTERACTIVE_MODES or mode == "Always":
        raise _bad_exec(
            f"The exec plugin of {label} has interactiveMode {str(mode)!r}, but Airflow tasks have no terminal",
            "Set interactiveMode: Never (or IfAvailable) and make the plugin work without a login prompt.",
        )
    args, env = body.get("args") or [], body.get("env") or []
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise _bad_exec(
            f"The exec args of {label} are not a list of strings", "Write args as a list of strings."
        )
    if not isinstance(env, list) or not all(isinstance(item, Mapping) and "name" in item for item in env):
        raise _bad_exec(
            f"The exec env of {label} is not a list of name/value", "Write env as [{name:, value:}]."
        )
    if "/" in command:
        command = resolve_path(command, entry=entry, field="exec.command")
    hint = body.get("installHint")
    return ExecSpec(
        command=command,
        args=tuple(args),
        env=tuple((str(item["name"]), str(item.get("value") or "")) for item in env),
        api_version=str(version),
        install_hint=hint.strip() if isinstance(hint, str) else "",
        provide_cluster_info=body.get("provideClusterInfo") is True,
        interactive_mode=str(mode),
    )


def _basic(entry: NamedEntry, *, label: str, findings: list[Finding], **_: Any) -> Credential:
    username, password = entry.body.get("username"), entry.body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not password:
        raise _malformed(f"The {label} has a username without a text password")
    cause = f"The {label} uses basic authentication, which Kubernetes removed in 1.19."
    findings.append(
        finding(
            codes.CONN_AUTH_PROVIDER_UNSUPPORTED,
            cause,
            "Use a token or client certificate.",
            status=Status.WARN,
        )
    )
    return BasicAuthCredential(username=username, password=password)


def _client_cert(entry: NamedEntry, *, label: str, files: FileView, **_: Any) -> Credential:
    cert = _material(entry, "client-certificate", label, files)
    key = _material(entry, "client-key", label, files)
    if cert is None or key is None:
        missing = "client-key" if key is None else "client-certificate"
        raise config_error(
            codes.CONN_CLIENT_CERT_INCOMPLETE,
            f"The {label} has a client certificate or key but no {missing} (or {missing}-data).",
            "Provide both the certificate and its private key.",
            evidence={"missing": missing},
        )
    return ClientCertCredential(cert_pem=cert, key_pem=key)


def _material(entry: NamedEntry, field: str, label: str, files: FileView) -> bytes | None:
    where = describe_origins([entry.origin])
    data = entry.body.get(f"{field}-data")
    if data:
        return decode_data_field(data, field=f"{field}-data", entry=label.split(" in ")[0], where=where)
    path = _text(entry.body, field, label, where)
    if not path:
        return None
    resolved = resolve_path(path, entry=entry, field=field)
    return read_file(files, resolved, missing_code=codes.CONN_CERT_FILE_MISSING, what=f"{field} of {label}")


def _text(body: Mapping[str, Any], key: str, label: str, where: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _malformed(f"The field {key} of {label}{' in ' + where if where else ''} is not a text value")
    return value.strip() or None


def _flag(value: Any, key: str, label: str, where: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    raise _malformed(f"The field {key} of {label} in {where} is not true or false")


def _malformed(cause: str) -> Exception:
    fix = (
        "Compare with the layout kubectl writes (kubectl config view --minify --flatten) and fix that entry."
    )
    return config_error(codes.CONN_KUBECONFIG_MALFORMED, f"{cause}.", fix)


def _bad_exec(cause: str, fix: str) -> Exception:
    return config_error(codes.CONN_EXEC_BAD_CONFIG, f"{cause}.", fix)


class _Loader(Protocol):
    def __call__(
        self, entry: NamedEntry, *, label: str, files: FileView, allow_exec: bool, findings: list[Finding]
    ) -> Credential: ...


_LOADERS: Mapping[str, _Loader] = {
    "auth-provider": _auth_provider,
    "token": _token,
    "tokenFile": _token_file,
    "exec": _exec,
    "username": _basic,
    "client-certificate": _client_cert,
}
