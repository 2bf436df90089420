"""Thin Airflow sensors (poke and deferrable) built on the hooks.

Public API: import sensors from this package, e.g. ``from airflow_k8s_reconcile.sensors import
K8sConfigMapDriftSensor``. Names load on first access (PEP 562) and sensor modules import hooks and the Kubernetes
client inside ``poke``/``execute`` only, as the operators do (``tests/unit/test_import_cost.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_k8s_reconcile._lazy import lazy_exports

if TYPE_CHECKING:
    from airflow_k8s_reconcile.sensors.configmap_drift import K8sConfigMapDriftSensor
    from airflow_k8s_reconcile.sensors.preflight import K8sApiReachableSensor, K8sPermissionSensor

__all__ = ["K8sApiReachableSensor", "K8sConfigMapDriftSensor", "K8sPermissionSensor"]

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(
        __name__,
        {
            "K8sApiReachableSensor": "preflight",
            "K8sConfigMapDriftSensor": "configmap_drift",
            "K8sPermissionSensor": "preflight",
        },
    )
