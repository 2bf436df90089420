"""Every code the connection test, network, TLS and API diagnosis can emit is documented in docs/findings.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_k8s_reconcile.domain import api_diagnosis, probe

DOC = (Path(__file__).resolve().parents[2] / "docs" / "findings.md").read_text(encoding="utf-8")
CODES = sorted(
    value
    for module in (api_diagnosis, probe)
    for name, value in vars(module).items()
    if name.isupper() and isinstance(value, str) and name == value
)


def test_codes_were_found():
    assert len(CODES) > 20


@pytest.mark.parametrize("code", CODES)
def test_code_is_documented(code):
    assert f"### {code}\n" in DOC
