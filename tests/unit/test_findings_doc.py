from __future__ import annotations

import re
from pathlib import Path

import pytest

from airflow_k8s_reconcile.domain import finding_codes
from airflow_k8s_reconcile.domain.finding_codes import ALL_CODES, CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
FINDINGS_DOC = ROOT / "docs" / "findings.md"
DOMAIN = ROOT / "airflow_k8s_reconcile" / "domain"


def _constants() -> dict[str, str]:
    return {name: value for name, value in vars(finding_codes).items() if name.startswith("CONN_")}


def test_every_code_constant_is_in_the_catalogue_and_named_after_itself() -> None:
    constants = _constants()
    assert constants, "no CONN_* constants found"
    assert all(name == value for name, value in constants.items())
    assert set(constants.values()) == set(ALL_CODES)


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_code_is_documented_in_findings_md(code: str) -> None:
    assert f"### {code}\n" in FINDINGS_DOC.read_text(encoding="utf-8")


def test_findings_md_documents_no_unknown_connection_codes() -> None:
    documented = set(
        re.findall(r"^### (CONN_[A-Z0-9_]+)$", FINDINGS_DOC.read_text(encoding="utf-8"), re.MULTILINE)
    )
    assert documented == set(CATALOGUE)


def test_every_code_used_by_the_connection_modules_is_catalogued() -> None:
    used: set[str] = set()
    for module in DOMAIN.glob("*.py"):
        used |= set(re.findall(r"\bcodes\.(CONN_[A-Z0-9_]+)\b", module.read_text(encoding="utf-8")))
    assert used
    assert used <= set(CATALOGUE)
