"""The wheel holds the package and its data (py.typed, the provisioning script), and nothing else."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contents(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("airflow_k8s_reconcile-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "airflow_k8s_reconcile/py.typed" in names
    assert "airflow_k8s_reconcile/testing/assets/provision-control-plane.sh" in names
    top = {name.split("/")[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"airflow_k8s_reconcile"}
    entry_points = (
        zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    )
    assert "provider_info = airflow_k8s_reconcile.provider_info:get_provider_info" in entry_points
    assert "airflow-k8s-reconcile = airflow_k8s_reconcile.cli.main:main" in entry_points
    assert "airflow_k8s_reconcile = airflow_k8s_reconcile.testing.pytest_plugin" in entry_points


def test_doctor_does_not_import_airflow_without_conn_id():
    probe = (
        "import sys\n"
        "from airflow_k8s_reconcile.cli.main import main\n"
        "code = main(['doctor', '--kubeconfig', '/nonexistent/config', '--json'])\n"
        "print('airflow' in sys.modules, 'kubernetes' in sys.modules, code)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False False 1"
