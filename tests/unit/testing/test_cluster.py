from __future__ import annotations

import pytest

from airflow_k8s_reconcile.testing.cluster import (
    ExternalClusterNotAllowedError,
    open_test_cluster,
    parse_version,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1.28", (1, 28), id="short"),
        pytest.param("v1.20.2", (1, 20), id="git-version"),
        pytest.param("v1.30.0+k3s1", (1, 30), id="distribution-suffix"),
    ],
)
def test_parse_version(text, expected):
    assert parse_version(text) == expected


def test_parse_version_rejects_garbage():
    with pytest.raises(ValueError, match="not a Kubernetes version: 'latest'"):
        parse_version("latest")


def test_external_cluster_needs_explicit_opt_in(tmp_path):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\n")
    with pytest.raises(ExternalClusterNotAllowedError, match="K8S_TEST_ALLOW_EXTERNAL=1"):  # noqa: SIM117
        with open_test_cluster({"K8S_TEST_KUBECONFIG": str(kubeconfig)}):
            pass
