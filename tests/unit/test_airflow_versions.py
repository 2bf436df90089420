"""Per-version checks, run on the newest Airflow (`make test`) and on the oldest (`make test-oldest`).

- Our provider info validates against the provider-info schema of every supported minor (3.0 to 3.3), so a key one
  version reads (``conn-fields``, 3.2+) never breaks provider discovery on another.
- The connection type and its fields are offered as the UI reads them: ``HookMetaService.hook_meta_data()``, the
  function behind ``GET /ui/connections/hook_meta`` on every Airflow 3 (3.0/3.1 build it from the hook's WTForms
  methods, 3.2+ from ``conn-fields``).
- The environment is the one the make target promised: the Airflow version, and the installed wheel.
"""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest

import airflow_k8s_reconcile
from airflow_k8s_reconcile.compat import AIRFLOW_VERSION
from airflow_k8s_reconcile.provider_info import CONN_FIELDS, get_provider_info, ui_field_behaviour

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted((ROOT / "tests" / "fixtures" / "airflow-provider-info-schema").glob("*.json"))


def test_a_schema_for_every_supported_minor():
    assert [path.stem.rsplit(".", 1)[0] for path in SCHEMAS] == ["3.0", "3.1", "3.2", "3.3"]


@pytest.mark.parametrize("schema_path", SCHEMAS, ids=[p.stem for p in SCHEMAS])
def test_provider_info_validates_against_each_minors_schema(schema_path):
    schema = json.loads(schema_path.read_text())
    jsonschema.validate(get_provider_info(), schema)
    # Why conn-fields and ui-field-behaviour are safe on 3.0/3.1: no level of the schema forbids unknown keys.
    items = schema["properties"]["connection-types"]["items"]
    assert schema.get("additionalProperties", True) is not False
    assert items.get("additionalProperties", True) is not False


def test_an_unknown_key_would_be_caught_if_a_schema_forbade_it():
    schema = json.loads(SCHEMAS[0].read_text())
    schema["properties"]["connection-types"]["items"]["additionalProperties"] = False
    with pytest.raises(jsonschema.ValidationError, match="conn-fields"):
        jsonschema.validate(get_provider_info(), schema)


def _hook_meta() -> dict:
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    meta = {m.connection_type: m for m in HookMetaService.hook_meta_data()}
    assert "k8s_reconcile" in meta, sorted(meta)
    return meta["k8s_reconcile"].model_dump()


def test_the_ui_offers_the_connection_type_with_every_field():
    ours = _hook_meta()
    assert ours["hook_name"] == "Kubernetes (reconcile)"
    assert ours["hook_class_name"] == "airflow_k8s_reconcile.hooks.kubernetes.K8sReconcileHook"
    fields = ours["extra_fields"]
    assert set(fields) == set(CONN_FIELDS)
    for name, field in CONN_FIELDS.items():
        assert fields[name]["schema"]["title"] == field["label"], name
        assert fields[name]["description"] == field["description"], name
    assert fields["auth_mode"]["value"] == "auto"
    assert fields["auth_mode"]["schema"]["enum"][:4] == [
        "auto",
        "in_cluster",
        "kubeconfig_file",
        "kubeconfig_inline",
    ]
    assert "boolean" in fields["verify_ssl"]["schema"]["type"]
    assert fields["verify_ssl"]["value"] is True
    assert fields["request_timeout"]["value"] == 30


def test_the_ui_hides_and_relabels_the_standard_fields():
    standard = _hook_meta()["standard_fields"]
    assert standard["password"]["title"] == "Kubeconfig (inline)"
    assert standard["password"]["hidden"] is False
    assert "-o json" in standard["password"]["placeholder"]
    for hidden in ("host", "url_schema", "login"):
        assert standard[hidden]["hidden"] is True, hidden
    # The port is shown only where Airflow's Test button needs one (3.3.1-3.3.2, provider_info.PORT_BUG_VERSIONS).
    port_hidden = "port" in ui_field_behaviour()["hidden-fields"]
    assert bool(standard["port"] and standard["port"]["hidden"]) is port_hidden


def test_a_connection_of_the_type_gets_our_hook_through_the_providers_manager():
    """On 3.0 a hook module that fails to import leaves the registry entry None ("Unknown hook type")."""
    from airflow.sdk import Connection

    from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

    hook = Connection(conn_id="k8s_reconcile_versions", conn_type="k8s_reconcile").get_hook()
    assert type(hook) is K8sReconcileHook
    assert hook.k8s_reconcile_conn_id == "k8s_reconcile_versions"
    assert callable(hook.test_connection)


@pytest.mark.skipif(
    "AIRFLOW_K8S_RECONCILE_EXPECT_AIRFLOW" not in os.environ, reason="set by make test-oldest only"
)
def test_running_airflow_is_the_one_the_make_target_installed():
    expected = os.environ["AIRFLOW_K8S_RECONCILE_EXPECT_AIRFLOW"]
    assert metadata.version("apache-airflow") == expected
    assert metadata.version("apache-airflow-core") == expected
    assert ".".join(map(str, AIRFLOW_VERSION)) == expected


@pytest.mark.skipif(
    "AIRFLOW_K8S_RECONCILE_EXPECT_WHEEL" not in os.environ, reason="set by make test-oldest only"
)
def test_the_suite_runs_against_the_installed_wheel_not_the_source_tree():
    package = Path(airflow_k8s_reconcile.__file__).resolve()
    assert "site-packages" in package.parts, package
    assert ROOT / "airflow_k8s_reconcile" not in package.parents
    files = metadata.distribution("airflow-k8s-reconcile").files or []
    assert not any(str(f).endswith(".pth") for f in files), "an editable install, not the wheel"
