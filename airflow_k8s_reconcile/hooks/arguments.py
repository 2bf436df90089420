"""The typed inputs of every hook, operator and ``doctor``: hook arguments and the connection they override.

Public: :class:`ConnectionArguments` is what ``K8sReconcileHook(**arguments)`` and the operators accept, and
:class:`ConnectionFields` is what a connection id resolved to. Importing this module costs nothing (no Airflow, no
Kubernetes client), so the command line and DAG files can use it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypedDict


class ConnectionArguments(TypedDict, total=False):
    """Hook and operator arguments; each overrides the connection field of the same name (see ``docs/connection.md``)."""

    auth_mode: str
    kube_config_path: str
    kube_config: str
    cluster_context: str
    namespace: str
    api_server: str
    ca_bundle: str
    verify_ssl: bool
    tls_server_name: str
    proxy_url: str
    request_timeout: float
    service_account_dir: str
    allow_exec_plugins: bool


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectionFields:
    """What the hook found for its connection id: the connection's type and extras (empty when absent).

    :param password: the password field, our type's inline kubeconfig. SECRET.
    :param masked_keys: extra keys this deployment's Airflow hides in its API and UI anyway.
    """

    conn_id: str
    conn_type: str
    extra: Mapping[str, Any]
    found: bool
    password: str | None = dataclasses.field(default=None, repr=False)
    masked_keys: frozenset[str] = frozenset()


__all__ = ["ConnectionArguments", "ConnectionFields"]
