"""Resolve hook arguments plus an Airflow connection into a :class:`Resolution`; shared by the sync and async hooks.

The pure core decides (:mod:`~airflow_k8s_reconcile.domain.connection.settings`,
:mod:`~airflow_k8s_reconcile.domain.connection.resolution`); this module supplies what it needs from outside: the
read port (:func:`~airflow_k8s_reconcile.hooks._resolution.files.read_file`), the environment, the home directory, the clock,
and running an exec credential plugin. Because both hooks call the same function (the async hook in a worker
thread), a deferrable task resolves exactly like its synchronous twin, in one pass.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from airflow_k8s_reconcile.domain.connection.credentials.auth_provider import auth_provider_token
from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    AuthProviderCredential,
    ExecCredential,
    TokenCredential,
)
from airflow_k8s_reconcile.domain.connection.inline_kubeconfig import exposure_findings
from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource, Resolution, resolve
from airflow_k8s_reconcile.domain.connection.settings import merge_settings, settings_from_extra
from airflow_k8s_reconcile.hooks._resolution.exec_plugin import run_exec_plugin
from airflow_k8s_reconcile.hooks._resolution.files import read_file

if TYPE_CHECKING:
    from airflow_k8s_reconcile.hooks.arguments import ConnectionFields

# auth-provider config keys holding secrets: oidc id-token, refresh-token, client-secret; gcp access-token.
_SECRET_KEY = re.compile(r"(?i)token|secret")


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
        connection=settings_from_extra(fields.conn_type, fields.extra, password=fields.password),
    )
    resolution = resolve(settings, environ=env, home=home_dir, read=read_file, now=now or datetime.now(UTC))
    exposed = exposure_findings(fields.conn_type, fields.extra, masked_keys=fields.masked_keys)
    return (
        dataclasses.replace(resolution, warnings=(*exposed, *resolution.warnings)) if exposed else resolution
    )


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
    """Return every secret string a source carries, for Airflow's log masker.

    Airflow masks only what it is told, and the values below reach text we do not control: the client's debug
    logs and tracebacks (proxy URLs), an exec plugin's own stderr (its ``env``), a kubeconfig echoed by a tool
    (auth-provider refresh tokens and client secrets). A proxy password is given raw and percent-encoded, since
    URLs show the encoded form.
    """
    credential = source.credential
    found: list[str] = []
    if isinstance(credential, TokenCredential):
        found.append(credential.token.strip())
        if credential.client_cert is not None:
            found.append(credential.client_cert.key_pem.decode())
    for attr in ("key_pem",):
        value = getattr(credential, attr, None)
        if value:
            found.append(value.decode() if isinstance(value, bytes) else str(value))
    if isinstance(credential, ExecCredential):
        found += [value for _, value in credential.spec.env if value]
    if isinstance(credential, AuthProviderCredential):
        found += [
            value
            for key, value in credential.config.items()
            if isinstance(value, str) and value.strip() and _SECRET_KEY.search(key)
        ]
    if source.proxy_url:
        found += _url_password(source.proxy_url)
    return list(dict.fromkeys(found))


def _url_password(url: str) -> list[str]:
    """Return the password of ``user:password@`` in ``url``, raw and as written (percent-encoded)."""
    authority = url.partition("://")[2].partition("/")[0]
    userinfo = authority.rpartition("@")[0]
    written = userinfo.partition(":")[2]
    return [value for value in dict.fromkeys((unquote(written), written)) if value]
