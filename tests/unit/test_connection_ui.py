"""The connection type as Airflow's UI sees it: declarative fields through ProvidersManager, no hook import."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import jsonschema
import pytest

from airflow_k8s_reconcile.provider_info import CONN_FIELDS, get_provider_info


def _airflow_schema(name: str) -> dict:
    import airflow

    return json.loads((Path(airflow.__file__).parent / name).read_text())


def test_connection_type_matches_the_provider_yaml_schema():
    schema = _airflow_schema("provider.yaml.schema.json")["properties"]["connection-types"]
    jsonschema.validate(get_provider_info()["connection-types"], schema)


def test_ui_field_behaviour_matches_its_schema():
    behaviour = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    as_loaded = {  # ProvidersManager._add_customized_fields converts the kebab-case keys before validating
        "hidden_fields": behaviour["hidden-fields"],
        "relabeling": behaviour["relabeling"],
        "placeholders": behaviour["placeholders"],
    }
    jsonschema.validate(as_loaded, _airflow_schema("customized_form_field_behaviours.schema.json"))


def test_every_field_is_a_setting_the_hook_understands():
    from airflow_k8s_reconcile.domain.connection.settings import settings_from_extra

    values = {"auth_mode": "auto", "verify_ssl": True, "allow_exec_plugins": False, "request_timeout": 30}
    extra = {name: values.get(name, "") for name in CONN_FIELDS}
    settings_from_extra("k8s_reconcile", extra)
    assert set(CONN_FIELDS) >= {
        "auth_mode",
        "kube_config_path",
        "cluster_context",
        "namespace",
        "api_server",
        "ca_bundle",
        "verify_ssl",
        "tls_server_name",
        "proxy_url",
        "request_timeout",
        "service_account_dir",
        "allow_exec_plugins",
    }


def test_inline_kubeconfig_is_the_password_field_not_an_extra():
    """Airflow's API returns extras in clear unless their NAME is sensitive; the password field it always hides."""
    behaviour = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    assert "kube_config" not in CONN_FIELDS
    assert "password" not in behaviour["hidden-fields"]
    assert behaviour["relabeling"]["password"] == "Kubeconfig (inline)"
    assert "-o json" in behaviour["placeholders"]["password"]
    assert "base64 -w0" in behaviour["placeholders"]["password"]
    assert not [name for name, field in CONN_FIELDS.items() if field["schema"].get("format") == "password"]


@pytest.mark.min_airflow(
    "3.2",
    reason="reads the declarative conn-fields metadata (apache/airflow#60410); "
    "test_airflow_versions.py checks the form on every version through the UI's HookMetaService",
)
def test_providers_manager_exposes_the_fields_to_the_ui():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    manager.initialize_providers_hooks()
    widgets = manager._connection_form_widgets_from_metadata
    names = {key for key in widgets if key.startswith("extra__k8s_reconcile__")}
    assert {"extra__k8s_reconcile__auth_mode", "extra__k8s_reconcile__kube_config_path"} <= names
    assert "extra__k8s_reconcile__kube_config" not in names
    ours = [
        m for m in manager.iter_connection_type_hook_ui_metadata() if m.connection_type == "k8s_reconcile"
    ]
    assert len(ours) == 1
    assert ours[0].hook_name == "Kubernetes (reconcile)"
    port_bug = version("apache-airflow") in ("3.3.1", "3.3.2")
    hidden = ["host", "schema", "login", "extra", *([] if port_bug else ["port"])]
    assert ours[0].field_behaviour["hidden_fields"] == hidden
    assert ours[0].field_behaviour["relabeling"]["password"] == "Kubeconfig (inline)"
    assert ("73298" in ours[0].field_behaviour["relabeling"].get("port", "")) is port_bug


def test_help_says_where_each_check_runs():
    """The UI's Test runs in the API server, tasks on workers, deferrable sensors in the triggerer."""
    help_text = CONN_FIELDS["kube_config_path"]["description"]
    assert "on the workers" not in help_text
    for place in ("API server", "workers", "triggerer"):
        assert place in help_text
