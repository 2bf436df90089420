"""Kubeconfigs that kubectl reads one way and the package used to read another (issue 6, section 3b).

Each case writes real files and resolves through the sync hook; where a client is built, the test looks at what the
client would send (bearer header and TLS client certificate files).
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.findings import Status
from airflow_k8s_reconcile.hooks._transport.tls import write_for_async
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.testing import certs

NOW = datetime.now(UTC)
CA, _ = certs.self_signed("ca", not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=90))
CERT, KEY = certs.self_signed("alice", not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=90))
EXEC_V1 = {"apiVersion": "client.authentication.k8s.io/v1", "command": "/bin/true"}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _write(tmp_path: Path, user: dict, cluster: dict | None = None, name: str = "config") -> str:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "c1",
                "cluster": cluster
                or {"server": "https://api.example.com:6443", "certificate-authority-data": _b64(CA)},
            }
        ],
        "users": [{"name": "u1", "user": user}],
        "contexts": [{"name": "dev", "context": {"cluster": "c1", "user": "u1"}}],
        "current-context": "dev",
    }
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _hook(path: str, **env: str) -> K8sReconcileHook:
    return K8sReconcileHook(kube_config_path=path, environ={"HOME": "/nonexistent", **env})


def _error(hook: K8sReconcileHook) -> ConnectionConfigError:
    with pytest.raises(ConnectionConfigError) as caught:
        hook.resolve()
    return caught.value


def test_token_file_beats_the_static_token(tmp_path):
    (tmp_path / "token").write_text("FILE-TOKEN\n")
    hook = _hook(_write(tmp_path, {"token": "STATIC-TOKEN", "tokenFile": "token"}))
    with hook.get_conn() as api:
        assert api.configuration.get_api_key_with_prefix("BearerToken") == "Bearer FILE-TOKEN"
    assert hook.resolve().source.credential.token_file == str(tmp_path / "token")


def test_unreadable_token_file_falls_back_to_the_static_token_with_a_warning(tmp_path):
    hook = _hook(_write(tmp_path, {"token": "STATIC-TOKEN", "tokenFile": "missing-token"}))
    with hook.get_conn() as api:
        assert api.configuration.get_api_key_with_prefix("BearerToken") == "Bearer STATIC-TOKEN"
    (warning,) = [item for item in hook.resolve().warnings if item.code == codes.CONN_TOKEN_FILE_MISSING]
    assert warning.status is Status.WARN
    assert "static token" in warning.cause
    assert "STATIC-TOKEN" not in warning.cause


def test_token_and_client_certificate_are_both_sent(tmp_path):
    user = {"token": "STATIC-TOKEN", "client-certificate-data": _b64(CERT), "client-key-data": _b64(KEY)}
    hook = _hook(_write(tmp_path, user))
    with hook.get_conn() as api:
        assert api.configuration.get_api_key_with_prefix("BearerToken") == "Bearer STATIC-TOKEN"
    resolution = hook.resolve()
    files, paths = write_for_async(
        resolution.source, resolution.source.credential
    )  # what the TLS layer loads
    try:
        assert (Path(paths["cert_file"]).read_bytes(), Path(paths["key_file"]).read_bytes()) == (CERT, KEY)
    finally:
        files.remove()
    assert resolution.credential_summary["kind"] == "bearer token and client certificate"
    assert not [item for item in resolution.warnings if item.code == codes.CONN_MULTIPLE_CREDENTIALS]


def test_client_certificate_beats_an_exec_plugin(tmp_path):
    user = {"exec": EXEC_V1 | {"interactiveMode": "Never"}, "client-certificate-data": _b64(CERT),
            "client-key-data": _b64(KEY)}  # fmt: skip
    resolution = _hook(_write(tmp_path, user)).resolve()
    assert resolution.credential_summary["kind"] == "client certificate"
    assert [item.code for item in resolution.warnings] == [codes.CONN_MULTIPLE_CREDENTIALS]


@pytest.mark.parametrize("field", ["certificate-authority-data", "certificate-authority"])
def test_insecure_skip_tls_verify_next_to_a_ca_fails_like_kubectl(tmp_path, field):
    (tmp_path / "ca.crt").write_bytes(CA)
    value = _b64(CA) if field == "certificate-authority-data" else "ca.crt"
    cluster = {"server": "https://api.example.com:6443", "insecure-skip-tls-verify": True, field: value}
    err = _error(_hook(_write(tmp_path, {"token": "T"}, cluster)))
    assert err.finding.code == codes.CONN_TLS_INSECURE_WITH_CA
    assert field in err.finding.cause
    assert "not allowed" in err.finding.cause


def test_insecure_without_a_ca_still_connects_with_the_warning(tmp_path):
    cluster = {"server": "https://api.example.com:6443", "insecure-skip-tls-verify": True}
    resolution = _hook(_write(tmp_path, {"token": "T"}, cluster)).resolve()
    assert resolution.source.verify_ssl is False
    assert codes.CONN_TLS_VERIFY_DISABLED in [item.code for item in resolution.warnings]


def test_basic_auth_is_refused_naming_the_replacement(tmp_path):
    err = _error(_hook(_write(tmp_path, {"username": "admin", "password": "BASIC-PASSWORD"})))
    assert err.finding.code == codes.CONN_BASIC_AUTH_REMOVED
    assert "1.19" in err.finding.cause
    assert "token" in err.finding.fix
    assert "client certificate" in err.finding.fix
    assert "BASIC-PASSWORD" not in str(err)


def test_exec_v1_without_interactive_mode_warns_about_kubectl(tmp_path):
    resolution = _hook(_write(tmp_path, {"exec": EXEC_V1})).resolve()
    (warning,) = [item for item in resolution.warnings if item.code == codes.CONN_KUBECTL_DIFFERENCE]
    assert "interactiveMode" in warning.cause
    assert "kubectl refuses" in warning.cause
    assert "interactiveMode: Never" in warning.fix
    assert not [
        item
        for item in _hook(_write(tmp_path, {"exec": EXEC_V1 | {"interactiveMode": "Never"}}))
        .resolve()
        .warnings
        if item.code == codes.CONN_KUBECTL_DIFFERENCE
    ]


def test_tilde_in_kubeconfig_variable_warns_that_kubectl_does_not_expand_it(tmp_path):
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    _write(home / ".kube", {"token": "T"})
    hook = K8sReconcileHook(
        auth_mode="kubeconfig_file", environ={"HOME": str(home), "KUBECONFIG": "~/.kube/config"}
    )
    (warning,) = [item for item in hook.resolve().warnings if item.code == codes.CONN_KUBECTL_DIFFERENCE]
    assert "'~/.kube/config'" in warning.cause
    assert "kubectl does not" in warning.cause
    assert "$HOME/.kube/config" in warning.fix
