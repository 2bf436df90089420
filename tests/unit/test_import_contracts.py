"""The import-linter contract that keeps ``cli`` and ``testing`` off private hook modules lists every one of them.

Private hook code is a ``_*.py`` module or a ``_*/`` package in ``hooks/``; the contract names each.

import-linter's wildcards cannot match "modules whose name starts with an underscore", so the contract names them;
this test fails when a new private hook module is added without being named there.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_private_hook_modules_contract_names_every_private_hook_module():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if "never the private ones" in c["name"]]
    hooks = ROOT / "airflow_k8s_reconcile" / "hooks"
    private = {
        f"airflow_k8s_reconcile.hooks.{path.stem}"
        for path in hooks.glob("_*.py")
        if path.name != "__init__.py"
    } | {
        f"airflow_k8s_reconcile.hooks.{path.name}"
        for path in hooks.glob("_*/")
        if (path / "__init__.py").exists()
    }
    assert len(private) >= 5
    assert set(contract["forbidden_modules"]) == private
    assert set(contract["source_modules"]) == {"airflow_k8s_reconcile.cli", "airflow_k8s_reconcile.testing"}
