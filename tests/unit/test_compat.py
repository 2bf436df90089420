"""The Airflow version shim: the only module with version-dependent imports, and the DAG-parse-time feature gate."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from airflow_k8s_reconcile import compat
from airflow_k8s_reconcile.provider_info import CONN_FIELDS, ui_field_behaviour

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "airflow_k8s_reconcile" / "compat.py"
SOURCES = sorted(
    path
    for folder in ("airflow_k8s_reconcile", "dags", "tests", "bench")
    for path in (ROOT / folder).rglob("*.py")
    if path != COMPAT
)
# Imports whose location or existence differs between Airflow 3.0 and 3.3; only compat.py may name them.
VERSION_DEPENDENT = {
    "airflow.hooks.base": None,
    "airflow.exceptions": None,
    "airflow.configuration": None,
    "airflow.models.dagbag": None,
    "airflow.dag_processing.dagbag": None,
    "airflow.sdk.exceptions": {
        "AirflowException",
        "AirflowNotFoundException",
        "AirflowFailException",
        "TaskDeferred",
    },
    "airflow.sdk.log": {"amask_secret"},
    "airflow.sdk": {"BaseHook", "conf"},
}


def _imports_airflow(nodes: list[ast.stmt]) -> bool:
    for node in ast.walk(ast.Module(body=nodes, type_ignores=[])):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "airflow" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "airflow":
            return True
    return False


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = {"ImportError", "ModuleNotFoundError"}
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(kind, ast.Name) and kind.id in names for kind in kinds)


def _offences(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Try)
            and _imports_airflow(node.body)
            and any(_catches_import_error(handler) for handler in node.handlers)
        ):
            found.append(f"line {node.lineno}: try/except ImportError around an Airflow import")
        if isinstance(node, ast.ImportFrom) and node.module in VERSION_DEPENDENT:
            names = VERSION_DEPENDENT[node.module]
            hit = [a.name for a in node.names if names is None or a.name in names]
            if hit:
                found.append(f"line {node.lineno}: from {node.module} import {', '.join(hit)}")
    return found


def test_the_scan_sees_what_it_forbids(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        textwrap.dedent(
            """
            try:
                from airflow.sdk import BaseHook
            except (ModuleNotFoundError, ImportError):
                from airflow.hooks.base import BaseHook
            from airflow.sdk import DAG
            """
        )
    )
    assert _offences(planted) == [
        "line 2: try/except ImportError around an Airflow import",
        "line 3: from airflow.sdk import BaseHook",
        "line 5: from airflow.hooks.base import BaseHook",
    ]


def test_no_module_but_compat_has_version_dependent_airflow_imports():
    assert len(SOURCES) > 50
    offences = {str(p.relative_to(ROOT)): found for p in SOURCES if (found := _offences(p))}
    assert offences == {}, "use airflow_k8s_reconcile.compat instead"


def test_compat_itself_decides_by_version_not_by_import_error():
    assert not [
        node for node in ast.walk(ast.parse(COMPAT.read_text(encoding="utf-8"))) if isinstance(node, ast.Try)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3.0.6", (3, 0, 6)), ("3.1.0rc1", (3, 1, 0)), ("3.3.2.dev0", (3, 3, 2)), ("3.2", (3, 2, 0))],
)
def test_release_parses_airflow_versions(text, expected):
    assert compat._release(text) == expected


def test_release_rejects_garbage():
    with pytest.raises(ValueError, match="not an Airflow version"):
        compat._release("main")


def test_version_flags_follow_the_running_airflow():
    from importlib.metadata import version

    running = compat._release(version("apache-airflow-core"))
    assert running == compat.AIRFLOW_VERSION
    assert compat.AIRFLOW_V_3_2_PLUS is (running >= (3, 2, 0))
    assert compat.BaseHook.__name__ == "BaseHook"
    assert issubclass(compat.AirflowNotFoundException, Exception)


def test_not_found_is_what_the_hook_base_raises_for_a_missing_connection():
    with pytest.raises(compat.AirflowNotFoundException):
        compat.BaseHook.get_connection("no_such_connection_anywhere")


def test_require_passes_when_the_version_has_the_feature(monkeypatch):
    monkeypatch.setattr(compat, "AIRFLOW_VERSION", (3, 2, 0))
    compat.require(compat.ASYNC_OPERATORS, used_by="SomeSensor(mode='async')")


def test_require_names_the_feature_the_minimum_and_the_running_version(monkeypatch):
    monkeypatch.setattr(compat, "AIRFLOW_VERSION", (3, 0, 6))
    with pytest.raises(compat.AirflowVersionError) as raised:
        compat.require(compat.ASYNC_OPERATORS, used_by="SomeSensor(mode='async')")
    message = str(raised.value)
    assert message.startswith("SomeSensor(mode='async') needs Apache Airflow >= 3.2.0 for async operators")
    assert "this is Airflow 3.0.6" in message
    assert raised.value.feature is compat.ASYNC_OPERATORS


def test_every_supported_airflow_has_deferrable_sensors_and_event_triggers(monkeypatch):
    monkeypatch.setattr(compat, "AIRFLOW_VERSION", (3, 0, 0))
    assert compat.DEFERRABLE_SENSORS.available
    assert compat.EVENT_TRIGGERS.available
    assert not compat.DECLARATIVE_CONNECTION_FIELDS.available
    from airflow.sdk import AssetWatcher, BaseSensorOperator
    from airflow.triggers.base import BaseEventTrigger

    assert callable(BaseSensorOperator.defer)
    assert issubclass(BaseEventTrigger, object)
    assert AssetWatcher.__name__ == "AssetWatcher"


def test_a_missing_feature_is_the_dags_import_error_at_parse_time(tmp_path):
    """What users see: the DAG file fails to parse with the message, not a worker's ImportError later."""
    (tmp_path / "needs_the_future.py").write_text(
        textwrap.dedent(
            """
            from airflow.sdk import DAG, BaseOperator

            from airflow_k8s_reconcile.compat import Feature, require

            FUTURE = Feature("time travel", (99, 0, 0), "Airflow 99, AIP-999")


            class FutureOperator(BaseOperator):
                def __init__(self, **kwargs):
                    require(FUTURE, used_by="FutureOperator")
                    super().__init__(**kwargs)


            with DAG(dag_id="needs_the_future", schedule=None):
                FutureOperator(task_id="go")
            """
        )
    )
    bag = compat.dagbag(str(tmp_path))
    (error,) = bag.import_errors.values()
    assert "FutureOperator needs Apache Airflow >= 99.0.0 for time travel (Airflow 99, AIP-999)" in error
    assert "needs_the_future" not in bag.dag_ids


def test_ui_field_behaviour_for_old_airflow_is_the_provider_infos():
    behaviour = ui_field_behaviour()
    converted = compat.ui_field_behaviour(behaviour)
    assert converted == {
        "hidden_fields": behaviour["hidden-fields"],
        "relabeling": behaviour["relabeling"],
        "placeholders": behaviour["placeholders"],
    }
    assert {"host", "schema", "login", "extra"} <= set(converted["hidden_fields"])
    assert converted["relabeling"]["password"] == "Kubeconfig (inline)"


def test_connection_form_widgets_are_built_from_conn_fields():
    pytest.importorskip(
        "wtforms", reason="WTForms is a dependency (Airflow 3.0's form); a virtualenv from before it lacks it"
    )
    from wtforms import BooleanField, IntegerField, StringField

    widgets = compat.connection_form_widgets(CONN_FIELDS)
    assert list(widgets) == list(CONN_FIELDS)
    kinds = {name: widget.field_class for name, widget in widgets.items()}
    assert kinds["verify_ssl"] is BooleanField
    assert kinds["allow_exec_plugins"] is BooleanField
    assert kinds["request_timeout"] is IntegerField
    assert kinds["auth_mode"] is StringField
    assert kinds["namespace"] is StringField
    auth = widgets["auth_mode"]
    assert auth.args == ("Authentication",)
    assert auth.kwargs["default"] == "auto"
    assert auth.kwargs["description"] == CONN_FIELDS["auth_mode"]["description"]
    assert auth.kwargs["validators"][1].values == [
        "auto",
        "in_cluster",
        "kubeconfig_file",
        "kubeconfig_inline",
    ]
    assert widgets["verify_ssl"].kwargs["default"] is True
    assert widgets["request_timeout"].kwargs["default"] == 30


def test_the_hook_class_itself_defines_the_form_methods():
    """Airflow 3.0/3.1 read the form methods only from the registered class's own ``__dict__``."""
    from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

    assert "get_connection_form_widgets" in K8sReconcileHook.__dict__
    assert "get_ui_field_behaviour" in K8sReconcileHook.__dict__
    assert K8sReconcileHook.get_ui_field_behaviour()["relabeling"]["password"] == "Kubeconfig (inline)"


def test_the_readme_compatibility_table_names_every_feature_and_its_minimum():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Compatibility", 1)[1].split("\n## ", 1)[0].lower()
    features = [value for value in vars(compat).values() if isinstance(value, compat.Feature)]
    assert len(features) >= 4
    for feature in features:
        assert feature.name.split(" (")[0].lower() in section, feature.name
        if feature.minimum > (3, 0, 0):
            assert compat._dotted(feature.minimum) in section, feature.name
