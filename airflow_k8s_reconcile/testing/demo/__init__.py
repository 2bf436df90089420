"""``make demo``: the whole provider at work on a real local control plane, driven by the example DAGs.

``python -m airflow_k8s_reconcile.testing.demo [--kubeconfig ADMIN_KUBECONFIG] [--airflow-home DIR] [--keep]``:
starts the local control plane (provisioning its binaries the first time), runs the example DAGs with
``airflow dags test`` as a least-privilege ServiceAccount, tampers with the generated ConfigMaps and shows them
restored. Exit 0 only when every step did what it says. ``KEEP=1`` (or ``--keep``) leaves the cluster and the
Airflow home running for you to try things; ``--kubeconfig`` uses a running cluster instead (the test suite does).
"""

from __future__ import annotations

from airflow_k8s_reconcile.testing.demo.run import main

__all__ = ["main"]
