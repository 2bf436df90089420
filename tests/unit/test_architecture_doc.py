"""docs/architecture.md matches the code: every file and folder it names exists, and every folder is named."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "airflow_k8s_reconcile"
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def _package_dirs() -> set[str]:
    return {
        path.name
        for path in PACKAGE.rglob("*")
        if path.is_dir() and (path / "__init__.py").exists() and path != PACKAGE
    }


def test_every_module_the_doc_names_exists() -> None:
    named = {name for name in re.findall(r"\b([a-z_]+\.py)\b", DOC)}
    assert "resolution.py" in named
    files = {path.name for path in PACKAGE.rglob("*.py")} | {p.name for p in ROOT.glob("tests/unit/*.py")}
    files |= {p.name for p in ROOT.glob("bench/*.py")}
    assert sorted(named - files) == []


def test_every_package_folder_is_named_in_the_doc() -> None:
    named = set(re.findall(r"\b([a-z_]+)/", DOC))
    assert sorted(_package_dirs() - named) == []


def test_every_folder_the_doc_names_exists_in_the_package_or_the_repository() -> None:
    named = set(re.findall(r"(?<![\w.])([a-z_]+)/(?=[\s`)<,:]|$)", DOC, re.MULTILINE))
    existing = _package_dirs() | {p.name for p in ROOT.iterdir() if p.is_dir()} | {"preflight", "reconcile"}
    existing |= {p.name for p in (ROOT / "tests").iterdir() if p.is_dir()}
    assert sorted(named - existing - {"capability"}) == []
