"""I/O adapters: the only production code that talks to the Kubernetes API or reads credential files.

Public API for DAG authors (``@task`` functions) and custom operators: import from this package, e.g.
``from airflow_k8s_reconcile.hooks import K8sReconcileHook``. Names load on first access (PEP 562), so importing
this package costs nothing; import a hook inside the task function, not at the top of a DAG file, because a hook
brings in the resolver and the Kubernetes client. Modules starting with ``_`` are internal; a name they define
that public signatures need (``RetryPolicy``, the type of the hooks' ``retry_policy``) is public from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_k8s_reconcile._lazy import lazy_exports

if TYPE_CHECKING:
    from airflow_k8s_reconcile.hooks._transport.retry import RetryPolicy
    from airflow_k8s_reconcile.hooks.arguments import ConnectionArguments, ConnectionFields
    from airflow_k8s_reconcile.hooks.configmaps import K8sConfigMapHook
    from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
    from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook
    from airflow_k8s_reconcile.hooks.resolved import ResolvedConnection, ResolvedSource

__all__ = [
    "AsyncK8sReconcileHook",
    "ConnectionArguments",
    "ConnectionFields",
    "K8sConfigMapHook",
    "K8sReconcileHook",
    "ResolvedConnection",
    "ResolvedSource",
    "RetryPolicy",
]

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "AsyncK8sReconcileHook": "kubernetes_async",
            "ConnectionArguments": "arguments",
            "ConnectionFields": "arguments",
            "K8sConfigMapHook": "configmaps",
            "K8sReconcileHook": "kubernetes",
            "ResolvedConnection": "resolved",
            "ResolvedSource": "resolved",
            "RetryPolicy": "_transport.retry",
        },
    )
