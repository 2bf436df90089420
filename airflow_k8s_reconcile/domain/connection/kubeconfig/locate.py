"""Kubeconfig as a credential source: which files (or inline text) to load, and what they resolve to.

Decides which kubeconfig documents apply (the ``kube_config_path`` setting, else every ``$KUBECONFIG`` entry, else
``~/.kube/config``; inline text for ``kubeconfig_inline``), reports missing ``$KUBECONFIG`` entries by name (all
missing is an error naming every entry), and turns the selected context into a draft source for
:mod:`~airflow_k8s_reconcile.domain.connection.resolution`, which applies overrides and checks the credential.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error, finding
from airflow_k8s_reconcile.domain.connection.files import content_of
from airflow_k8s_reconcile.domain.connection.kubeconfig.entries import read_cluster
from airflow_k8s_reconcile.domain.connection.kubeconfig.merge import (
    INLINE,
    describe_origins,
    merge_kubeconfigs,
    parse_kubeconfig,
    select_context,
)
from airflow_k8s_reconcile.domain.connection.kubeconfig.users import read_user
from airflow_k8s_reconcile.domain.connection.setting_parsers import AuthMode
from airflow_k8s_reconcile.domain.connection.source import SourceDraft

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

    from airflow_k8s_reconcile.domain.connection.files import FileState, FileView
    from airflow_k8s_reconcile.domain.connection.settings import ConnectionSettings
    from airflow_k8s_reconcile.findings import Finding

KUBECONFIG_VAR = "KUBECONFIG"
DEFAULT_KUBECONFIG = "~/.kube/config"


def expand_home(path: str, home: str) -> str:
    """Expand a leading ``~`` with ``home`` (``~user`` forms are left alone).

    :param path: the path.
    :param home: the home directory.
    :return: the expanded path.
    """
    if path == "~" or path.startswith("~/"):
        return home.rstrip("/") + path[1:]
    return path


def default_kubeconfig_paths(environ: Mapping[str, str], home: str) -> tuple[tuple[str, ...], str]:
    """Return the kubeconfig files kubectl would load, and how messages name their origin.

    :param environ: the process environment.
    :param home: the home directory.
    :return: ``$KUBECONFIG`` entries (``:``-separated, ``~`` expanded, empty and duplicate entries dropped), or
        ``~/.kube/config`` when ``$KUBECONFIG`` is unset or empty; and ``$KUBECONFIG`` or ``the default location``.
    """
    entries: list[str] = []
    for raw in environ.get(KUBECONFIG_VAR, "").split(":"):
        path = expand_home(raw.strip(), home)
        if path and path not in entries:
            entries.append(path)
    if entries:
        return tuple(entries), f"${KUBECONFIG_VAR}"
    return (expand_home(DEFAULT_KUBECONFIG, home),), f"the default location {DEFAULT_KUBECONFIG}"


def load_kubeconfig(
    settings: ConnectionSettings, *, environ: Mapping[str, str], home: str, files: FileView, reason: str
) -> SourceDraft:
    """Load the kubeconfig the settings select and resolve its context, cluster and user.

    :param settings: the merged settings (``auth_mode`` is ``kubeconfig_file`` or ``kubeconfig_inline``).
    :param environ: the process environment (for ``$KUBECONFIG``).
    :param home: the home directory.
    :param files: file snapshots.
    :param reason: why a kubeconfig is used, for the report.
    :return: the draft source.
    :raises ConnectionConfigError: for the first fault in the kubeconfig.
    """
    warnings: list[Finding] = []
    tried: list[str] = []
    documents = _documents(settings, environ=environ, home=home, files=files, warnings=warnings, tried=tried)
    merged = merge_kubeconfigs(documents)
    selected = select_context(merged, settings.cluster_context)
    cluster = read_cluster(
        selected.cluster,
        files=files,
        need_server=settings.api_server is None,
        need_ca=settings.ca_bundle is None,
    )
    credential, user_findings = read_user(
        selected.user, context=selected.name, files=files, allow_exec=settings.allow_exec_plugins
    )
    label = ":".join(merged.origins)
    user = selected.user
    owner = (
        f"user {user.name!r} in {describe_origins([user.origin])}" if user else f"context {selected.name!r}"
    )
    tried.append(f"kubeconfig {label}: used (context {selected.name!r})")
    selected_cause = f"The kubeconfig {label} is used with context {selected.name!r} ({reason})."
    return SourceDraft(
        mode=AuthMode.KUBECONFIG_INLINE if label == INLINE else AuthMode.KUBECONFIG_FILE,
        server=cluster.server,
        credential=credential,
        credential_owner=owner,
        reason=reason,
        ca_pem=cluster.ca_pem,
        ca_source=cluster.ca_source,
        insecure=cluster.insecure,
        tls_server_name=cluster.tls_server_name,
        proxy_url=cluster.proxy_url,
        proxy_origin=f"proxy-url of cluster {cluster.name!r}",
        context=selected.name,
        kubeconfig=label,
        namespace=selected.namespace,
        namespace_source=f"kubeconfig context {selected.name!r}" if selected.namespace else "",
        attempts=[finding(codes.CONN_SOURCE_SELECTED, selected_cause)],
        warnings=warnings + user_findings,
        sources_tried=tried,
    )


def _documents(
    settings: ConnectionSettings,
    *,
    environ: Mapping[str, str],
    home: str,
    files: FileView,
    warnings: list[Finding],
    tried: list[str],
) -> list[tuple[str, Mapping[str, Any]]]:
    """Return the ``(origin, document)`` pairs the settings select: inline text, one file, or the default files."""
    if settings.auth_mode is AuthMode.KUBECONFIG_INLINE:
        return [(INLINE, parse_kubeconfig(settings.kube_config or "", origin=INLINE))]
    if settings.kube_config_path:
        path = expand_home(settings.kube_config_path, home)
        (state,) = files.require(path)
        return [(path, load_kubeconfig_file(state, role=_field_role(settings, "kube_config_path")))]
    paths, role = default_kubeconfig_paths(environ, home)
    for raw in environ.get(KUBECONFIG_VAR, "").split(":"):
        if raw.strip().startswith("~"):
            # client-go's loader takes $KUBECONFIG entries literally (filepath.SplitList, no home expansion).
            cause = (
                f"The ${KUBECONFIG_VAR} entry {raw.strip()!r} starts with '~', which this provider expands to the "
                f"home directory but kubectl does not (it looks for a directory literally named '~')."
            )
            fix = f"Write the path out, e.g. KUBECONFIG=$HOME/{raw.strip()[2:] or '.kube/config'} (the shell expands it)."
            warnings.append(
                finding(codes.CONN_KUBECTL_DIFFERENCE, cause, fix, evidence={"entry": raw.strip()})
            )
    documents = _load_many(files.require(*paths), role, warnings, tried)
    if role.startswith("$"):
        tried.append(f"{DEFAULT_KUBECONFIG}: not tried, because ${KUBECONFIG_VAR} is set")
    return documents


def load_kubeconfig_file(state: FileState, *, role: str) -> dict[str, Any]:
    """Parse a kubeconfig snapshot, failing with the code that matches what the hook found.

    :param state: the snapshot of the kubeconfig path.
    :param role: what named the path, e.g. ``connection field 'kube_config_path'`` or ``$KUBECONFIG``.
    :return: the parsed document.
    :raises ConnectionConfigError: ``CONN_KUBECONFIG_NOT_FOUND``, ``_IS_DIRECTORY``, ``_UNREADABLE``, or a parse error.
    """
    content = content_of(
        state,
        what="kubeconfig file",
        named_by=role,
        missing=(
            codes.CONN_KUBECONFIG_NOT_FOUND,
            "Fix the path, or mount the file where it runs: the API server's pod (UI Test), the workers (tasks), "
            "the triggerer (deferrable sensors).",
        ),
        directory=(
            codes.CONN_KUBECONFIG_IS_DIRECTORY,
            "Point at the file inside it (a Secret or ConfigMap mounted as a volume is a directory of keys).",
        ),
        unreadable=(
            codes.CONN_KUBECONFIG_UNREADABLE,
            "Give the Airflow user read access (check the volume's defaultMode and the pod's fsGroup).",
        ),
    )
    return parse_kubeconfig(content, origin=state.path)


def _load_many(
    states: Sequence[FileState], role: str, warnings: list[Finding], tried: list[str]
) -> list[tuple[str, Mapping[str, Any]]]:
    """Load several kubeconfig files; missing ones are skipped with a warning, all missing is an error."""
    present = [state for state in states if state.kind != "missing"]
    missing = [state.path for state in states if state.kind == "missing"]
    if not present and len(states) > 1:
        raise config_error(
            codes.CONN_KUBECONFIG_NOT_FOUND,
            f"None of the {len(states)} kubeconfig files named by {role} exist: {', '.join(map(repr, missing))}.",
            f"Fix {role} (entries are separated by ':'), or mount the kubeconfig on every worker.",
            evidence={"paths": ", ".join(missing)},
        )
    if not present:
        load_kubeconfig_file(states[0], role=role)  # raises CONN_KUBECONFIG_NOT_FOUND naming the path
    for path in missing:
        tried.append(f"kubeconfig {path}: missing ({role} entry skipped)")
        cause = f"The kubeconfig file {path!r} named by {role} does not exist, so it is skipped."
        fix = f"Remove it from {role}, or mount it."
        warnings.append(finding(codes.CONN_KUBECONFIG_ENTRY_MISSING, cause, fix, evidence={"path": path}))
    return [(state.path, load_kubeconfig_file(state, role=role)) for state in present]


def _field_role(settings: ConnectionSettings, name: str) -> str:
    origin = settings.origins.get(name, "")
    if origin.startswith("argument"):
        return f"the argument {name!r}"
    if origin == "connection":
        return f"the connection field {name!r}"
    return f"the setting {name!r}"
