"""One catalogue of finding codes, and docs/findings.md documents exactly that catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from airflow_k8s_reconcile.domain.common import catalogue
from airflow_k8s_reconcile.domain.common.catalogue import ALL_CODES, CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
FINDINGS_DOC = ROOT / "docs" / "findings.md"
PACKAGE = ROOT / "airflow_k8s_reconcile"
_CODE = re.compile(r"^[A-Z]+_[A-Z0-9_]+$")


def _constants() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(catalogue).items()
        if _CODE.match(name) and isinstance(value, str) and name != "ALL_CODES"
    }


def test_every_code_constant_is_in_the_catalogue_and_named_after_itself() -> None:
    constants = _constants()
    assert len(constants) > 90, "the catalogue lost its constants"
    assert all(name == value for name, value in constants.items())
    assert set(constants.values()) == set(ALL_CODES)


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_is_documented_in_findings_md(code: str) -> None:
    assert f"### {code}\n" in FINDINGS_DOC.read_text(encoding="utf-8")


def test_findings_md_documents_no_unknown_codes() -> None:
    documented = set(re.findall(r"^### ([A-Z]+_[A-Z0-9_]+)$", FINDINGS_DOC.read_text(encoding="utf-8"), re.M))
    assert documented == set(CATALOGUE)


def test_no_module_defines_its_own_codes() -> None:
    """A code constant outside the catalogue would be a second catalogue, with titles that drift."""
    offenders = []
    for module in PACKAGE.rglob("*.py"):
        if module.name == "catalogue.py":
            continue
        text = module.read_text(encoding="utf-8")
        offenders += [f"{module.name}: {m}" for m in re.findall(r'^([A-Z]+_[A-Z0-9_]+) = "\1"$', text, re.M)]
    assert offenders == []


def test_every_code_the_package_uses_is_catalogued() -> None:
    used: set[str] = set()
    for module in PACKAGE.rglob("*.py"):
        used |= set(re.findall(r"\bcodes\.([A-Z]+_[A-Z0-9_]+)\b", module.read_text(encoding="utf-8")))
    assert "CONN_KUBECONFIG_NOT_FOUND" in used
    assert used <= set(CATALOGUE)
