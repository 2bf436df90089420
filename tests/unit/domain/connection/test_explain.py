from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from airflow_k8s_reconcile.domain.common.redaction import fingerprint
from airflow_k8s_reconcile.domain.connection.credentials.exec_plugin import interpret_exec_output
from airflow_k8s_reconcile.domain.connection.credentials.kinds import ExecSpec
from airflow_k8s_reconcile.domain.connection.explanation import explain, explain_lines
from airflow_k8s_reconcile.domain.connection.files import FileState, FileView
from airflow_k8s_reconcile.domain.connection.resolution import Resolution, resolve
from airflow_k8s_reconcile.domain.connection.settings import (
    ConnectionSettings,
    merge_settings,
    settings_from_extra,
)
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.testing import certs

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SA = "/var/run/secrets/kubernetes.io/serviceaccount"
POD_ENV = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}

TOKEN = "SECRET-TOKEN-4f9a2b7c"
PASSWORD = "SECRET-PASSWORD-77"
PROXY_PASSWORD = "SECRET-PROXY-PASS"
ENV_VALUE = "SECRET-ENV-VALUE"
REFRESH = "SECRET-REFRESH-TOKEN"


def _key_and_cert(start: timedelta = -timedelta(days=1)) -> tuple[bytes, bytes]:
    return certs.self_signed("robot", not_before=NOW + start, not_after=NOW + start + timedelta(days=365))


CERT, KEY = _key_and_cert()
_, OTHER_KEY = _key_and_cert()
KEY_B64 = base64.b64encode(KEY).decode()
KEY_BODY = KEY.decode().splitlines()[1]  # a line of the base64 key body


def _jwt(**claims: Any) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.SECRET-JWT-SIGNATURE"


SA_JWT = _jwt(
    iss="https://kubernetes.default.svc",
    sub="system:serviceaccount:airflow:worker",
    exp=int((NOW + timedelta(hours=1)).timestamp()),
    **{"kubernetes.io": {"namespace": "airflow", "serviceaccount": {"name": "worker"}}},
)
EXPIRED_JWT = _jwt(sub="robot", exp=int((NOW - timedelta(hours=1)).timestamp()))
SECRETS = [
    TOKEN,
    PASSWORD,
    PROXY_PASSWORD,
    ENV_VALUE,
    REFRESH,
    KEY_B64,
    KEY_BODY,
    SA_JWT,
    EXPIRED_JWT,
    "SECRET-JWT",
]


def kubeconfig(user: dict[str, Any], *, cluster: dict[str, Any] | None = None, current: str = "dev") -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "current-context": current,
            "clusters": [{"name": "c1", "cluster": cluster or {"server": "https://api.example.com:6443"}}],
            "contexts": [{"name": "dev", "context": {"cluster": "c1", "user": "u1", "namespace": "team"}}],
            "users": [{"name": "u1", "user": user}],
        }
    )


EXEC_USER = {
    "exec": {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "aws",
        "env": [{"name": "AWS_SECRET", "value": ENV_VALUE}],
        "interactiveMode": "Never",
    }
}
CERT_USER = {"client-certificate-data": base64.b64encode(CERT).decode(), "client-key-data": KEY_B64}
INLINE_BODIES = {
    "token": kubeconfig(
        {"token": TOKEN}, cluster={"server": "https://a:6443", "proxy-url": f"http://u:{PROXY_PASSWORD}@p:1"}
    ),
    "basic": kubeconfig({"username": "admin", "password": PASSWORD}),
    "cert": kubeconfig(CERT_USER),
    "mismatch": kubeconfig({**CERT_USER, "client-key-data": base64.b64encode(OTHER_KEY).decode()}),
    "expired-jwt": kubeconfig({"token": EXPIRED_JWT}),
    "exec": kubeconfig(EXEC_USER),
    "oidc": kubeconfig({"auth-provider": {"name": "oidc", "config": {"refresh-token": REFRESH}}}),
    "azure": kubeconfig({"auth-provider": {"name": "azure", "config": {"access-token": REFRESH}}}),
    "unknown-context": kubeconfig({"token": TOKEN}, current="prod"),
    "pem-in-key-data": kubeconfig({"client-certificate-data": "QQ==", "client-key-data": KEY.decode()}),
    "bad-yaml": f"users:\n- name: u1\n  user: {{token: {TOKEN}\n  password: [{PASSWORD}\n",
    "tab-yaml": f"users:\n\t- token: {TOKEN}\n",
    "base64": base64.b64encode(kubeconfig({"token": TOKEN}).encode()).decode(),
    "scalar": TOKEN,
}

Scenario = tuple[dict[str, Any], dict[str, Any], dict[str, str], dict[str, FileState]]


def _scenarios() -> dict[str, Scenario]:
    out: dict[str, Scenario] = {}
    for name, body in INLINE_BODIES.items():
        out[f"inline-{name}"] = ({"kube_config": body}, {}, {}, {})
    out["inline-exec-allowed"] = (
        {"kube_config": INLINE_BODIES["exec"], "allow_exec_plugins": True},
        {},
        {},
        {},
    )
    out["inline-token-proxy-setting"] = (
        {"kube_config": INLINE_BODIES["token"], "proxy_url": f"http://bob:{PROXY_PASSWORD}@proxy:3128"}, {}, {}, {}
    )  # fmt: skip
    token_file = {
        "/k": FileState.file("/k", kubeconfig({"tokenFile": "/tok"})),
        "/tok": FileState.file("/tok", TOKEN),
    }
    out["file-token-file"] = ({"kube_config_path": "/k"}, {}, {}, token_file)
    sa = {
        f"{SA}/token": FileState.file(f"{SA}/token", SA_JWT),
        f"{SA}/ca.crt": FileState.file(f"{SA}/ca.crt", CERT),
    }
    out["in-cluster"] = ({"auth_mode": "in_cluster"}, {}, POD_ENV, sa)
    expired_sa = {**sa, f"{SA}/token": FileState.file(f"{SA}/token", EXPIRED_JWT)}
    out["in-cluster-expired"] = ({"auth_mode": "in_cluster"}, {}, POD_ENV, expired_sa)
    out["in-cluster-bad-ca"] = ({}, {}, POD_ENV, {**sa, f"{SA}/ca.crt": FileState.file(f"{SA}/ca.crt", KEY)})
    out["auto-nothing"] = ({}, {}, {}, {})
    out["auto-pod-shadow"] = (
        {"kube_config_path": "/k"}, {}, POD_ENV, {**sa, "/k": FileState.file("/k", INLINE_BODIES["token"])}
    )  # fmt: skip
    out["bad-proxy-setting"] = ({"proxy_url": f"gopher://bob:{PROXY_PASSWORD}@p:1"}, {}, {}, {})
    out["bad-proxy-argument"] = ({}, {"proxy_url": f"bob:{PROXY_PASSWORD}@p"}, {}, {})
    out["bad-server-argument"] = ({}, {"api_server": f"bob:{PASSWORD}@host"}, {}, {})
    return out


def _run(
    scenario: Scenario,
) -> tuple[ConnectionSettings | None, Resolution | None, ConnectionConfigError | None]:
    extra, arguments, environ, fs = scenario
    settings: ConnectionSettings | None = None
    try:
        settings = merge_settings(arguments, settings_from_extra("k8s_reconcile", extra))
        read = FileView.of(fs).require
        return (
            settings,
            resolve(settings, environ=environ, home="/home/a", read=lambda p: read(p)[0], now=NOW),
            None,
        )
    except ConnectionConfigError as err:
        return settings, None, err


def _exec_outputs() -> list[Callable[[], object]]:
    spec = ExecSpec(
        command="aws", api_version="client.authentication.k8s.io/v1", env=(("AWS_SECRET", ENV_VALUE),)
    )
    good = json.dumps({"apiVersion": spec.api_version, "kind": "ExecCredential", "status": {"token": TOKEN}})
    cases = [
        {"stdout": good},
        {"stdout": good.replace(spec.api_version, "client.authentication.k8s.io/v1beta1")},
        {"stdout": TOKEN},
        {"stdout": json.dumps({"apiVersion": spec.api_version, "kind": TOKEN, "status": {"token": TOKEN}})},
        {"stdout": json.dumps({"apiVersion": TOKEN, "kind": "ExecCredential"})},
        {
            "stdout": good,
            "returncode": 1,
            "stderr": f"token={TOKEN} password: {PASSWORD} Bearer {SA_JWT}\n{KEY.decode()}",
        },
        {"stdout": good, "not_found": True},
        {"stdout": good, "timed_out": True},
    ]
    base = {"returncode": 0, "stderr": "", "timed_out": False, "not_found": False}
    return [
        lambda case=case: interpret_exec_output(spec, now=NOW, **{**base, **case})  # type: ignore[misc]
        for case in cases
    ]


def _texts_of(value: object) -> list[str]:
    return [repr(value), str(value)]


def _assert_clean(texts: list[str]) -> None:
    blob = "\n".join(texts)
    for secret in SECRETS:
        assert secret not in blob
    for leak in (
        "Traceback",
        "while parsing",
        "while scanning",
        "<unicode string>",
        "-----BEGIN PRIVATE KEY",
    ):
        assert leak not in blob


@pytest.mark.parametrize("name", sorted(_scenarios()))
def test_no_secret_leaks_from_any_diagnosis(name: str) -> None:
    settings, result, err = _run(_scenarios()[name])
    texts: list[str] = _texts_of(settings)
    if err is not None:
        texts += [*_texts_of(err), json.dumps([item.to_dict() for item in err.findings])]
        texts += [item.render() for item in err.findings] + _texts_of(err.findings)
        assert err.__context__ is None or isinstance(err.__context__, ConnectionConfigError)
    if result is not None:
        explanation = explain(result)
        texts += [json.dumps(explanation), *explain_lines(explanation), repr(result), repr(result.source)]
        texts += [repr(result.source.credential), json.dumps([item.to_dict() for item in result.warnings])]
    assert err is not None or result is not None
    _assert_clean(texts)


@pytest.mark.parametrize("index", range(len(_exec_outputs())))
def test_no_secret_leaks_from_exec_plugin_outcomes(index: int) -> None:
    texts: list[str] = []
    try:
        texts += _texts_of(_exec_outputs()[index]())
    except ConnectionConfigError as err:
        texts += [*_texts_of(err), json.dumps([item.to_dict() for item in err.findings])]
    _assert_clean(texts)


def test_no_secret_leaks_from_file_state_repr() -> None:
    _assert_clean([repr(FileState.file("/t", TOKEN)), repr(FileState.file("/k", KEY))])


# --- explain ---------------------------------------------------------------------------------------------------


def test_explain_in_cluster_shape() -> None:
    _, result, err = _run(_scenarios()["in-cluster"])
    assert err is None
    assert result is not None
    explanation = explain(result)
    assert json.loads(json.dumps(explanation)) == explanation
    assert explanation == {
        "mode": "in_cluster",
        "mode_reason": "auth_mode 'in_cluster' set by connection",
        "server": "https://10.96.0.1:443",
        "context": None,
        "kubeconfig": None,
        "namespace": "default",
        "namespace_source": "default",
        "credential": {
            "kind": "service-account token file",
            "token_file": f"{SA}/token",
            "fingerprint": fingerprint(SA_JWT),
            "length": len(SA_JWT),
            "jwt": True,
            "claims": {
                "iss": "https://kubernetes.default.svc",
                "sub": "system:serviceaccount:airflow:worker",
                "exp": "2026-05-01T13:00:00Z",
                "kubernetes.io/namespace": "airflow",
                "kubernetes.io/serviceaccount": "worker",
            },
            "expires_at": "2026-05-01T13:00:00Z",
            "ca": {"certificates": 1, "subjects": ["CN=robot"]},
        },
        "tls": {"verify": True, "ca_source": f"service account CA '{SA}/ca.crt'", "tls_server_name": None},
        "proxy": None,
        "proxy_origin": None,
        "proxy_reason": "No proxy is configured.",
        "request_timeout": 30.0,
        "sources_tried": [f"in-cluster: used (https://10.96.0.1:443, token {SA}/token)"],
        "warnings": [],
    }


def test_explain_kubeconfig_client_certificate_and_proxy() -> None:
    scenario: Scenario = (
        {"kube_config": INLINE_BODIES["cert"], "proxy_url": f"http://bob:{PROXY_PASSWORD}@proxy:3128",
         "verify_ssl": False},
        {"namespace": "jobs"}, {}, {},
    )  # fmt: skip
    _, result, err = _run(scenario)
    assert err is None
    assert result is not None
    explanation = explain(result)
    assert explanation["mode"] == "kubeconfig_inline"
    assert (explanation["kubeconfig"], explanation["context"]) == ("<inline>", "dev")
    assert (explanation["namespace"], explanation["namespace_source"]) == ("jobs", "argument 'namespace'")
    credential = explanation["credential"]
    assert isinstance(credential, dict)
    assert (credential["kind"], credential["subject"]) == ("client certificate", "CN=robot")
    assert credential["not_after"] == "2027-04-30T12:00:00Z"
    assert explanation["proxy"] == "http://***@proxy:3128"
    assert explanation["tls"] == {"verify": False, "ca_source": "system trust store", "tls_server_name": None}
    assert [item["code"] for item in explanation["warnings"]] == ["CONN_TLS_VERIFY_DISABLED"]  # type: ignore[index, union-attr]
    lines = explain_lines(explanation)
    assert lines[0].startswith(
        "mode: kubeconfig_inline (the inline kubeconfig is set by connection and auth_mode is auto)"
    )
    assert "kubeconfig: <inline> (context 'dev')" in lines
    assert "namespace: jobs (from argument 'namespace')" in lines
    assert any(
        line.startswith("credential: client certificate, CN=robot, expires 2027-04-30") for line in lines
    )
    assert "tls: NOT verified, CA from system trust store" in lines
    assert "proxy: http://***@proxy:3128 (from connection field 'proxy_url')" in lines
    assert lines[-1].startswith("WARN [CONN_TLS_VERIFY_DISABLED]")


def test_explain_lists_every_source_tried_in_auto_mode() -> None:
    fs = {"/home/a/.kube/config": FileState.file("/home/a/.kube/config", INLINE_BODIES["exec"])}
    _, result, err = _run(({}, {}, POD_ENV, fs))
    assert err is None
    assert result is not None
    explanation = explain(result)
    assert explanation["sources_tried"] == [
        f"in-cluster: rejected: The service account token file '{SA}/token' does not exist.",
        "kubeconfig /home/a/.kube/config: used (context 'dev')",
    ]
    assert explanation["credential"] == {
        "kind": "exec plugin aws",
        "command": "aws",
        "api_version": "client.authentication.k8s.io/v1",
        "env_names": ["AWS_SECRET"],
        "provide_cluster_info": False,
        "install_hint": None,
    }
    assert "credential: exec plugin aws" in explain_lines(explanation)
