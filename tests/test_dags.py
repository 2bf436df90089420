"""The example DAGs import cleanly and use only the public operators (never the client or internal layers)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[1] / "dags"
FORBIDDEN = (
    "kubernetes",
    "kubernetes_asyncio",
    "airflow_k8s_reconcile.hooks",
    "airflow_k8s_reconcile.domain",
)
FILES = sorted(DAGS.glob("*.py"))


def test_there_are_example_dags():
    assert FILES


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_dag_files_import_only_public_api(path):
    imported = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    bad = [name for name in imported if name == FORBIDDEN[0] or name.startswith(FORBIDDEN)]
    assert not bad, f"{path.name} imports {bad}; DAG files use operators and sensors only"


def test_dagbag_has_no_import_errors():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert "example_k8s_connection_check" in bag.dag_ids
