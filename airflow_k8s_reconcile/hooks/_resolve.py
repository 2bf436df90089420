"""Resolve hook arguments plus an Airflow connection into a :class:`Resolution`; shared by the sync and async hooks.

The pure core decides (:mod:`~airflow_k8s_reconcile.domain.connection.settings`,
:mod:`~airflow_k8s_reconcile.domain.connection.resolution`); this module supplies what it needs from outside: the
read port (:func:`~airflow_k8s_reconcile.hooks._files.read_file`), the environment, the home directory, the clock,
and running an exec credential plugin. Because both hooks call the same function (the async hook in a worker
thread), a deferrable task resolves exactly like its synchronous twin, in one pass.
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
from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource, Resolution, resolve
from airflow_k8s_reconcile.domain.connection.settings import merge_settings, settings_from_extra
from airflow_k8s_reconcile.hooks._exec import run_exec_plugin
from airflow_k8s_reconcile.hooks._files import read_file

if TYPE_CHECKING:
    from airflow_k8s_reconcile.hooks.arguments import ConnectionFields


def resolve_connection(
    arguments: Mapping[str, Any],
    fields: ConnectionFields,
    *,
    environ: Mapping[str, str] | None = None,
    home: str | None = None,
    now: datetime | None = None,
) -> Resolution:
    """Merge arguments and connection fields and resolve, reading each file the resolver asks for once.

    Blocking (file reads): the async hook calls it in a worker thread.

    :raises ConnectionConfigError: with the finding that names the cause and the fix.
    """
    env = dict(os.environ if environ is None else environ)
    home_dir = home or env.get("HOME") or str(Path.home())
    settings = merge_settings(
        arguments={k: v for k, v in arguments.items() if v is not None},
        connection=settings_from_extra(fields.conn_type, fields.extra),
    )
    return resolve(settings, environ=env, home=home_dir, read=read_file, now=now or datetime.now(UTC))


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
