"""Thin Airflow operators: validate rendered arguments, read through hooks, decide in ``domain``, write through hooks.

Public API: import operators from this package, e.g. ``from airflow_k8s_reconcile.operators import
K8sConnectionCheckOperator``. Names load on first access (PEP 562), so a DAG file pays only for the operators it
uses. Every operator module imports its hooks, the Kubernetes client and other heavy libraries inside ``execute``,
never at module level: the DAG processor imports DAG files (and so these modules) over and over
(``tests/unit/test_import_cost.py`` holds each module to that).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_k8s_reconcile._lazy import lazy_exports

if TYPE_CHECKING:
    from airflow_k8s_reconcile.operators.connection_check import K8sConnectionCheckOperator
    from airflow_k8s_reconcile.operators.generate import K8sGenerateConfigMapsOperator
    from airflow_k8s_reconcile.operators.preflight import K8sPreflightOperator
    from airflow_k8s_reconcile.operators.reconcile import K8sReconcileConfigMapsOperator

__all__ = [
    "K8sConnectionCheckOperator",
    "K8sGenerateConfigMapsOperator",
    "K8sPreflightOperator",
    "K8sReconcileConfigMapsOperator",
]

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "K8sConnectionCheckOperator": "connection_check",
            "K8sGenerateConfigMapsOperator": "generate",
            "K8sPreflightOperator": "preflight",
            "K8sReconcileConfigMapsOperator": "reconcile",
        },
    )
