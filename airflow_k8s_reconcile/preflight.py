"""The public types of the preflight: what a DAG author or an operator passes to ``preflight()``.

:class:`Permission` is what a task needs (``Permission(verbs=("get", "list"), resource="configmaps")``, or
``parse_spec("get,list:configmaps")`` in the ``doctor --require`` syntax), which expands to one
:class:`PermissionCheck` per verb and namespace (a row of the report's ``permissions``); :data:`Checks` names the preflight's modes
(``all``, ``fast``, ``rbac``). They are defined in the pure core (``domain/preflight``), which is not public API;
this module is their stable address. The functions are in :mod:`airflow_k8s_reconcile.hooks.preflight` and on both
hooks (``preflight()``).
"""

from __future__ import annotations

from airflow_k8s_reconcile.domain.preflight.permissions import (
    Permission,
    PermissionCheck,
    PermissionSpecError,
    parse_spec,
)
from airflow_k8s_reconcile.domain.preflight.pipeline import Mode as Checks

__all__ = ["Checks", "Permission", "PermissionCheck", "PermissionSpecError", "parse_spec"]
