"""helm-values/ validates against the official chart's schema, and the connection it defines resolves."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from airflow_k8s_reconcile.domain.connection.inline_kubeconfig import exposure_findings
from airflow_k8s_reconcile.domain.connection.settings import AuthMode, merge_settings, settings_from_extra

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "fixtures" / "airflow-chart" / "values.schema.json").read_text())
VALUES = sorted((ROOT / "helm-values").glob("*.yaml"))


@pytest.mark.parametrize("path", VALUES, ids=[p.name for p in VALUES])
def test_values_validate_against_the_official_chart_schema(path):
    jsonschema.Draft7Validator(SCHEMA).validate(yaml.safe_load(path.read_text()))


def test_a_misspelt_key_would_be_caught():
    values = yaml.safe_load((ROOT / "helm-values" / "values-airflow.yaml").read_text())
    values["workers"]["serviceAcount"] = {"create": True}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(SCHEMA).validate(values)


def test_the_connection_secret_is_wired_and_resolves_to_in_cluster():
    values = yaml.safe_load((ROOT / "helm-values" / "values-airflow.yaml").read_text())
    (env,) = [s for s in values["secret"] if s["envName"] == "AIRFLOW_CONN_K8S_RECONCILE_DEFAULT"]
    secret = values["extraSecrets"][env["secretName"]]
    connection = json.loads(yaml.safe_load(secret["stringData"])[env["secretKey"]])
    assert connection["conn_type"] == "k8s_reconcile"
    settings = merge_settings(
        {},
        settings_from_extra(
            connection["conn_type"], connection["extra"], password=connection.get("password")
        ),
    )
    assert settings.auth_mode is AuthMode.IN_CLUSTER
    assert values["config"]["core"]["test_connection"] == "Enabled"


def test_no_connection_in_the_values_keeps_a_secret_where_airflow_shows_it():
    values = yaml.safe_load((ROOT / "helm-values" / "values-airflow.yaml").read_text())
    connections = []
    for env in values["secret"]:
        if env["envName"].startswith("AIRFLOW_CONN_"):
            data = yaml.safe_load(values["extraSecrets"][env["secretName"]]["stringData"])
            connections.append(json.loads(data[env["secretKey"]]))
    assert connections
    for connection in connections:
        assert exposure_findings(connection["conn_type"], connection.get("extra", {})) == ()
    assert "CONN_INLINE_KUBECONFIG_EXPOSED" in (ROOT / "helm-values" / "values-airflow.yaml").read_text()
