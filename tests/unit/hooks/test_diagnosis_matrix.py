"""Every connection diagnosis, built for real: files on disk, environment variables, executables.

Each case runs through both hooks (sync and async), which must raise the same finding; the message must name the
concrete value (the path, the context, the variable) and carry a fix, and never a raw parser error or traceback.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.hooks._resolution import exec_plugin as _exec
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook
from airflow_k8s_reconcile.testing import certs

NOW = datetime.now(UTC)
# Recognisable secrets: none may appear in any message, finding, repr, log line or captured output.
SECRET_TOKEN = "SECRETMATRIXTOKEN-0123456789abcdef"


def _pem(start: timedelta, days: int, *, cn: str = "admin") -> tuple[bytes, bytes]:
    return certs.self_signed(cn, not_before=NOW + start, not_after=NOW + start + timedelta(days=days))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _jwt(**claims) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


CA, _ = _pem(-timedelta(days=1), 30, cn="ca")


def _kubeconfig(
    *, user: dict | None = None, server: str = "https://api.example.com:6443", **overrides
) -> dict:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c1", "cluster": {"server": server, "certificate-authority-data": _b64(CA)}}],
        "users": [{"name": "u1", "user": user if user is not None else {"token": SECRET_TOKEN}}],
        "contexts": [
            {"name": "dev", "context": {"cluster": "c1", "user": "u1"}},
            {"name": "prod-eu", "context": {"cluster": "c1", "user": "u1"}},
        ],
        "current-context": "dev",
    }
    doc.update(overrides)
    return doc


class Case:
    """A broken setup: files to create, environment, hook arguments; what to expect."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.env = {"HOME": str(tmp / "home"), "PATH": os.environ.get("PATH", "")}
        self.args: dict = {}
        self.secrets = [SECRET_TOKEN]

    def file(self, name: str, content: str | bytes) -> str:
        path = self.tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return str(path)

    def kubeconfig(self, doc: dict | str, name: str = "config") -> str:
        path = self.file(name, doc if isinstance(doc, str) else yaml.safe_dump(doc))
        self.args = {"auth_mode": "kubeconfig_file", "kube_config_path": path}
        return path

    def pod(self, *, token: str | None = SECRET_TOKEN, ca: bytes | None = CA, host: str = "10.96.0.1") -> str:
        sa = self.tmp / "sa"
        sa.mkdir(exist_ok=True)
        if token is not None:
            (sa / "token").write_text(token)
        if ca is not None:
            (sa / "ca.crt").write_bytes(ca)
        self.env.update(KUBERNETES_SERVICE_HOST=host, KUBERNETES_SERVICE_PORT="443")
        self.args.setdefault("service_account_dir", str(sa))
        return str(sa)

    def executable(self, name: str, script: str) -> str:
        path = Path(self.file(f"bin/{name}", "#!/bin/sh\n" + script))
        path.chmod(0o755)
        self.env["PATH"] = f"{path.parent}:{self.env['PATH']}"
        return str(path)


def _exec_user(command: str, **extra) -> dict:
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": command, **extra}}


def missing_path(c):
    c.args = {"kube_config_path": str(c.tmp / "nope" / "config")}
    return "CONN_KUBECONFIG_NOT_FOUND", str(c.tmp / "nope" / "config")


def kubeconfig_env_entries_missing(c):
    c.env["KUBECONFIG"] = f"{c.tmp}/a:{c.tmp}/b"
    c.args = {"auth_mode": "kubeconfig_file"}
    return "CONN_KUBECONFIG_NOT_FOUND", f"{c.tmp}/b"


def is_directory(c):
    (c.tmp / "dir").mkdir()
    c.args = {"kube_config_path": str(c.tmp / "dir")}
    return "CONN_KUBECONFIG_IS_DIRECTORY", str(c.tmp / "dir")


def bad_yaml(c):
    c.kubeconfig("apiVersion: v1\nclusters:\n- name: [c1\n")
    return "CONN_KUBECONFIG_BAD_YAML", "line"


def empty_file(c):
    path = c.kubeconfig("")
    return "CONN_KUBECONFIG_EMPTY", path


def no_current_context(c):
    c.kubeconfig(_kubeconfig(**{"current-context": ""}))
    return "CONN_NO_CURRENT_CONTEXT", "cluster_context"


def unknown_context(c):
    c.kubeconfig(_kubeconfig())
    c.args["cluster_context"] = "prod-ue"
    return "CONN_UNKNOWN_CONTEXT", "prod-eu"


def missing_user(c):
    doc = _kubeconfig()
    doc["contexts"][0]["context"]["user"] = "ghost"
    c.kubeconfig(doc)
    return "CONN_MISSING_USER", "ghost"


def missing_cluster(c):
    doc = _kubeconfig()
    doc["contexts"][0]["context"]["cluster"] = "k9"
    c.kubeconfig(doc)
    return "CONN_MISSING_CLUSTER", "k9"


def bad_base64(c):
    doc = _kubeconfig()
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = CA.decode()
    c.kubeconfig(doc)
    return "CONN_BAD_BASE64", "certificate-authority-data"


def ca_file_missing(c):
    doc = _kubeconfig()
    doc["clusters"][0]["cluster"] = {"server": "https://api:6443", "certificate-authority": "/etc/k8s/ca.crt"}
    c.kubeconfig(doc)
    return "CONN_CA_FILE_MISSING", "/etc/k8s/ca.crt"


def incluster_env_unset(c):
    c.args = {"auth_mode": "in_cluster"}
    return "CONN_INCLUSTER_ENV_UNSET", "KUBERNETES_SERVICE_HOST"


def incluster_env_empty(c):
    c.pod()
    c.env["KUBERNETES_SERVICE_HOST"] = ""
    c.args["auth_mode"] = "in_cluster"
    return "CONN_INCLUSTER_ENV_EMPTY", "KUBERNETES_SERVICE_HOST"


def sa_token_missing(c):
    c.pod(token=None)
    c.args["auth_mode"] = "in_cluster"
    return "CONN_SA_TOKEN_MISSING", "automountServiceAccountToken"


def sa_token_empty(c):
    c.pod(token="")
    c.args["auth_mode"] = "in_cluster"
    return "CONN_SA_TOKEN_EMPTY", "token"


def sa_ca_missing(c):
    c.pod(ca=None)
    c.args["auth_mode"] = "in_cluster"
    return "CONN_SA_CA_MISSING", "ca.crt"


def expired_jwt(c):
    token = _jwt(sub="system:serviceaccount:a:b", exp=int((NOW - timedelta(hours=2)).timestamp()))
    c.kubeconfig(_kubeconfig(user={"token": token}))
    return "CONN_TOKEN_EXPIRED", "ago"


def expired_client_cert(c):
    cert, key = _pem(-timedelta(days=400), 365)
    c.kubeconfig(_kubeconfig(user={"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}))
    return "CONN_CLIENT_CERT_EXPIRED", "user 'u1'"


def not_yet_valid_client_cert(c):
    cert, key = _pem(timedelta(days=2), 365)
    c.kubeconfig(_kubeconfig(user={"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}))
    return "CONN_CLIENT_CERT_NOT_YET_VALID", "user 'u1'"


def client_key_mismatch(c):
    cert, _ = _pem(-timedelta(days=1), 30)
    _, other_key = _pem(-timedelta(days=1), 30)
    c.secrets.append(other_key.decode().splitlines()[1])
    c.kubeconfig(
        _kubeconfig(user={"client-certificate-data": _b64(cert), "client-key-data": _b64(other_key)})
    )
    return "CONN_CLIENT_KEY_MISMATCH", "user 'u1'"


def exec_not_found(c):
    c.kubeconfig(
        _kubeconfig(user=_exec_user("aws-iam-authenticator-missing", installHint="brew install aws-iam"))
    )
    return "CONN_EXEC_NOT_FOUND", "brew install aws-iam"


def exec_fails(c):
    c.executable(
        "failing-auth",
        f'echo \'{{"status": {{"token": "{SECRET_TOKEN}"}}}}\'\n'
        f"echo 'Authorization: Bearer {SECRET_TOKEN}' >&2\n"
        "echo 'Unable to locate credentials. Run aws configure.' >&2\nexit 255\n",
    )
    c.kubeconfig(_kubeconfig(user=_exec_user("failing-auth")))
    return "CONN_EXEC_FAILED", "Unable to locate credentials"


def exec_times_out(c):
    c.executable("slow-auth", "sleep 30\n")
    c.kubeconfig(_kubeconfig(user=_exec_user("slow-auth")))
    return "CONN_EXEC_TIMEOUT", "slow-auth"


def inline_exec_refused(c):
    c.args = {
        "auth_mode": "kubeconfig_inline",
        "kube_config": yaml.safe_dump(_kubeconfig(user=_exec_user("aws"))),
    }
    return "CONN_EXEC_PLUGIN_NOT_ALLOWED", "allow_exec_plugins"


def expired_oidc_auth_provider(c):
    token = _jwt(sub="alice", exp=int((NOW - timedelta(hours=1)).timestamp()))
    c.secrets.append(token)
    c.kubeconfig(_kubeconfig(user={"auth-provider": {"name": "oidc", "config": {"id-token": token}}}))
    return "CONN_AUTH_PROVIDER_UNSUPPORTED", "expired at"


def conflicting_options(c):
    c.args = {"auth_mode": "in_cluster", "kube_config_path": "/x"}
    return "CONN_CONFLICTING_SOURCES", "kube_config_path"


def unknown_auth_mode(c):
    c.args = {"auth_mode": "kubeconfig_path"}
    return "CONN_UNKNOWN_AUTH_MODE", "kubeconfig_file"


def unknown_field(c):
    c.args = {"kube_config_file": "/x"}
    return "CONN_UNKNOWN_FIELD", "kube_config_path"


def nothing_found_in_auto_mode(c):
    return "CONN_NO_SOURCE_FOUND", "KUBERNETES_SERVICE_HOST"


CASES = [
    missing_path,
    kubeconfig_env_entries_missing,
    is_directory,
    bad_yaml,
    empty_file,
    no_current_context,
    unknown_context,
    missing_user,
    missing_cluster,
    bad_base64,
    ca_file_missing,
    incluster_env_unset,
    incluster_env_empty,
    sa_token_missing,
    sa_token_empty,
    sa_ca_missing,
    expired_jwt,
    expired_client_cert,
    not_yet_valid_client_cert,
    client_key_mismatch,
    exec_not_found,
    exec_fails,
    exec_times_out,
    inline_exec_refused,
    expired_oidc_auth_provider,
    conflicting_options,
    unknown_auth_mode,
    unknown_field,
    nothing_found_in_auto_mode,
]


def _sync_error(case: Case) -> ConnectionConfigError:
    hook = K8sReconcileHook("k8s_reconcile_default", environ=case.env, **case.args)

    def connect() -> None:
        hook.resolve()
        hook.get_conn().close()  # exec plugins run when the client is built

    with pytest.raises(ConnectionConfigError) as err:
        connect()
    return err.value


def _async_error(case: Case) -> ConnectionConfigError:
    hook = AsyncK8sReconcileHook("k8s_reconcile_default", environ=case.env, **case.args)

    async def run() -> None:
        async with hook.get_conn():
            pass

    with pytest.raises(ConnectionConfigError) as err:
        asyncio.run(run())
    return err.value


@pytest.mark.parametrize("build", CASES, ids=[case.__name__ for case in CASES])
def test_broken_setup_is_diagnosed_precisely(build, tmp_path, monkeypatch, caplog, capsys):
    monkeypatch.setattr(_exec, "EXEC_TIMEOUT_SECONDS", 1.0)
    case = Case(tmp_path)
    code, named = build(case)
    sync_err, async_err = _sync_error(case), _async_error(case)
    assert sync_err.code == async_err.code == code, sync_err.finding.render()
    message = str(sync_err)
    assert named in message
    assert sync_err.finding.fix
    assert sync_err.finding.cause.strip()
    for forbidden in ("Traceback", "ConfigException", "yaml.scanner", "binascii"):
        assert forbidden not in message
    assert [f.code for f in async_err.findings] == [
        f.code for f in sync_err.findings
    ]  # texts may differ by a clock tick
    shown = [message, repr(sync_err), *(json.dumps(f.to_dict()) for f in sync_err.findings), caplog.text]
    shown += list(capsys.readouterr())
    for secret in case.secrets:
        assert secret not in "\n".join(shown)


def test_kubeconfig_with_loopback_server_in_a_pod_warns(tmp_path):
    case = Case(tmp_path)
    case.kubeconfig(_kubeconfig(server="https://127.0.0.1:6443"))
    case.pod()
    resolution = K8sReconcileHook(environ=case.env, **case.args).resolve()
    codes = {finding.code for finding in resolution.warnings}
    assert {"CONN_LOOPBACK_SERVER_IN_POD", "CONN_KUBECONFIG_SHADOWS_INCLUSTER"} <= codes
    assert resolution.source.mode == "kubeconfig_file"
