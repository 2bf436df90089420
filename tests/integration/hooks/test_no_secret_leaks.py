"""No token, key, password or kubeconfig body appears in any output: messages, logs, reports, JSON, repr."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap

import pytest
import yaml

from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

TOKEN = "SECRETTOKEN-abcdefghijklmnopqrstuvwxyz-0123456789"
PROXY_PASSWORD = "SECRETPROXYPASS-42"
CLIENT_KEY_MARK = "SECRETKEYMATERIAL"
# Short and plain on purpose: the pattern-based text redaction does not catch them, only knowing the values does.
EXEC_ENV_VALUE = "ExecEnvS3cret-77"
REFRESH_TOKEN = "RefreshS3cret-88"
CLIENT_SECRET = "ClientS3cret-99"
PLANTED = (TOKEN, PROXY_PASSWORD, CLIENT_KEY_MARK, EXEC_ENV_VALUE, REFRESH_TOKEN, CLIENT_SECRET)


def _exec_plugin(tmp_path, name: str, *, token: str | None) -> str:
    """Write an exec plugin that echoes its secret env value on stderr (as real ones do in errors)."""
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": token},
    }
    answer = f"echo '{json.dumps(credential)}'" if token else "exit 1"
    path = tmp_path / name
    path.write_text(f'#!/bin/sh\necho "login failed for key $PLANTED_KEY" >&2\n{answer}\n')
    path.chmod(0o755)
    return str(path)


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
    users = {
        "exec_fails": _exec_user(_exec_plugin(tmp_path, "fails.sh", token=None)),
        "exec_token": _exec_user(_exec_plugin(tmp_path, "token.sh", token=TOKEN)),
        "oidc": {
            "auth-provider": {
                "name": "oidc",
                "config": {
                    "client-id": "airflow",
                    "client-secret": CLIENT_SECRET,
                    "id-token": TOKEN,
                    "refresh-token": REFRESH_TOKEN,
                    "idp-issuer-url": "https://issuer.example",
                },
            }
        },
    }
    configs = {"bad_token": bad_token, "key_user": key_user, "unknown_context": unknown_context}
    for name, user in users.items():
        configs[name] = yaml.safe_load(yaml.safe_dump(base))
        configs[name]["users"][0]["user"] = user
    files = {}
    for name, config in configs.items():
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
        {"kube_config_path": str(files["exec_fails"])},
        {"kube_config_path": str(files["exec_token"])},
        {"kube_config_path": str(files["oidc"])},
    ]


def _exec_user(command: str) -> dict:
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": command,
            "env": [{"name": "PLANTED_KEY", "value": EXEC_ENV_VALUE}],
        }
    }


def _assert_clean(text: str) -> None:
    for secret in PLANTED:
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


# Airflow's real task-log pipeline, through its public API: configure_logging installs the masking processor,
# mask_secret (what the hooks call) feeds it. Each connection carries one planted secret; the script resolves it
# with the sync or the async hook, then logs the secret as a careless caller would: through the Task SDK's
# structlog logger and, where Airflow's configure_logging masks them (3.3; 3.0.6's stdlib pre-chain has no masking
# step, its task supervisor masks those lines instead), a stdlib logger. stdout.buffer: 3.0.6's handler writes
# bytes (a text stream raises TypeError there).
MASKER_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, logging, sys
    import structlog
    from airflow.sdk.log import configure_logging
    from airflow_k8s_reconcile.compat import AIRFLOW_V_3_3_PLUS
    configure_logging(output=sys.stdout.buffer, colored_console_log=False)
    from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
    from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook
    for conn_id, secret in json.loads(sys.argv[2]):
        if sys.argv[1] == "async":
            asyncio.run(AsyncK8sReconcileHook(conn_id).resolve())
        else:
            K8sReconcileHook(conn_id).resolve()
        structlog.get_logger("careless").warning("%s: the secret is %s", conn_id, secret)
        if AIRFLOW_V_3_3_PLUS:
            logging.getLogger("careless").warning("%s: the secret is %s", conn_id, secret)
    print("DONE")
    """
)
CARRIERS = {
    "token": TOKEN,
    "proxy-password": PROXY_PASSWORD,
    "exec-env-value": EXEC_ENV_VALUE,
    "auth-provider-refresh-token": REFRESH_TOKEN,
    "auth-provider-client-secret": CLIENT_SECRET,
}


def _carrier_connections(tmp_path) -> dict[str, dict]:
    """One connection per planted secret, each resolvable without a cluster (resolution makes no request)."""
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "c", "cluster": {"server": "https://127.0.0.1:9", "insecure-skip-tls-verify": True}}
        ],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
    }
    users = {
        "token": {"token": TOKEN},
        "exec": _exec_user(_exec_plugin(tmp_path, "plugin.sh", token=TOKEN)),
        "oidc": {"auth-provider": {"name": "oidc", "config": {
            "client-id": "airflow", "client-secret": CLIENT_SECRET, "id-token": "opaque-id-token-value",
            "refresh-token": REFRESH_TOKEN, "idp-issuer-url": "https://issuer.example"}}},
    }  # fmt: skip
    paths = {}
    for name, user in users.items():
        paths[name] = tmp_path / f"{name}.kubeconfig"
        paths[name].write_text(yaml.safe_dump({**doc, "users": [{"name": "u", "user": user}]}))
    proxy = f"http://robot:{PROXY_PASSWORD}@127.0.0.1:3128"
    return {
        "token": {"kube_config_path": str(paths["token"])},
        "proxy-password": {"kube_config_path": str(paths["token"]), "proxy_url": proxy},
        "exec-env-value": {"kube_config_path": str(paths["exec"])},
        "auth-provider-refresh-token": {"kube_config_path": str(paths["oidc"])},
        "auth-provider-client-secret": {"kube_config_path": str(paths["oidc"])},
    }


@pytest.fixture(scope="module")
def masked_logs(tmp_path_factory) -> dict[str, str]:
    """Run the script with each hook; return its output (stdout + stderr) per hook kind."""
    tmp_path = tmp_path_factory.mktemp("masker")
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path / "airflow")}
    cases = []
    for name, extra in _carrier_connections(tmp_path).items():
        conn_id = f"carrier_{name.replace('-', '_')}"
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({"conn_type": "k8s_reconcile", "extra": extra})
        cases.append([conn_id, CARRIERS[name]])
    script = tmp_path / "masker.py"
    script.write_text(MASKER_SCRIPT)
    outputs = {}
    for kind in ("sync", "async"):
        done = subprocess.run(
            [sys.executable, str(script), kind, json.dumps(cases)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert "DONE" in done.stdout
        outputs[kind] = done.stdout + done.stderr
    return outputs


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("carrier", sorted(CARRIERS))
def test_resolved_secrets_are_registered_with_airflows_masker(masked_logs, carrier, kind):
    text = masked_logs[kind]
    conn_id = f"carrier_{carrier.replace('-', '_')}"
    assert f"{conn_id}: the secret is ***" in text
    assert CARRIERS[carrier] not in text
