"""No token, key, password or kubeconfig body appears in any output: messages, logs, reports, JSON, repr."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import yaml

from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

TOKEN = "SECRETTOKEN-abcdefghijklmnopqrstuvwxyz-0123456789"
PROXY_PASSWORD = "SECRETPROXYPASS-42"
CLIENT_KEY_MARK = "SECRETKEYMATERIAL"


def _variants(identity, tmp_path):
    base = yaml.safe_load(identity.kubeconfig_path.read_text())
    bad_token = yaml.safe_load(yaml.safe_dump(base))
    bad_token["users"][0]["user"]["token"] = TOKEN
    key_user = yaml.safe_load(yaml.safe_dump(base))
    key_user["users"][0]["user"] = {
        "client-certificate-data": "bm90LWEtY2VydA==",
        "client-key-data": "LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t" + CLIENT_KEY_MARK,
    }
    unknown_context = yaml.safe_load(yaml.safe_dump(bad_token))
    unknown_context["current-context"] = "nope"
    files = {}
    for name, config in {
        "bad_token": bad_token,
        "key_user": key_user,
        "unknown_context": unknown_context,
    }.items():
        path = tmp_path / f"{name}.kubeconfig"
        path.write_text(yaml.safe_dump(config))
        files[name] = path
    inline = yaml.safe_dump(bad_token)
    return [
        {"kube_config_path": str(files["bad_token"])},
        {"kube_config_path": str(files["key_user"])},
        {"kube_config_path": str(files["unknown_context"])},
        {"auth_mode": "kubeconfig_inline", "kube_config": inline},
        {"auth_mode": "kubeconfig_inline", "kube_config": inline + "\n  broken: [yaml"},
        {
            "kube_config_path": str(files["bad_token"]),
            "proxy_url": f"http://user:{PROXY_PASSWORD}@127.0.0.1:9",
        },
        {"kube_config_path": str(files["bad_token"]), "in_cluster_typo": "x"},
    ]


def _assert_clean(text: str) -> None:
    for secret in (TOKEN, PROXY_PASSWORD, CLIENT_KEY_MARK):
        assert secret not in text


def test_diagnosis_matrix_never_shows_secrets(reader, connection, tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    outputs = []
    for index, extra in enumerate(_variants(reader, tmp_path)):
        hook = K8sReconcileHook(connection(f"leak_{index}", extra))
        ok, message = hook.test_connection()
        assert ok is False
        report = hook.diagnose()
        outputs += [message, json.dumps(report.to_dict(), default=str), repr(report), repr(hook)]
        try:
            hook.resolve()
            outputs.append(json.dumps(hook.explain(), default=str))
        except Exception as err:
            outputs += [str(err), repr(err)]
    captured = capsys.readouterr()
    outputs += [captured.out, captured.err, caplog.text]
    _assert_clean("\n".join(outputs))


def test_doctor_json_never_shows_secrets(reader, tmp_path):
    path = _variants(reader, tmp_path)[0]["kube_config_path"]
    result = subprocess.run(
        [sys.executable, "-m", "airflow_k8s_reconcile.cli.main", "doctor", "--kubeconfig", path, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert json.loads(result.stdout)["verdict"] == "fail"
    _assert_clean(result.stdout + result.stderr)


def test_resolved_secrets_are_registered_with_airflows_masker(reader, connection):
    from airflow.sdk._shared.secrets_masker import redact

    hook = K8sReconcileHook(connection("masked", {"kube_config_path": str(reader.kubeconfig_path)}))
    hook.resolve()
    assert reader.token not in str(redact(f"token={reader.token}"))
    assert reader.token not in str(redact(reader.token))
