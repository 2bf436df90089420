from __future__ import annotations

import json
import os

import pytest

CM_RULES = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "create"]}]


@pytest.fixture
def reader(k8s_identity):
    """A service account that may get/list/create configmaps in the test namespace."""
    return k8s_identity(rules=CM_RULES)


@pytest.fixture
def nobody(k8s_identity):
    """A service account with no permissions at all."""
    return k8s_identity(rules=[])


@pytest.fixture
def connection(monkeypatch):
    """Define an Airflow connection through its environment variable; return its id."""

    def define(conn_id: str, extra: dict, conn_type: str = "k8s_reconcile") -> str:
        monkeypatch.setenv(
            f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": conn_type, "extra": extra})
        )
        return conn_id

    return define


@pytest.fixture
def pod_env():
    """Return the environment a pod running as an identity would see (plus PATH and a HOME without kubeconfig)."""

    def env(identity) -> dict[str, str]:
        return {**identity.in_cluster.env, "PATH": os.environ.get("PATH", ""), "HOME": "/nonexistent-home"}

    return env
