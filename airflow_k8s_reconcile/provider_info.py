"""Provider metadata for Airflow's provider discovery (entry point group ``apache_airflow_provider``).

WARNING: ``package-name`` must equal the normalised distribution name. A mismatch makes Airflow's provider
discovery raise for every provider, not only this one. This module imports nothing, so discovery stays cheap.
"""

from __future__ import annotations

from typing import Any

from airflow_k8s_reconcile import __version__

PACKAGE_NAME = "airflow-k8s-reconcile"


def get_provider_info() -> dict[str, Any]:
    """Return the provider description Airflow validates against ``provider_info.schema.json``."""
    return {
        "package-name": PACKAGE_NAME,
        "name": "Kubernetes Reconcile",
        "description": (
            "Kubernetes work from DAG tasks that is safe and debuggable: connections that explain themselves, "
            "preflight checks (network, identity, RBAC) and ConfigMap reconciliation."
        ),
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Kubernetes Reconcile",
                "external-doc-url": "https://kubernetes.io/docs/reference/access-authn-authz/rbac/",
                "tags": ["software"],
            }
        ],
    }
