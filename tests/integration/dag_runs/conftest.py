"""Fixtures for running the example DAGs with ``airflow dags test`` against the real API server.

One Airflow home is migrated once per session (SQLite) and shared by every run; each run is a subprocess whose
connection comes from ``AIRFLOW_CONN_K8S_RECONCILE_DEFAULT`` (a kubeconfig path) and whose DAG settings come from
the DAGs' ``K8S_RECONCILE_*`` variables.
"""

from __future__ import annotations

import pytest

from airflow_k8s_reconcile.testing.demo import objects
from airflow_k8s_reconcile.testing.demo.airflow_runs import AirflowHome, DagRun


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory):
    home = AirflowHome(tmp_path_factory.mktemp("airflow-home"))
    home.migrate()
    return home


@pytest.fixture(scope="session")
def tenants_crd(k8s_cluster):
    """The demo's Tenant CRD, served for the whole session (tests create their tenants in their namespace)."""
    admin = k8s_cluster.api_client()
    try:
        objects.ensure_crd(admin)
    finally:
        admin.close()
    return f"{objects.PLURAL}.{objects.GROUP}"


@pytest.fixture
def worker(k8s_identity, k8s_namespace):
    """A ServiceAccount with exactly what the example DAGs declare, in the test namespace."""
    return k8s_identity(namespace_rules=objects.namespace_rules([k8s_namespace]))


@pytest.fixture
def dags_test(airflow_home):
    """Return ``run(dag_id, kubeconfig, settings, conf)``: ``airflow dags test`` that must end in success."""

    def run(dag_id, kubeconfig, settings=None, conf=None) -> DagRun:
        done = airflow_home.dags_test(dag_id, kubeconfig=kubeconfig, settings=settings, conf=conf)
        assert done.succeeded, f"airflow dags test {dag_id} exit {done.returncode}:\n{done.tail(80)}"
        return done

    return run
