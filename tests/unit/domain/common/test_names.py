from __future__ import annotations

import pytest

from airflow_k8s_reconcile.domain.common.names import is_dns_label


@pytest.mark.parametrize("text", ["a", "jobs", "team-a", "a1", "0", "a" * 63])
def test_valid_labels(text: str) -> None:
    assert is_dns_label(text)


@pytest.mark.parametrize("text", ["", "A", "-a", "a-", "a_b", "a.b", "a" * 64, "jobs\n", "jobs\n\n", " jobs"])
def test_invalid_labels(text: str) -> None:
    assert not is_dns_label(text)
