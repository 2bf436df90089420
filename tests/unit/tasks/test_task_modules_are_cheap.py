"""DAG files import the preflight operator and sensors at every parse: they must not pull in hooks or clients."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("kubernetes", "kubernetes_asyncio", "yaml", "cryptography", "airflow_k8s_reconcile.hooks")


@pytest.mark.parametrize(
    "module",
    [
        "airflow_k8s_reconcile.operators.preflight",
        "airflow_k8s_reconcile.operators.connection_check",
        "airflow_k8s_reconcile.sensors.preflight",
        "airflow_k8s_reconcile.triggers.preflight",
        "airflow_k8s_reconcile.permissions",
    ],
)
def test_module_imports_no_hook_or_client(module):
    # What a DAG file has loaded anyway (Airflow brings yaml and cryptography's Fernet), then the module.
    probe = (
        "import sys, airflow.sdk, airflow.triggers.base\nbefore = set(sys.modules)\n"
        f"import {module}\nprint(' '.join(sorted(set(sys.modules) - before)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [name for name in loaded if name.startswith(HEAVY)] == []
