"""Resolve hook arguments plus an Airflow connection into a :class:`Resolution`; shared by the sync and async hooks.

The pure core decides (:mod:`~airflow_k8s_reconcile.domain.connection.settings`,
:mod:`~airflow_k8s_reconcile.domain.connection.resolution`); this module only performs the I/O it asks for: reading the files
named by ``plan_reads``, the environment, the clock, and running an exec credential plugin. Because both hooks
call the same function, a deferrable task resolves exactly like its synchronous twin.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.connection.credentials.auth_provider import auth_provider_token
from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    AuthProviderCredential,
    ExecCredential,
    TokenCredential,
)
from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource, Resolution, plan_reads, resolve
from airflow_k8s_reconcile.domain.connection.settings import merge_settings, settings_from_extra
from airflow_k8s_reconcile.hooks._exec import run_exec_plugin
from airflow_k8s_reconcile.hooks._files import read_files

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.files import FileState
    from airflow_k8s_reconcile.hooks.arguments import ConnectionFields

# plan_reads asks at most for: kubeconfig files, then the files they reference; a few rounds always suffice.
_MAX_READ_ROUNDS = 6


def resolve_connection(
    arguments: Mapping[str, Any],
    fields: ConnectionFields,
    *,
    environ: Mapping[str, str] | None = None,
    home: str | None = None,
    now: datetime | None = None,
) -> Resolution:
    """Merge arguments and connection fields, read what the resolver needs, and resolve.

    :raises ConnectionConfigError: with the finding that names the cause and the fix.
    """
    env = dict(os.environ if environ is None else environ)
    home_dir = home or env.get("HOME") or str(Path.home())
    settings = merge_settings(
        arguments={k: v for k, v in arguments.items() if v is not None},
        connection=settings_from_extra(fields.conn_type, fields.extra),
    )
    files: dict[str, FileState] = {}
    for _ in range(_MAX_READ_ROUNDS):
        needed = plan_reads(settings, environ=env, home=home_dir, files=files)
        if not needed:
            break
        files.update(read_files(needed))
    return resolve(settings, environ=env, home=home_dir, files=files, now=now or datetime.now(UTC))


def materialize(source: ClusterSource, *, environ: Mapping[str, str] | None = None) -> ClusterSource:
    """Return ``source`` with an exec plugin or auth-provider credential replaced by the token it yields.

    :raises ConnectionConfigError: the plugin failed, or the auth-provider holds no valid token.
    """
    if isinstance(source.credential, AuthProviderCredential):
        owner = (
            f"the kubeconfig user of context {source.context!r}" if source.context else "the kubeconfig user"
        )
        token = auth_provider_token(source.credential, label=owner, now=datetime.now(UTC))
        return dataclasses.replace(source, credential=token)
    if not isinstance(source.credential, ExecCredential):
        return source
    credential = run_exec_plugin(
        source.credential.spec,
        server=source.server,
        ca_pem=source.ca_pem,
        tls_server_name=source.tls_server_name,
        insecure=not source.verify_ssl,
        environ=environ,
    )
    return dataclasses.replace(source, credential=credential)


def secrets_of(source: ClusterSource) -> list[str]:
    """Return the secret strings of a source, for Airflow's log masker."""
    credential = source.credential
    found: list[str] = []
    if isinstance(credential, TokenCredential):
        found.append(credential.token.strip())
    for attr in ("key_pem", "password"):
        value = getattr(credential, attr, None)
        if value:
            found.append(value.decode() if isinstance(value, bytes) else str(value))
    return found
