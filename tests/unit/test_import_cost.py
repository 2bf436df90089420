"""DAG-parse cost: operator, sensor and trigger modules import nothing heavy at module level.

The DAG processor imports every DAG file, and so these modules, over and over. Each one must stay within 50 ms and
10 MiB over ``import airflow.sdk``; that is measured in ``bench/import_cost.py``, not here (no timing in tests).
This test asserts the cause instead: which modules an import adds, in a fresh interpreter, after ``airflow.sdk``.
Some of the forbidden libraries are already imported by ``airflow.sdk`` itself today (``yaml``, parts of
``cryptography``); only what our import *adds* counts, so the rule still holds if Airflow stops importing them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import airflow_k8s_reconcile

ROOT = Path(airflow_k8s_reconcile.__file__).parent
HEAVY = (
    "kubernetes",
    "kubernetes_asyncio",
    "cryptography",
    "yaml",
    "aiohttp",
    "airflow_k8s_reconcile.hooks.kubernetes",
    "airflow_k8s_reconcile.hooks.kubernetes_async",
    "airflow_k8s_reconcile.hooks._",
    "airflow_k8s_reconcile.domain.connection.resolution",
    "airflow_k8s_reconcile.domain.connection.credentials",
    "airflow_k8s_reconcile.domain.connection.kubeconfig",
)

_PROBE = """
import importlib, json, sys
import airflow.sdk
before = set(sys.modules)
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _role_modules() -> list[str]:
    """Every module of ``operators``, ``sensors`` and ``triggers`` (packages included), found on disk."""
    names = []
    for role in ("operators", "sensors", "triggers"):
        for path in sorted((ROOT / role).rglob("*.py")):
            parts = path.relative_to(ROOT.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def added_modules(module: str) -> list[str]:
    """Return the modules importing ``module`` adds after ``import airflow.sdk``, in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", _PROBE, module], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def heavy(modules: list[str]) -> list[str]:
    return [
        m for m in modules if any(m == h or m.startswith(h if h.endswith("_") else h + ".") for h in HEAVY)
    ]


@pytest.mark.parametrize("module", _role_modules())
def test_role_module_imports_nothing_heavy(module):
    added = added_modules(module)
    assert module in added  # the probe really imported it (not already loaded by airflow.sdk)
    assert not heavy(added), (
        f"importing {module} also imports {heavy(added)}; import them inside execute/poke/run"
    )


def test_the_probe_sees_heavy_imports():
    """Seed: the sync hook module does pull in the resolver and certificate parsing; the probe must say so."""
    found = heavy(added_modules("airflow_k8s_reconcile.hooks.kubernetes"))
    assert "airflow_k8s_reconcile.domain.connection.resolution" in found
    assert any(m.startswith("cryptography.") for m in found)
    assert any(m.startswith("airflow_k8s_reconcile.hooks._") for m in found)


def test_every_role_package_and_the_check_operator_are_covered():
    assert {
        "airflow_k8s_reconcile.operators",
        "airflow_k8s_reconcile.operators.connection_check",
        "airflow_k8s_reconcile.sensors",
        "airflow_k8s_reconcile.triggers",
    } <= set(_role_modules())
