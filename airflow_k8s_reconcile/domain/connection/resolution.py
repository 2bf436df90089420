"""Connection resolution: from settings, environment and file snapshots to one cluster source, or one clear error.

Decides the credential source (``in_cluster``, a kubeconfig file, an inline kubeconfig, or ``auto``: in-cluster when
the pod environment is complete, else ``$KUBECONFIG``, else ``~/.kube/config``), applies the connection's overrides
(server, CA, TLS, proxy, timeout), picks the namespace (argument > connection > kubeconfig context > service account
> ``default``) and records every source tried and why it was rejected, so nothing is swallowed. Hooks call
:func:`resolve` once with a read port (:mod:`~airflow_k8s_reconcile.domain.connection.files`); each file is read and
parsed at most once. See :mod:`~airflow_k8s_reconcile.domain.connection.explanation` for the report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error, finding
from airflow_k8s_reconcile.domain.common.wording import clause
from airflow_k8s_reconcile.domain.connection.credentials.certificates import inspect_ca_bundle
from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    TokenCredential,
    describe_credential,
)
from airflow_k8s_reconcile.domain.connection.files import FileView
from airflow_k8s_reconcile.domain.connection.incluster import (
    HOST_VAR,
    incluster_server,
    load_incluster,
    read_token,
    service_account_paths,
)
from airflow_k8s_reconcile.domain.connection.kubeconfig.entries import referenced_file_content
from airflow_k8s_reconcile.domain.connection.kubeconfig.locate import (
    expand_home,
    load_kubeconfig,
)
from airflow_k8s_reconcile.domain.connection.network.proxy import ProxyDecision, decide_proxy, is_loopback
from airflow_k8s_reconcile.domain.connection.settings import AuthMode, ConnectionSettings
from airflow_k8s_reconcile.domain.connection.source import ClusterSource, SourceDraft
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.findings import Finding, Status

if TYPE_CHECKING:
    from datetime import datetime

    from airflow_k8s_reconcile.domain.connection.files import FileReader

DEFAULT_NAMESPACE = "default"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """The outcome of :func:`resolve`.

    :param source: the cluster source to connect with.
    :param namespace: the default namespace.
    :param namespace_source: which rule chose it, e.g. ``kubeconfig context 'dev'``.
    :param mode_reason: why this source was used.
    :param attempts: one finding per source tried (rejected ones as INFO, the chosen one as PASS).
    :param warnings: WARN and INFO findings about the chosen source.
    :param credential_summary: secret-free description of the credential (kind, fingerprint, claims, expiry).
    :param sources_tried: short lines, one per source considered.
    :param proxy: the proxy decision behind ``source.proxy_url``, with its origin and reason.
    """

    source: ClusterSource
    namespace: str
    namespace_source: str
    mode_reason: str
    attempts: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    credential_summary: Mapping[str, object] = dataclasses.field(default_factory=lambda: MappingProxyType({}))
    sources_tried: tuple[str, ...] = ()
    proxy: ProxyDecision = dataclasses.field(default_factory=ProxyDecision)


@dataclasses.dataclass(slots=True, kw_only=True)
class _Inputs:
    settings: ConnectionSettings
    environ: Mapping[str, str]
    home: str
    files: FileView
    now: datetime


def resolve(
    settings: ConnectionSettings,
    *,
    environ: Mapping[str, str],
    home: str,
    read: FileReader,
    now: datetime,
) -> Resolution:
    """Resolve the connection into a cluster source in one pass, or raise the decisive finding.

    :param settings: the merged settings.
    :param environ: the process environment.
    :param home: the home directory, for ``~``.
    :param read: the read port; called at most once per path, only for paths this resolution needs.
    :param now: the current UTC time (token and certificate validity).
    :return: the resolution.
    :raises ConnectionConfigError: with the decisive finding and every finding gathered on the way.
    """
    return _resolve(_Inputs(settings=settings, environ=environ, home=home, files=FileView(read), now=now))


def _resolve(inputs: _Inputs) -> Resolution:
    settings = inputs.settings
    mode = settings.auth_mode
    origin = settings.origins.get("auth_mode", "settings")
    if mode is AuthMode.IN_CLUSTER:
        draft = _in_cluster(inputs, reason=f"auth_mode 'in_cluster' set by {origin}")
    elif mode is AuthMode.AUTO:
        draft = _auto(inputs)
    else:
        implied_by = settings.origins.get("auth_mode_implied_by")
        reason = (
            f"{implied_by} is set by {origin} and auth_mode is auto"
            if implied_by
            else f"auth_mode {mode.value!r} set by {origin}"
        )
        draft = load_kubeconfig(
            settings, environ=inputs.environ, home=inputs.home, files=inputs.files, reason=reason
        )
        _shadow_warning(inputs, draft)
    return _finish(inputs, draft)


def _in_cluster(inputs: _Inputs, *, reason: str) -> SourceDraft:
    settings = inputs.settings
    pod = load_incluster(
        environ=inputs.environ,
        directory=settings.service_account_dir,
        files=inputs.files,
        need_ca=settings.ca_bundle is None,
        need_namespace=settings.namespace is None,
    )
    draft = SourceDraft(
        mode=AuthMode.IN_CLUSTER,
        server=pod.server,
        credential=TokenCredential(
            token=pod.token, origin="service_account_token_file", token_file=pod.paths.token
        ),
        credential_owner="the pod's service account",
        ca_pem=pod.ca_pem,
        ca_source=f"service account CA {pod.paths.ca!r}",
        reason=reason,
    )
    if pod.namespace:
        draft.namespace = pod.namespace
        draft.namespace_source = f"service account namespace file {pod.paths.namespace!r}"
    draft.sources_tried.append(f"in-cluster: used ({pod.server}, token {pod.paths.token})")
    draft.attempts.append(finding(codes.CONN_SOURCE_SELECTED, f"In-cluster credentials are used ({reason})."))
    if settings.cluster_context:
        cause = f"The cluster_context {settings.cluster_context!r} is ignored because in-cluster credentials are used."
        fix = "Remove cluster_context, or set auth_mode kubeconfig_file to use a kubeconfig."
        # In auto mode the user most likely expected a kubeconfig: that deserves a warning, not a note.
        status = Status.WARN if settings.auth_mode is AuthMode.AUTO else Status.INFO
        draft.warnings.append(finding(codes.CONN_SETTING_IGNORED, cause, fix, status=status))
    return draft


def _auto(inputs: _Inputs) -> SourceDraft:
    rejected = _incluster_rejection(inputs)
    if rejected is None:
        draft = _in_cluster(
            inputs,
            reason="auto: the in-cluster environment is complete (service variables and token file present)",
        )
        if inputs.environ.get("KUBECONFIG", "").strip():
            cause = (
                "$KUBECONFIG is set but ignored, because auto mode prefers the pod's in-cluster credentials."
            )
            fix = "Set auth_mode kubeconfig_file to use $KUBECONFIG instead."
            draft.warnings.append(finding(codes.CONN_KUBECONFIG_IGNORED, cause, fix))
        return draft
    tried = [f"in-cluster: rejected: {rejected.cause}"]
    try:
        draft = load_kubeconfig(
            dataclasses.replace(inputs.settings, auth_mode=AuthMode.KUBECONFIG_FILE),
            environ=inputs.environ,
            home=inputs.home,
            files=inputs.files,
            reason=f"auto: in-cluster is not available because {clause(rejected.cause)}",
        )
    except ConnectionConfigError as err:
        raise _nothing_found(inputs, rejected, err) from None
    draft.sources_tried[:0] = tried
    draft.attempts.insert(0, dataclasses.replace(rejected, status=Status.INFO))
    return draft


def _incluster_rejection(inputs: _Inputs) -> Finding | None:
    """Return why in-cluster cannot be used, or ``None`` when the environment is complete (variables and token)."""
    try:
        incluster_server(inputs.environ)
        (state,) = inputs.files.require(service_account_paths(inputs.settings.service_account_dir).token)
        if state.kind == "missing":
            read_token(state)  # raises CONN_SA_TOKEN_MISSING with the automount fix
    except ConnectionConfigError as err:
        return err.finding
    return None


def _nothing_found(inputs: _Inputs, rejected: Finding, err: ConnectionConfigError) -> ConnectionConfigError:
    kube = err.finding
    not_found = kube.code == codes.CONN_KUBECONFIG_NOT_FOUND
    in_pod = rejected.code not in {codes.CONN_INCLUSTER_ENV_UNSET}
    fix = kube.fix if not not_found else rejected.fix if in_pod else ""
    fix = fix or (
        "In a pod, mount a service account token; elsewhere set kube_config_path (or $KUBECONFIG), "
        "or set auth_mode explicitly to see only that source's fault."
    )
    cause = (
        f"In-cluster credentials were rejected because {clause(rejected.cause)}, and the kubeconfig failed "
        f"because {clause(kube.cause)}."
    )
    return config_error(codes.CONN_NO_SOURCE_FOUND, cause, fix, findings=(rejected, *err.findings))


def _shadow_warning(inputs: _Inputs, draft: SourceDraft) -> None:
    """Warn when an explicit kubeconfig is used although this pod has its own service account token."""
    if _incluster_rejection(inputs) is not None:
        return
    token = service_account_paths(inputs.settings.service_account_dir).token
    cause = (
        f"The kubeconfig {draft.kubeconfig} is used ({draft.reason}) although this pod's service account token "
        f"{token!r} is available."
    )
    fix = "Nothing to do if that identity is intended; otherwise use auth_mode in_cluster."
    draft.warnings.append(finding(codes.CONN_KUBECONFIG_SHADOWS_INCLUSTER, cause, fix))


def _finish(inputs: _Inputs, draft: SourceDraft) -> Resolution:
    settings = inputs.settings
    ca_pem, ca_source = _ca_override(inputs) or (draft.ca_pem, draft.ca_source)
    server = settings.api_server or draft.server or ""
    warnings = list(draft.warnings)
    verify = settings.verify_ssl and not draft.insecure
    if not verify:
        by = "the kubeconfig's insecure-skip-tls-verify" if draft.insecure else "verify_ssl=false"
        cause = f"TLS verification of {server} is disabled by {by}, so anyone on the path can impersonate the API server."
        fix = "Never recommended: set ca_bundle (or tls_server_name for a name mismatch) and verify instead."
        warnings.append(finding(codes.CONN_TLS_VERIFY_DISABLED, cause, fix))
    host = urlsplit(server).hostname or ""
    if draft.mode is not AuthMode.IN_CLUSTER and HOST_VAR in inputs.environ and is_loopback(host, broad=True):
        cause = f"The API server {server} is a loopback address, but this process runs in a pod where it means the pod."
        fix = "That kubeconfig was written for a workstation (kind, minikube, k3s): use auth_mode in_cluster or set "
        fix += "api_server to an address reachable from the pod."
        warnings.append(finding(codes.CONN_LOOPBACK_SERVER_IN_POD, cause, fix))
    namespace, namespace_source = _namespace(settings, draft)
    summary = _inspect(draft, ca_pem, ca_source, warnings, inputs.now)
    proxy = decide_proxy(
        server,
        connection=(settings.proxy_url, _origin_phrase(settings, "proxy_url")),
        kubeconfig=(draft.proxy_url, draft.proxy_origin),
        environ=inputs.environ,
    )
    source = ClusterSource(
        mode=draft.mode,
        server=server,
        credential=draft.credential,
        ca_pem=ca_pem,
        ca_source=ca_source,
        verify_ssl=verify,
        tls_server_name=settings.tls_server_name or draft.tls_server_name,
        proxy_url=proxy.url,
        request_timeout=settings.request_timeout,
        context=draft.context,
        kubeconfig=draft.kubeconfig,
    )
    return Resolution(
        source=source,
        namespace=namespace,
        namespace_source=namespace_source,
        mode_reason=draft.reason,
        attempts=tuple(draft.attempts),
        warnings=tuple(warnings),
        credential_summary=MappingProxyType(summary),
        sources_tried=tuple(draft.sources_tried),
        proxy=proxy,
    )


def _ca_override(inputs: _Inputs) -> tuple[bytes, str] | None:
    bundle = inputs.settings.ca_bundle
    if bundle is None:
        return None
    origin = inputs.settings.origins.get("ca_bundle", "settings")
    if "-----BEGIN" in bundle:
        return bundle.encode(), f"ca_bundle PEM text ({origin})"
    path = expand_home(bundle, inputs.home)
    data = referenced_file_content(
        inputs.files, path, missing_code=codes.CONN_CA_FILE_MISSING, what=f"ca_bundle ({origin})"
    )
    return data, f"ca_bundle file {path!r} ({origin})"


def _inspect(
    draft: SourceDraft, ca_pem: bytes | None, ca_source: str, warnings: list[Finding], now: datetime
) -> dict[str, object]:
    """Inspect the credential and CA; add WARN findings, raise on the first FAIL."""
    summary, found = describe_credential(draft.credential, owner=draft.credential_owner, now=now)
    if ca_pem is not None:
        ca_summary, ca_found = inspect_ca_bundle(ca_pem, label=f"CA bundle from {ca_source}", now=now)
        found += ca_found
        summary["ca"] = ca_summary
    for item in found:
        if item.status is Status.FAIL:
            raise ConnectionConfigError(item, (*draft.attempts, *draft.warnings, *warnings, item))
        warnings.append(item)
    return summary


def _namespace(settings: ConnectionSettings, draft: SourceDraft) -> tuple[str, str]:
    if settings.namespace:
        return settings.namespace, _origin_phrase(settings, "namespace")
    if draft.namespace:
        return draft.namespace, draft.namespace_source
    return DEFAULT_NAMESPACE, "default"


def _origin_phrase(settings: ConnectionSettings, name: str) -> str:
    origin = settings.origins.get(name, "")
    return f"argument {name!r}" if origin.startswith("argument") else f"connection field {name!r}"


__all__ = [
    "DEFAULT_NAMESPACE",
    "ClusterSource",
    "Resolution",
    "resolve",
]
