"""Airflow provider for safe, debuggable Kubernetes work from DAG tasks.

Importing this package is cheap: it imports neither Airflow nor the Kubernetes client. Public entry points live in
their role packages (``hooks``, ``operators``, ``sensors``) and in the ``airflow-k8s-reconcile`` command.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
