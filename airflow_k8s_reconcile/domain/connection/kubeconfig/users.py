"""Interpretation of a selected kubeconfig user: which credentials are sent, combined the way kubectl combines them.

client-go (``rest.Config`` -> ``transport.HTTPWrappersForConfig``) keeps the TLS client certificate and the
``Authorization`` header apart, so a user may send both, and picks the header like this:

- ``token`` and ``tokenFile`` are one bearer token; the file wins whenever it can be read and is not empty
  (``NewBearerAuthWithRefreshRoundTripper`` re-reads it per request), the static ``token`` is the fallback;
- the bearer round tripper is the outer wrapper, so a token beats an ``exec`` plugin or ``auth-provider`` (their
  round trippers leave an existing ``Authorization`` header alone);
- an ``exec`` plugin is not used at all when a token or client certificate is configured
  (``exec.Authenticator.UpdateTransportConfig`` returns early), and ``exec`` with ``auth-provider`` is refused;
- ``username``/``password`` would be sent as basic auth, which Kubernetes removed in 1.19: refused here.

A client certificate is sent next to a bearer token (the API server tries the certificate first). Exec plugins in an
inline kubeconfig are refused unless the connection allows them. Called by
:mod:`~airflow_k8s_reconcile.domain.connection.kubeconfig.locate`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error, finding
from airflow_k8s_reconcile.domain.connection.credentials.exec_plugin import SUPPORTED_EXEC_API_VERSIONS
from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    AuthProviderCredential,
    ClientCertCredential,
    Credential,
    ExecCredential,
    ExecSpec,
    NoCredential,
    TokenCredential,
)
from airflow_k8s_reconcile.domain.connection.kubeconfig.entries import (
    referenced_file_content,
    resolve_path,
    text_field,
)
from airflow_k8s_reconcile.domain.connection.kubeconfig.merge import (
    INLINE,
    NamedEntry,
    decode_data_field,
    describe_origins,
)
from airflow_k8s_reconcile.domain.connection.kubeconfig.parse import malformed
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.findings import Status

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.files import FileView
    from airflow_k8s_reconcile.findings import Finding

_CERT_KEYS = ("client-certificate", "client-certificate-data", "client-key", "client-key-data")
_INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
_EXEC_V1 = "client.authentication.k8s.io/v1"


def read_user(
    entry: NamedEntry | None, *, context: str, files: FileView, allow_exec: bool
) -> tuple[Credential, list[Finding]]:
    """Identify and load the credentials of a user entry, as kubectl would send them.

    :param entry: the selected user, or ``None`` when the context names none.
    :param context: the context name, for messages.
    :param files: file snapshots, for ``tokenFile`` and client certificate/key paths.
    :param allow_exec: whether an exec plugin may be used from an inline kubeconfig.
    :return: the credential (a token may carry a client certificate) and WARN findings (anonymous, credentials
        that are not used, legacy auth, differences from kubectl).
    :raises ConnectionConfigError: when the credential is unusable, basic auth, or an exec plugin is refused.
    """
    if entry is None:
        cause = f"The context {context!r} names no user, so requests will be anonymous (system:anonymous)."
        return NoCredential(), [finding(codes.CONN_NO_CREDENTIALS, cause, "Add a user with credentials.")]
    body = entry.body
    label = f"user {entry.name!r} in {describe_origins([entry.origin])}"
    present = [key for key in ("token", "tokenFile", "auth-provider", "exec") if _set(body.get(key))]
    has_cert = any(_set(body.get(key)) for key in _CERT_KEYS)
    if _set(body.get("username")) or _set(body.get("password")):
        raise config_error(
            codes.CONN_BASIC_AUTH_REMOVED,
            f"The {label} sets username/password (basic authentication), which Kubernetes removed in 1.19; the "
            "API server rejects it.",
            "Replace username/password with a token (kubectl create token <service account>), a tokenFile, a "
            "client certificate or an exec plugin.",
            evidence={"user": entry.name},
        )
    if not present and not has_cert:
        cause = f"The {label} has no credentials, so requests will be anonymous (system:anonymous)."
        fix = "Add a token, tokenFile, client certificate or exec plugin to the user."
        return NoCredential(), [finding(codes.CONN_NO_CREDENTIALS, cause, fix)]
    findings: list[Finding] = []
    if "auth-provider" in present and "exec" in present:
        raise config_error(
            codes.CONN_MULTIPLE_CREDENTIALS,
            f"The {label} configures both exec and auth-provider, which kubectl refuses (execProvider and "
            "authProvider cannot be used in combination).",
            "Keep one of them (the exec plugin: auth-providers are legacy).",
            evidence={"user": entry.name},
        )
    cert = _client_cert(entry, label=label, files=files) if has_cert else None
    if "token" in present or "tokenFile" in present:
        _unused(findings, label, [key for key in present if key in ("auth-provider", "exec")], "the token")
        return dataclasses.replace(_bearer(entry, label, files, findings), client_cert=cert), findings
    if "auth-provider" in present:
        if cert is not None:
            _unused(findings, label, ["client-certificate"], "the auth-provider")
        return _auth_provider(entry, label=label, findings=findings), findings
    if cert is not None:
        _unused(findings, label, [key for key in present if key == "exec"], "the client certificate")
        return cert, findings
    return _exec(entry, label=label, allow_exec=allow_exec, findings=findings), findings


def _set(value: Any) -> bool:
    return value not in (None, "", {})


def _unused(findings: list[Finding], label: str, ignored: list[str], used: str) -> None:
    if ignored:
        cause = (
            f"The {label} configures {' and '.join(ignored)} as well, but {used} is used, as kubectl does."
        )
        fix = "Remove the credentials that are not meant to be used."
        findings.append(finding(codes.CONN_MULTIPLE_CREDENTIALS, cause, fix))


def _bearer(entry: NamedEntry, label: str, files: FileView, findings: list[Finding]) -> TokenCredential:
    """Return the bearer token: ``tokenFile`` when it can be read, else the static ``token`` (client-go order)."""
    static = entry.body.get("token")
    if _set(static) and (not isinstance(static, str) or not static.strip()):
        raise malformed(f"The token of {label} is not a text value")
    if not _set(entry.body.get("tokenFile")):
        return TokenCredential(token=str(static).strip(), origin="kubeconfig_token")
    try:
        return _token_file(entry, label=label, files=files)
    except ConnectionConfigError as err:
        if not _set(static):
            raise
        problem = err.finding
    cause = f"{problem.cause[:-1]}; the static token of the {label} is used instead, as kubectl does."
    findings.append(dataclasses.replace(problem, status=Status.WARN, cause=cause))
    return TokenCredential(token=str(static).strip(), origin="kubeconfig_token")


def _token_file(entry: NamedEntry, *, label: str, files: FileView) -> TokenCredential:
    raw = text_field(entry.body, "tokenFile", label, "")
    path = resolve_path(raw or "", entry=entry, field="tokenFile")
    data = referenced_file_content(
        files, path, missing_code=codes.CONN_TOKEN_FILE_MISSING, what=f"tokenFile of {label}"
    )
    token = data.decode("utf-8", "replace").strip()
    if not token:
        raise config_error(
            codes.CONN_TOKEN_FILE_EMPTY,
            f"The tokenFile {path!r} of {label} is empty.",
            "Check whatever writes the token file (a sidecar, a projected volume) is running.",
            evidence={"path": path},
        )
    return TokenCredential(token=token, origin="kubeconfig_token_file", token_file=path)


def _auth_provider(entry: NamedEntry, *, label: str, findings: list[Finding]) -> Credential:
    provider = entry.body.get("auth-provider")
    name = provider.get("name") if isinstance(provider, Mapping) else None
    config = provider.get("config") if isinstance(provider, Mapping) else None
    if not isinstance(name, str) or not name:
        raise malformed(f"The auth-provider of {label} has no name")
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


def _exec(entry: NamedEntry, *, label: str, allow_exec: bool, findings: list[Finding]) -> Credential:
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
    return ExecCredential(spec=_exec_spec(entry, body, command.strip(), label, findings))


def _exec_spec(
    entry: NamedEntry, body: Mapping[str, Any], command: str, label: str, findings: list[Finding]
) -> ExecSpec:
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
    if version == _EXEC_V1 and not body.get("interactiveMode"):
        # client-go's exec.ValidateAuthInfo: "interactiveMode must be specified for ... to use exec
        # authentication plugin" (required since v1); tasks are never interactive, so this provider runs it.
        cause = (
            f"The exec plugin of {label} uses {_EXEC_V1} without interactiveMode, which kubectl refuses "
            "(interactiveMode is required in v1); this provider runs it non-interactively anyway."
        )
        fix = "Add interactiveMode: Never (or IfAvailable) to the exec section, so kubectl accepts it too."
        findings.append(finding(codes.CONN_KUBECTL_DIFFERENCE, cause, fix, evidence={"user": entry.name}))
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


def _client_cert(entry: NamedEntry, *, label: str, files: FileView) -> ClientCertCredential:
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
    path = text_field(entry.body, field, label, where)
    if not path:
        return None
    resolved = resolve_path(path, entry=entry, field=field)
    return referenced_file_content(
        files, resolved, missing_code=codes.CONN_CERT_FILE_MISSING, what=f"{field} of {label}"
    )


def _bad_exec(cause: str, fix: str) -> Exception:
    return config_error(codes.CONN_EXEC_BAD_CONFIG, f"{cause}.", fix)
