from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from airflow_k8s_reconcile.cli.main import main

HEAVY = ("airflow", "kubernetes", "kubernetes_asyncio", "yaml", "cryptography")


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nprint(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import airflow_k8s_reconcile", id="package"),
        pytest.param(
            "import airflow_k8s_reconcile.provider_info as p; p.get_provider_info()", id="provider-info"
        ),
        pytest.param(
            "from airflow_k8s_reconcile.cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass",
            id="cli-help",
        ),
        pytest.param("import airflow_k8s_reconcile.testing.pytest_plugin", id="pytest-plugin"),
    ],
)
def test_import_does_not_load_airflow_or_the_kubernetes_client(code):
    assert _loaded_after(code).isdisjoint(HEAVY)


def test_cluster_commands_do_not_need_airflow_or_the_kubernetes_client():
    loaded = _loaded_after(
        "from airflow_k8s_reconcile.cli import cluster\n"
        "from airflow_k8s_reconcile.testing import control_plane"
    )
    assert loaded.isdisjoint({"airflow", "kubernetes", "kubernetes_asyncio"})


def test_usage_errors_exit_2(capsys):
    assert main(["cluster", "sideways"]) == 2
    assert "invalid choice: 'sideways'" in capsys.readouterr().err


def test_version_exits_0(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("airflow-k8s-reconcile ")


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("airflow-k8s-reconcile")
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert out.returncode == 0
    assert "cluster" in out.stdout
