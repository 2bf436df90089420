"""The inline kubeconfig lives in the password field; one kept in the extras still works, with a warning."""

from __future__ import annotations

import json

import pytest

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.connection.inline_kubeconfig import exposure_findings
from airflow_k8s_reconcile.domain.connection.settings import AuthMode, merge_settings, settings_from_extra
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.findings import Status

TOKEN = "PLANTEDTOKEN-0123456789"
KUBECONFIG = json.dumps(
    {"apiVersion": "v1", "kind": "Config", "users": [{"name": "u", "user": {"token": TOKEN}}]}
)


def test_password_field_is_our_types_inline_kubeconfig():
    settings = merge_settings(
        {}, settings_from_extra("k8s_reconcile", {"namespace": "jobs"}, password=KUBECONFIG)
    )
    assert settings.auth_mode is AuthMode.KUBECONFIG_INLINE
    assert settings.kube_config == KUBECONFIG
    assert settings.origins["kube_config"] == "connection"


@pytest.mark.parametrize("password", [None, "", "   "])
def test_an_empty_password_field_is_unset(password):
    assert settings_from_extra("k8s_reconcile", {"auth_mode": "in_cluster"}, password=password) == {
        "auth_mode": AuthMode.IN_CLUSTER
    }


def test_cncf_connections_ignore_the_password_field_as_cncf_does():
    values = settings_from_extra("kubernetes", {"in_cluster": True}, password=KUBECONFIG)
    assert values == {"auth_mode": AuthMode.IN_CLUSTER}


@pytest.mark.parametrize("key", ["kube_config", "extra__k8s_reconcile__kube_config"])
def test_password_and_kube_config_extra_together_conflict(key):
    with pytest.raises(ConnectionConfigError) as err:
        settings_from_extra("k8s_reconcile", {key: KUBECONFIG}, password=KUBECONFIG)
    assert err.value.code == codes.CONN_CONFLICTING_SOURCES
    assert "Kubeconfig (inline)" in err.value.finding.cause
    assert TOKEN not in json.dumps(err.value.finding.to_dict())


def test_password_field_contradicting_auth_mode_is_a_conflict():
    with pytest.raises(ConnectionConfigError) as err:
        merge_settings(
            {}, settings_from_extra("k8s_reconcile", {"auth_mode": "in_cluster"}, password=KUBECONFIG)
        )
    assert err.value.code == codes.CONN_CONFLICTING_SOURCES


@pytest.mark.parametrize(
    ("conn_type", "key", "fix_names"),
    [
        ("k8s_reconcile", "kube_config", "Kubeconfig (inline)"),
        ("k8s_reconcile", "extra__k8s_reconcile__kube_config", "Kubeconfig (inline)"),
        ("kubernetes", "kube_config", "sensitive_var_conn_names"),
        ("kubernetes", "extra__kubernetes__kube_config", "sensitive_var_conn_names"),
    ],
)
def test_a_kubeconfig_kept_in_the_extras_is_reported_as_exposed(conn_type, key, fix_names):
    (warning,) = exposure_findings(conn_type, {key: KUBECONFIG, "namespace": "jobs"})
    assert warning.code == codes.CONN_INLINE_KUBECONFIG_EXPOSED
    assert warning.status is Status.WARN
    assert f"'{key}'" in warning.cause
    assert "/api/v2/connections" in warning.cause
    assert fix_names in warning.fix
    assert TOKEN not in json.dumps(warning.to_dict())


@pytest.mark.parametrize(
    ("conn_type", "extra", "masked"),
    [
        pytest.param("k8s_reconcile", {"kube_config_path": "/k/config"}, (), id="a-path-is-no-secret"),
        pytest.param("k8s_reconcile", {"kube_config": ""}, (), id="empty"),
        pytest.param("k8s_reconcile", {"kube_config": None}, (), id="null"),
        pytest.param("kubernetes", {"kube_config": KUBECONFIG}, ("kube_config",), id="deployment-hides-it"),
        pytest.param("postgres", {"kube_config": KUBECONFIG}, (), id="not-our-type"),
    ],
)
def test_nothing_is_reported_when_nothing_is_exposed(conn_type, extra, masked):
    assert exposure_findings(conn_type, extra, masked_keys=masked) == ()
