"""The Airflow UI's Test button (POST /api/v2/connections/test) runs our connection test against the real server.

Runs Airflow's own API app (FastAPI) in a subprocess with a fresh metadata database, as the API server would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import json, os, subprocess, sys
    from pathlib import Path
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True)
    from fastapi.testclient import TestClient
    from airflow.api_fastapi.app import create_app
    client = TestClient(create_app())
    results = []
    for path in sys.argv[1:]:
        body = {"connection_id": "ui_test", "conn_type": "k8s_reconcile",
                "extra": json.dumps({"kube_config_path": path})}
        response = client.post("/api/v2/connections/test", json=body)
        results.append({"http": response.status_code, **response.json()})
    print("RESULTS " + json.dumps(results))
    """
)


def test_ui_test_button(reader, nobody, tmp_path):
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    script = tmp_path / "ui_test.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(reader.kubeconfig_path), str(nobody.kubeconfig_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULTS "))
    passing, warned = json.loads(line.removeprefix("RESULTS "))
    assert passing["http"] == warned["http"] == 200
    assert passing["status"] is True
    assert passing["message"].startswith("PASS: connected to https://")
    assert reader.username in passing["message"]
    assert warned["status"] is False
    assert warned["message"].startswith("WARN: Identity has no permissions")
    assert Path(reader.kubeconfig_path).read_text() not in done.stdout + done.stderr
    assert reader.token not in done.stdout + done.stderr
