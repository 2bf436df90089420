"""Airflow provider for safe, debuggable Kubernetes work from DAG tasks.

Importing this package is cheap: it imports neither Airflow nor the Kubernetes client. Public entry points live in
their role packages (``hooks``, ``operators``, ``sensors``, ``triggers``), in :mod:`~airflow_k8s_reconcile.findings`
(``Finding``, ``Status``, ``Report``; also importable from here, loaded on first access) and
:mod:`~airflow_k8s_reconcile.exceptions`, and in the ``airflow-k8s-reconcile`` command. ``domain`` and every module
starting with ``_`` are internal. The README's "Public API" table lists each public module's names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_k8s_reconcile._lazy import lazy_exports

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding, Report, Status

__version__ = "0.1.0"

__all__ = ["Finding", "Report", "Status", "__version__"]

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(
        __name__, {"Finding": "findings", "Report": "findings", "Status": "findings"}
    )
