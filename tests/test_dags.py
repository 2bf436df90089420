"""The example DAGs import cleanly and use only the public API, the way the README says DAG files should.

Public for DAG files: the names in ``__all__`` of the top-level package, ``findings``, ``exceptions``, ``hooks``,
``operators``, ``sensors`` and ``triggers`` (the README's "Public API" table). Never: ``domain``, ``cli``,
``testing`` or any module or name starting with ``_``. Hooks and the Kubernetes client are public too, but only
inside task functions: at module level they would be imported at every DAG parse.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

DAGS = Path(__file__).resolve().parents[1] / "dags"
FILES = sorted(DAGS.glob("*.py"))
PACKAGE = "airflow_k8s_reconcile"
NOT_PUBLIC = (f"{PACKAGE}.domain", f"{PACKAGE}.cli", f"{PACKAGE}.testing", f"{PACKAGE}.provider_info")
TASK_ONLY = ("kubernetes", "kubernetes_asyncio", f"{PACKAGE}.hooks")


def _under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _imports(tree: ast.Module) -> list[tuple[str, list[str], bool]]:
    """Return ``(module, names, at_module_level)`` per import; inside a function or lambda is not module level."""
    found: list[tuple[str, list[str], bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name, [], not in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names], not in_function))
        nested = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, nested)

    visit(tree, in_function=False)
    return found


def _public_names(module: ModuleType) -> set[str]:
    """Return ``__all__``, or the public names a module defines itself when it has none."""
    if hasattr(module, "__all__"):
        return set(module.__all__)
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    }


def violations(source: str) -> list[str]:
    """Return one message per import of a DAG file that breaks the public-API rule."""
    bad = []
    for module, names, module_level in _imports(ast.parse(source)):
        if module_level and _under(module, TASK_ONLY):
            bad.append(f"{module} at module level (import it inside the task function)")
        if not _under(module, (PACKAGE,)):
            continue
        if _under(module, NOT_PUBLIC) or any(part.startswith("_") for part in module.split(".")):
            bad.append(f"{module} is not public")
            continue
        public = _public_names(importlib.import_module(module))
        bad += [f"{module}.{name} is not in its __all__" for name in names if name not in public]
    return bad


def test_there_are_example_dags():
    assert FILES


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_dag_files_import_only_public_api(path):
    assert violations(path.read_text()) == []


def test_the_rule_allows_hooks_in_tasks_and_refuses_internals():
    """Seed: each kind of violation is found, and the documented patterns pass."""
    source = """
from airflow_k8s_reconcile.hooks import K8sReconcileHook
import kubernetes.client
from airflow_k8s_reconcile.domain.connection.resolution import Resolution
from airflow_k8s_reconcile.operators.connection_check import K8sConnectionCheckOperator
from airflow_k8s_reconcile.operators import K8sConnectionCheckOperator, DEFAULT_CONN_ID
from airflow_k8s_reconcile import Finding, Status

def task_body():
    from kubernetes.client import CoreV1Api
    from airflow_k8s_reconcile.hooks import K8sReconcileHook
    from airflow_k8s_reconcile.hooks._resolution.resolve import resolve_connection
"""
    assert violations(source) == [
        "airflow_k8s_reconcile.hooks at module level (import it inside the task function)",
        "kubernetes.client at module level (import it inside the task function)",
        "airflow_k8s_reconcile.domain.connection.resolution is not public",
        "airflow_k8s_reconcile.operators.DEFAULT_CONN_ID is not in its __all__",
        "airflow_k8s_reconcile.hooks._resolution.resolve is not public",
    ]


def test_dagbag_has_no_import_errors():
    from airflow_k8s_reconcile.compat import dagbag

    bag = dagbag(str(DAGS))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) >= {
        "example_k8s_connection_check",
        "example_k8s_hook_task",
        "preflight_then_reconcile",
        "generate_from_custom_resources",
        "restore_on_drift",
        "restore_on_drift_sensor",
    }


def test_every_dag_file_says_its_scenario():
    """Each example explains itself: a module docstring, shown in the UI as the DAG's doc_md."""
    for path in FILES:
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert len(doc or "") > 80, f"{path.name} has no scenario docstring"


def test_restore_on_drift_is_scheduled_by_its_drift_watcher():
    """The stable contract other tests and deployments rely on: dag_id, Asset name, watcher, trigger."""
    spec = importlib.util.spec_from_file_location("restore_on_drift_dag", DAGS / "restore_on_drift.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    dag, asset = module.restore_on_drift(), module.guarded_settings
    assert dag.dag_id == "restore_on_drift"
    assert asset.name == asset.uri == "k8s://default/guarded-settings"
    (watcher,) = asset.watchers
    classpath, kwargs = watcher.trigger.serialize()
    assert classpath.endswith("ConfigMapDriftEventTrigger")
    assert (kwargs["namespace"], kwargs["names"]) == ("default", ["guarded-settings"])
    assert set(dag.params) == {"log_level", "max_connections"}


def test_every_declared_permission_evaluates_at_parse_time():
    """``airflow-k8s-reconcile rbac --dags`` reads ``required_permissions`` of parsed tasks, templates unrendered."""
    from airflow_k8s_reconcile.compat import dagbag

    bag = dagbag(str(DAGS))
    declared = {
        f"{dag.dag_id}.{task.task_id}": tuple(task.required_permissions)
        for dag in bag.dags.values()
        for task in dag.tasks
        if hasattr(type(task), "required_permissions")
    }
    assert declared["restore_on_drift_sensor.wait_for_drift"]
    assert declared["preflight_then_reconcile.preflight"]
