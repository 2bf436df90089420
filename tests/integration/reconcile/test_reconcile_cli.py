"""``airflow-k8s-reconcile reconcile`` as a user runs it: exit codes, JSON shape, nothing written on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from reconcile_it import raw, versions

MANIFESTS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: one}
data: {level: debug}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: two}
data: {api-token: s3cret-value}
"""


def _cli(*args, cwd):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "airflow_k8s_reconcile.cli.main", "reconcile", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=120, check=False)


def test_reconcile_detect_and_exit_codes(k8s_cluster, core, k8s_namespace, tmp_path):
    path = tmp_path / "cms.yaml"
    path.write_text(MANIFESTS)
    base = ["-f", path, "--kubeconfig", k8s_cluster.kubeconfig_path, "-n", k8s_namespace]
    created = _cli(*base, "--json", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    report = json.loads(created.stdout)
    assert [(o["name"], o["status"]) for o in report["objects"]] == [("one", "created"), ("two", "created")]
    assert set(report["objects"][0]["drift"]) >= {"added", "removed", "modified"}
    assert report["summary"]["in_sync"] is True
    core.patch_namespaced_config_map(
        "two", k8s_namespace, {"data": {"api-token": "stolen", "x": "y"}}, field_manager="intruder"
    )
    detected = _cli(*base, "--mode", "detect", "--json", cwd=tmp_path)
    assert detected.returncode == 1
    (two,) = [o for o in json.loads(detected.stdout)["objects"] if o["name"] == "two"]
    assert (two["drift"]["added"], two["drift"]["modified"]) == (["x"], ["api-token"])
    assert {a["manager"] for a in two["attribution"]} == {"intruder"}
    assert "stolen" not in detected.stdout
    assert "s3cret-value" not in detected.stdout
    restored = _cli(*base, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "restored" in restored.stdout
    assert raw(core, k8s_namespace, "two")["data"] == {"api-token": "s3cret-value"}


def test_bad_input_exits_2_naming_every_problem_and_writes_nothing(
    k8s_cluster, core, k8s_namespace, tmp_path
):
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\ndata: {ok: v}\n"
    )
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: [unclosed\n")
    base = ["--kubeconfig", k8s_cluster.kubeconfig_path, "-n", k8s_namespace]
    result = _cli("-f", "bad.yaml", "-f", "broken.yaml", "-f", "missing.yaml", *base, cwd=tmp_path)
    assert result.returncode == 2
    assert "RECONCILE_BAD_NAME" in result.stderr
    assert "broken.yaml is not valid YAML" in result.stderr
    assert "Cannot read missing.yaml" in result.stderr
    assert versions(core, k8s_namespace) == {}
    assert _cli("-f", "bad.yaml", "--in-cluster", "--context", "x", cwd=tmp_path).returncode == 2
