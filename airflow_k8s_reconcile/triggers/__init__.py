"""Triggers for deferrable operators and sensors; ``serialize()`` lists every constructor argument.

Public API: import triggers from this package, e.g. ``from airflow_k8s_reconcile.triggers import
ConfigMapDriftEventTrigger`` (for an ``AssetWatcher``). Names load on first access (PEP 562). A trigger module
is imported by the DAG processor through the operator that defers to it, so it imports the async hook and the
Kubernetes client inside ``run()`` only (``tests/unit/test_import_cost.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_k8s_reconcile._lazy import lazy_exports

if TYPE_CHECKING:
    from airflow_k8s_reconcile.triggers.configmap_drift import (
        ConfigMapDriftEventTrigger,
        ConfigMapDriftTrigger,
    )
    from airflow_k8s_reconcile.triggers.preflight import K8sPreflightTrigger

__all__ = ["ConfigMapDriftEventTrigger", "ConfigMapDriftTrigger", "K8sPreflightTrigger"]

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "ConfigMapDriftEventTrigger": "configmap_drift",
            "ConfigMapDriftTrigger": "configmap_drift",
            "K8sPreflightTrigger": "preflight",
        },
    )
