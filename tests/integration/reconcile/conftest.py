"""Fixtures for reconcile tests: a ConfigMap hook on the admin kubeconfig, the core API, the server's request counts."""

from __future__ import annotations

from collections import Counter

import pytest
from kubernetes import client as k8s
from reconcile_it import hook_for

from airflow_k8s_reconcile.testing.metrics import request_counts


@pytest.fixture
def hook(k8s_cluster):
    made = hook_for(k8s_cluster.kubeconfig_path)
    yield made
    made.close()


@pytest.fixture
def core(k8s_admin):
    return k8s.CoreV1Api(k8s_admin)


@pytest.fixture
def api_counts(k8s_admin):
    """Return a function giving the API server's own request counts ``(verb, resource)`` since the fixture started."""
    before = request_counts(k8s_admin)

    def since() -> Counter:
        return request_counts(k8s_admin) - before

    return since
