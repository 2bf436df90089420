"""Airflow's own API never returns the inline kubeconfig of a connection of ours, with stock settings.

Runs Airflow's API app (FastAPI) in a subprocess with a fresh metadata database, as the API server would, and
walks the UI's path: create the connection, list it, open it (the edit dialog reads GET /connections/{id}; its
"Show value" and Extra Fields editor show what that returns), save it unchanged (the dialog sends the password
back as "***"), press Test. The form's field metadata says where the kubeconfig goes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import yaml

from airflow_k8s_reconcile.compat import AIRFLOW_V_3_1_PLUS

SCRIPT = textwrap.dedent(
    """
    import json, os, subprocess, sys
    from pathlib import Path
    airflow = Path(sys.executable).with_name("airflow")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True)
    from fastapi.testclient import TestClient
    from airflow.api_fastapi.app import create_app
    client = TestClient(create_app())
    kubeconfig, legacy = Path(sys.argv[1]).read_text(), Path(sys.argv[2]).read_text()
    out = {}
    def call(name, method, url, **kwargs):
        response = client.request(method, url, **kwargs)
        out[name] = {"http": response.status_code, "text": response.text}
        return response
    call("create", "POST", "/api/v2/connections", json={
        "connection_id": "inline_pw", "conn_type": "k8s_reconcile", "password": kubeconfig,
        "extra": json.dumps({"request_timeout": 25})})
    call("create_legacy", "POST", "/api/v2/connections", json={
        "connection_id": "inline_extra", "conn_type": "k8s_reconcile", "extra": json.dumps({"kube_config": legacy})})
    call("list", "GET", "/api/v2/connections")
    call("get", "GET", "/api/v2/connections/inline_pw")
    call("hook_meta", "GET", "/ui/connections/hook_meta")
    call("save_unchanged", "PATCH", "/api/v2/connections/inline_pw", json={
        "connection_id": "inline_pw", "conn_type": "k8s_reconcile", "password": "***",
        "extra": json.dumps({"request_timeout": 20})})
    call("get_after_save", "GET", "/api/v2/connections/inline_pw")
    call("test", "POST", "/api/v2/connections/test", json={
        "connection_id": "inline_pw", "conn_type": "k8s_reconcile", "password": "***",
        "extra": json.dumps({"request_timeout": 20})})
    # What a worker gets: the stored connection, decrypted, handed over as the task's connection.
    from airflow.models import Connection
    from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
    for conn_id in ("inline_pw", "inline_extra"):
        os.environ["AIRFLOW_CONN_" + conn_id.upper()] = Connection.get_connection_from_secrets(conn_id).as_json()
        resolution = K8sReconcileHook(conn_id).resolve()
        out["resolve_" + conn_id] = {"server": resolution.source.server, "namespace": resolution.namespace,
                                     "warnings": [w.code for w in resolution.warnings]}
    print("RESULTS " + json.dumps(out))
    """
)


# Not a real credential: only there to show what Airflow returns for the legacy extra.
LEGACY_TOKEN = "LEGACYEXTRATOKEN-0123456789"
OFFLINE_KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [
        {"name": "c", "cluster": {"server": "https://127.0.0.1:9", "insecure-skip-tls-verify": True}}
    ],
    "users": [{"name": "u", "user": {"token": "OFFLINETOKEN-0123456789"}}],
    "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
    "current-context": "c",
}


def _run(tmp_path, config: dict) -> dict:
    kubeconfig = tmp_path / "kubeconfig.json"  # JSON: the form's one-line password input keeps it intact
    kubeconfig.write_text(json.dumps(config))
    legacy_config = json.loads(json.dumps(config))
    legacy_config["users"][0]["user"] = {"token": LEGACY_TOKEN}
    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps(legacy_config))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    env.pop("AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES", None)  # stock settings
    script = tmp_path / "api_secrets.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(kubeconfig), str(legacy)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULTS "))
    return json.loads(line.removeprefix("RESULTS "))


@pytest.fixture(scope="module")
def offline(tmp_path_factory) -> dict:
    """The API walk with a kubeconfig for an unreachable server: enough for what needs no cluster."""
    return _run(tmp_path_factory.mktemp("api"), OFFLINE_KUBECONFIG)


def test_the_api_never_returns_the_inline_kubeconfig(reader, tmp_path):
    config = yaml.safe_load(reader.kubeconfig_path.read_text())
    out = _run(tmp_path, config)
    assert out["create"]["http"] == 201
    listed = {c["connection_id"]: c for c in json.loads(out["list"]["text"])["connections"]}
    shown = [json.dumps(listed["inline_pw"])]
    for name in ("create", "get", "save_unchanged", "get_after_save", "test", "hook_meta"):
        shown.append(out[name]["text"])
    for text in [*shown, out["list"]["text"]]:
        assert reader.token not in text
    ca_data = config["clusters"][0]["cluster"]["certificate-authority-data"]
    for text in shown:  # nor any other part of the kubeconfig (the legacy connection in the list has one)
        assert ca_data not in text
    stored = json.loads(out["get"]["text"])
    assert stored["password"] == listed["inline_pw"]["password"] == "***"
    assert json.loads(stored["extra"]) == {"request_timeout": 25}
    assert json.loads(json.loads(out["get_after_save"]["text"])["extra"]) == {"request_timeout": 20}
    # Saving the dialog unchanged keeps the kubeconfig: the Test button still passes against the real server.
    assert out["save_unchanged"]["http"] == 200
    test = json.loads(out["test"]["text"])
    if AIRFLOW_V_3_1_PLUS:  # the Test endpoint merges the stored connection into the posted form since 3.1
        assert test["status"] is True, test["message"]
        assert test["message"].startswith("PASS: connected to https://")
        assert reader.username in test["message"]
    else:  # 3.0 tests the form as posted: the masked "***", not the stored kubeconfig (README, Compatibility)
        assert test["status"] is False
        assert "CONN_KUBECONFIG_BAD_YAML" in test["message"]
    resolved = out["resolve_inline_pw"]
    assert resolved["server"] == config["clusters"][0]["cluster"]["server"]
    assert resolved["namespace"] == reader.namespace
    assert "CONN_INLINE_KUBECONFIG_EXPOSED" not in resolved["warnings"]


def test_the_form_offers_the_password_field_as_the_inline_kubeconfig(offline):
    meta = json.loads(offline["hook_meta"]["text"])
    (ours,) = [m for m in meta if m["connection_type"] == "k8s_reconcile"]
    assert ours["standard_fields"]["password"]["hidden"] is False
    assert ours["standard_fields"]["password"]["title"] == "Kubeconfig (inline)"
    assert "kube_config" not in json.dumps(ours["extra_fields"]).replace("kube_config_path", "")


def test_a_kubeconfig_kept_in_the_extras_is_returned_whole_so_the_hook_warns(offline):
    """Why CONN_INLINE_KUBECONFIG_EXPOSED exists: with stock settings Airflow returns this extra in clear."""
    out = offline
    assert "OFFLINETOKEN" not in out["list"]["text"] + out["get"]["text"]
    listed = {c["connection_id"]: c for c in json.loads(out["list"]["text"])["connections"]}
    assert LEGACY_TOKEN in json.loads(listed["inline_extra"]["extra"])["kube_config"]
    assert "CONN_INLINE_KUBECONFIG_EXPOSED" in out["resolve_inline_extra"]["warnings"]
