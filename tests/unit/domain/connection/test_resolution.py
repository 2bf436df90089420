from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    ClientCertCredential,
    ExecCredential,
    TokenCredential,
)
from airflow_k8s_reconcile.domain.connection.files import FileState
from airflow_k8s_reconcile.domain.connection.resolution import Resolution, resolve
from airflow_k8s_reconcile.domain.connection.settings import (
    AuthMode,
    ConnectionSettings,
    merge_settings,
    settings_from_extra,
)
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.findings import Status
from airflow_k8s_reconcile.testing import certs

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
HOME = "/home/airflow"
SA = "/var/run/secrets/kubernetes.io/serviceaccount"
POD_ENV = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
KUBECONFIG_PATH = f"{HOME}/.kube/config"
SA_TOKEN = "SECRET-TOKEN-sa"


def pem_pair(
    *, cn: str = "admin", start: timedelta = -timedelta(days=1), days: int = 365
) -> tuple[bytes, bytes]:
    return certs.self_signed(cn, not_before=NOW + start, not_after=NOW + start + timedelta(days=days))


CA_PEM, _ = pem_pair(cn="kubernetes-ca")
OLD_CERT, OLD_KEY = pem_pair(start=-timedelta(days=400))
B64_CA = base64.b64encode(CA_PEM).decode()


def jwt(**claims: Any) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.SECRET-SIGNATURE"


def kubeconfig_yaml(
    *,
    server: str = "https://api.example.com:6443",
    cluster: dict[str, Any] | None = None,
    user: dict[str, Any] | None = None,
    namespace: str | None = None,
    contexts: dict[str, dict[str, Any]] | None = None,
    current: str = "dev",
) -> str:
    context: dict[str, Any] = {"cluster": "c1", "user": "u1"}
    if namespace:
        context["namespace"] = namespace
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": current,
        "clusters": [
            {"name": "c1", "cluster": cluster or {"server": server, "certificate-authority-data": B64_CA}}
        ],
        "contexts": [{"name": n, "context": c} for n, c in (contexts or {"dev": context}).items()],
        "users": [{"name": "u1", "user": user if user is not None else {"token": "SECRET-TOKEN-kube"}}],
    }
    return yaml.safe_dump(doc)


def sa_files(
    *, token: str | None = SA_TOKEN, ca: bytes | None = CA_PEM, namespace: str | None = "airflow"
) -> dict[str, FileState]:
    files: dict[str, FileState] = {}
    for name, content in (("token", token), ("ca.crt", ca), ("namespace", namespace)):
        if content is not None:
            files[f"{SA}/{name}"] = FileState.file(f"{SA}/{name}", content)
    return files


def settings_of(
    arguments: dict[str, Any] | None = None, extra: dict[str, Any] | None = None
) -> ConnectionSettings:
    return merge_settings(arguments or {}, settings_from_extra("k8s_reconcile", extra or {}))


class Hook:
    """What a hook does: resolve once, with a read port over a fake filesystem (absent paths are missing)."""

    def __init__(self, fs: dict[str, FileState], environ: dict[str, str] | None = None) -> None:
        self.fs, self.environ, self.read = fs, environ or {}, []

    def _read(self, path: str) -> FileState:
        self.read.append(path)
        return self.fs.get(path, FileState.missing(path))

    def resolve(self, settings: ConnectionSettings, now: datetime = NOW) -> Resolution:
        return resolve(settings, environ=self.environ, home=HOME, read=self._read, now=now)

    def error(self, settings: ConnectionSettings) -> ConnectionConfigError:
        with pytest.raises(ConnectionConfigError) as excinfo:
            self.resolve(settings)
        return excinfo.value


# --- in-cluster ------------------------------------------------------------------------------------------------


def test_resolve_in_cluster_uses_service_account() -> None:
    hook = Hook(sa_files(), POD_ENV)
    result = hook.resolve(settings_of(extra={"auth_mode": "in_cluster"}))
    source = result.source
    assert (source.mode, source.server, source.ca_pem) == (
        AuthMode.IN_CLUSTER,
        "https://10.96.0.1:443",
        CA_PEM,
    )
    assert source.credential == TokenCredential(
        token="SECRET-TOKEN-sa", origin="service_account_token_file", token_file=f"{SA}/token"
    )
    assert (result.namespace, result.namespace_source) == (
        "airflow",
        f"service account namespace file '{SA}/namespace'",
    )
    assert result.mode_reason == "auth_mode 'in_cluster' set by connection"
    assert result.warnings == ()


def test_resolve_in_cluster_ipv6_host_and_custom_directory() -> None:
    sa = "/mnt/sa"
    fs = {
        f"{sa}/token": FileState.file(f"{sa}/token", "t"),
        f"{sa}/ca.crt": FileState.file(f"{sa}/ca.crt", CA_PEM),
    }
    env = {"KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "443"}
    result = Hook(fs, env).resolve(settings_of(extra={"auth_mode": "in_cluster", "service_account_dir": sa}))
    assert result.source.server == "https://[fd00:10:96::1]:443"
    assert (result.namespace, result.namespace_source) == ("default", "default")


@pytest.mark.parametrize(
    ("environ", "fs", "code", "fragments"),
    [
        pytest.param({}, sa_files(), codes.CONN_INCLUSTER_ENV_UNSET,
                     ["KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set"], id="c1-unset"),
        pytest.param({"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, sa_files(), codes.CONN_INCLUSTER_ENV_UNSET,
                     ["variable KUBERNETES_SERVICE_PORT is not set"], id="c1-port-unset"),
        pytest.param({**POD_ENV, "KUBERNETES_SERVICE_HOST": " "}, sa_files(), codes.CONN_INCLUSTER_ENV_EMPTY,
                     ["KUBERNETES_SERVICE_HOST is set but empty"], id="c2-empty"),
        pytest.param({**POD_ENV, "KUBERNETES_SERVICE_PORT": "https"}, sa_files(), codes.CONN_BAD_VALUE,
                     ["'https'"], id="bad-port"),
        pytest.param(POD_ENV, sa_files(token=None), codes.CONN_SA_TOKEN_MISSING,
                     [f"'{SA}/token'", "automountServiceAccountToken",
                      "workers/scheduler/triggerer/apiServer .serviceAccount.automountServiceAccountToken"],
                     id="c3-token-missing"),
        pytest.param(POD_ENV, sa_files(token="\n"), codes.CONN_SA_TOKEN_EMPTY, [f"'{SA}/token' is empty"],
                     id="c4-token-empty"),
        pytest.param(POD_ENV, {**sa_files(), f"{SA}/token": FileState.unreadable(f"{SA}/token", "Permission denied")},
                     codes.CONN_FILE_UNREADABLE, ["Permission denied", "fsGroup"], id="c5-token-unreadable"),
        pytest.param(POD_ENV, sa_files(ca=None), codes.CONN_SA_CA_MISSING, [f"'{SA}/ca.crt'"], id="c6-ca-missing"),
        pytest.param(POD_ENV, sa_files(ca=b""), codes.CONN_SA_CA_EMPTY, [f"'{SA}/ca.crt' is empty"], id="c7-ca-empty"),
        pytest.param(POD_ENV, sa_files(ca=b"garbage"), codes.CONN_BAD_PEM, ["ca.crt"], id="ca-not-pem"),
        pytest.param(POD_ENV, sa_files(token=jwt(exp=int((NOW - timedelta(hours=2)).timestamp()))),
                     codes.CONN_TOKEN_EXPIRED, ["expired at 2026-05-01T10:00:00Z", "kubelet"], id="sa-token-expired"),
    ],
)  # fmt: skip
def test_resolve_in_cluster_diagnoses(
    environ: dict[str, str], fs: dict[str, FileState], code: str, fragments: list[str]
) -> None:
    err = Hook(fs, environ).error(settings_of(extra={"auth_mode": "in_cluster"}))
    assert err.code == code
    for fragment in fragments:
        assert fragment in str(err)


@pytest.mark.parametrize(
    ("auth_mode", "status"),
    [
        pytest.param("in_cluster", Status.INFO, id="explicit-info"),
        pytest.param("auto", Status.WARN, id="auto-warn"),
    ],
)
def test_resolve_in_cluster_ignores_cluster_context(auth_mode: str, status: Status) -> None:
    settings = settings_of(extra={"auth_mode": auth_mode, "cluster_context": "x"})
    result = Hook(sa_files(), POD_ENV).resolve(settings)
    assert [(item.code, item.status) for item in result.warnings] == [(codes.CONN_SETTING_IGNORED, status)]
    assert "'x'" in result.warnings[0].cause


# --- kubeconfig file and inline --------------------------------------------------------------------------------


def test_resolve_kubeconfig_file_expands_home_and_reads_context() -> None:
    path = f"{HOME}/k/config"
    hook = Hook({path: FileState.file(path, kubeconfig_yaml(namespace="team-a"))})
    result = hook.resolve(settings_of(extra={"kube_config_path": "~/k/config"}))
    source = result.source
    assert (source.mode, source.server, source.context, source.kubeconfig) == (
        AuthMode.KUBECONFIG_FILE, "https://api.example.com:6443", "dev", path)  # fmt: skip
    assert source.ca_pem == CA_PEM
    assert source.credential == TokenCredential(token="SECRET-TOKEN-kube", origin="kubeconfig_token")
    assert (result.namespace, result.namespace_source) == ("team-a", "kubeconfig context 'dev'")
    assert hook.read == [path]


@pytest.mark.parametrize(
    ("state", "code"),
    [
        pytest.param(None, codes.CONN_KUBECONFIG_NOT_FOUND, id="b1-missing"),
        pytest.param(FileState.directory("/k"), codes.CONN_KUBECONFIG_IS_DIRECTORY, id="b3-directory"),
        pytest.param(
            FileState.unreadable("/k", "Permission denied"), codes.CONN_KUBECONFIG_UNREADABLE, id="eacces"
        ),
        pytest.param(FileState.file("/k", b""), codes.CONN_KUBECONFIG_EMPTY, id="b4-empty"),
        pytest.param(
            FileState.file("/k", b"a: [1\nb: SECRET-TOKEN-x"), codes.CONN_KUBECONFIG_BAD_YAML, id="b5-yaml"
        ),
    ],
)
def test_resolve_kubeconfig_file_diagnoses_name_the_path(state: FileState | None, code: str) -> None:
    err = Hook({"/k": state} if state else {}).error(settings_of(extra={"kube_config_path": "/k"}))
    assert err.code == code
    assert "'/k'" in err.finding.cause
    assert "connection field 'kube_config_path'" in err.finding.cause or code in {
        codes.CONN_KUBECONFIG_EMPTY,
        codes.CONN_KUBECONFIG_BAD_YAML,
    }


def test_resolve_kubeconfig_reads_referenced_files_in_a_later_round() -> None:
    cert, key = pem_pair()
    cluster = {"server": "https://a:6443", "certificate-authority": "pki/ca.crt"}
    user = {"client-certificate": "/pki/admin.crt", "client-key": "/pki/admin.key"}
    fs = {
        "/etc/kube/config": FileState.file("/etc/kube/config", kubeconfig_yaml(cluster=cluster, user=user)),
        "/etc/kube/pki/ca.crt": FileState.file("/etc/kube/pki/ca.crt", CA_PEM),
        "/pki/admin.crt": FileState.file("/pki/admin.crt", cert),
        "/pki/admin.key": FileState.file("/pki/admin.key", key),
    }
    hook = Hook(fs)
    result = hook.resolve(settings_of(extra={"kube_config_path": "/etc/kube/config"}))
    assert result.source.credential == ClientCertCredential(cert_pem=cert, key_pem=key)
    assert result.source.ca_source == "file '/etc/kube/pki/ca.crt'"
    assert result.credential_summary["subject"] == "CN=admin"
    assert sorted(hook.read) == sorted(fs)


def test_resolve_kubeconfig_token_file_keeps_path_for_rotation() -> None:
    fs = {
        "/k": FileState.file("/k", kubeconfig_yaml(user={"tokenFile": "/var/run/robot/token"})),
        "/var/run/robot/token": FileState.file("/var/run/robot/token", "SECRET-TOKEN-rot"),
    }
    credential = Hook(fs).resolve(settings_of(extra={"kube_config_path": "/k"})).source.credential
    assert isinstance(credential, TokenCredential)
    assert credential.token_file == "/var/run/robot/token"


def test_resolve_exec_plugin_file_trusted_inline_refused_unless_allowed() -> None:
    exec_user = {
        "exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws", "args": ["eks"]}
    }
    text = kubeconfig_yaml(user=exec_user)
    file_result = Hook({"/k": FileState.file("/k", text)}).resolve(
        settings_of(extra={"kube_config_path": "/k"})
    )
    assert isinstance(file_result.source.credential, ExecCredential)
    assert file_result.credential_summary["kind"] == "exec plugin aws"
    err = Hook({}).error(settings_of(extra={"kube_config": text}))
    assert err.code == codes.CONN_EXEC_PLUGIN_NOT_ALLOWED
    allowed = Hook({}).resolve(settings_of(extra={"kube_config": text, "allow_exec_plugins": "true"}))
    assert isinstance(allowed.source.credential, ExecCredential)
    assert allowed.source.kubeconfig == "<inline>"


def test_resolve_inline_relative_path_suggests_data_field() -> None:
    text = kubeconfig_yaml(cluster={"server": "https://a:6443", "certificate-authority": "ca.crt"})
    err = Hook({}).error(settings_of(extra={"kube_config": text}))
    assert err.code == codes.CONN_RELATIVE_PATH_INLINE
    assert "certificate-authority-data" in err.finding.fix


def test_resolve_kubeconfig_env_merges_entries_and_warns_about_missing_ones() -> None:
    first = yaml.safe_dump(
        {"current-context": "dev", "contexts": [{"name": "dev", "context": {"cluster": "c1", "user": "u1"}}]}
    )
    second = kubeconfig_yaml(current="other")
    fs = {"/a": FileState.file("/a", first), "/c": FileState.file("/c", second)}
    hook = Hook(fs, {"KUBECONFIG": "/a:/missing:/c"})
    result = hook.resolve(settings_of(extra={"auth_mode": "kubeconfig_file"}))
    assert result.source.kubeconfig == "/a:/c"
    assert result.source.context == "dev"
    assert [(item.code, item.evidence["path"]) for item in result.warnings] == [
        (codes.CONN_KUBECONFIG_ENTRY_MISSING, "/missing")
    ]
    assert "kubeconfig /missing: missing ($KUBECONFIG entry skipped)" in result.sources_tried
    assert "~/.kube/config: not tried, because $KUBECONFIG is set" in result.sources_tried


def test_resolve_kubeconfig_env_all_missing_names_every_entry() -> None:
    err = Hook({}, {"KUBECONFIG": "/x/one:/x/two"}).error(settings_of(extra={"auth_mode": "kubeconfig_file"}))
    assert err.code == codes.CONN_KUBECONFIG_NOT_FOUND
    assert "'/x/one', '/x/two'" in err.finding.cause


# --- auto ------------------------------------------------------------------------------------------------------


def test_resolve_auto_prefers_complete_in_cluster_and_notes_ignored_kubeconfig() -> None:
    hook = Hook(
        {**sa_files(), "/k": FileState.file("/k", kubeconfig_yaml())}, {**POD_ENV, "KUBECONFIG": "/k"}
    )
    result = hook.resolve(settings_of())
    assert result.source.mode is AuthMode.IN_CLUSTER
    assert result.mode_reason.startswith("auto: the in-cluster environment is complete")
    assert [item.code for item in result.warnings] == [codes.CONN_KUBECONFIG_IGNORED]
    assert "/k" not in hook.read


def test_resolve_auto_outside_pod_uses_home_kubeconfig_and_records_in_cluster_rejection() -> None:
    result = Hook({KUBECONFIG_PATH: FileState.file(KUBECONFIG_PATH, kubeconfig_yaml())}).resolve(
        settings_of()
    )
    assert result.source.mode is AuthMode.KUBECONFIG_FILE
    assert [(item.code, item.status) for item in result.attempts] == [
        (codes.CONN_INCLUSTER_ENV_UNSET, Status.INFO),
        (codes.CONN_SOURCE_SELECTED, Status.PASS),
    ]
    assert result.sources_tried[0].startswith("in-cluster: rejected: The environment variables")
    assert "KUBERNETES_SERVICE_HOST" in result.mode_reason


def test_resolve_auto_pod_without_token_falls_back_and_warns_about_loopback() -> None:
    fs = {KUBECONFIG_PATH: FileState.file(KUBECONFIG_PATH, kubeconfig_yaml(server="https://127.0.0.1:6443"))}
    result = Hook(fs, POD_ENV).resolve(settings_of())
    assert result.attempts[0].code == codes.CONN_SA_TOKEN_MISSING
    assert [item.code for item in result.warnings] == [codes.CONN_LOOPBACK_SERVER_IN_POD]


@pytest.mark.parametrize(
    ("environ", "fs", "fragments", "codes_found", "fix_fragment"),
    [
        pytest.param({}, {}, ["KUBERNETES_SERVICE_HOST", f"'{KUBECONFIG_PATH}'", "does not exist"],
                     [codes.CONN_INCLUSTER_ENV_UNSET, codes.CONN_KUBECONFIG_NOT_FOUND], "kube_config_path",
                     id="a2-laptop-without-kubeconfig"),
        pytest.param(POD_ENV, {}, [f"'{SA}/token' does not exist", f"'{KUBECONFIG_PATH}'"],
                     [codes.CONN_SA_TOKEN_MISSING, codes.CONN_KUBECONFIG_NOT_FOUND], "automountServiceAccountToken",
                     id="a2-pod-without-token"),
        pytest.param({}, {KUBECONFIG_PATH: FileState.file(KUBECONFIG_PATH, kubeconfig_yaml(current="prod"))},
                     ["KUBERNETES_SERVICE_HOST", "context 'prod'"],
                     [codes.CONN_INCLUSTER_ENV_UNSET, codes.CONN_UNKNOWN_CONTEXT], "'dev'",
                     id="broken-kubeconfig-keeps-its-fix"),
    ],
)  # fmt: skip
def test_resolve_auto_when_everything_fails_reports_every_reason(
    environ: dict[str, str],
    fs: dict[str, FileState],
    fragments: list[str],
    codes_found: list[str],
    fix_fragment: str,
) -> None:
    err = Hook(fs, environ).error(settings_of())
    assert err.code == codes.CONN_NO_SOURCE_FOUND
    for fragment in fragments:
        assert fragment in err.finding.cause
    assert fix_fragment in err.finding.fix
    assert [item.code for item in err.findings] == [*codes_found, codes.CONN_NO_SOURCE_FOUND]


# --- warnings --------------------------------------------------------------------------------------------------


def test_resolve_explicit_kubeconfig_in_pod_with_token_warns_shadow_and_loopback() -> None:
    fs = {**sa_files(), "/k": FileState.file("/k", kubeconfig_yaml(server="https://localhost:6443"))}
    result = Hook(fs, POD_ENV).resolve(settings_of(extra={"kube_config_path": "/k"}))
    assert [item.code for item in result.warnings] == [
        codes.CONN_KUBECONFIG_SHADOWS_INCLUSTER,
        codes.CONN_LOOPBACK_SERVER_IN_POD,
    ]
    assert "kube_config_path is set by connection and auth_mode is auto" in result.warnings[0].cause


def test_resolve_explicit_kubeconfig_outside_pod_has_no_pod_warnings() -> None:
    fs = {"/k": FileState.file("/k", kubeconfig_yaml(server="https://127.0.0.1:6443"))}
    hook = Hook(fs)
    assert hook.resolve(settings_of(extra={"kube_config_path": "/k"})).warnings == ()
    assert hook.read == ["/k"]


@pytest.mark.parametrize(
    ("extra", "cluster", "by"),
    [
        pytest.param({"verify_ssl": False}, None, "verify_ssl=false", id="setting"),
        pytest.param({}, {"server": "https://a:6443", "insecure-skip-tls-verify": True},
                     "insecure-skip-tls-verify", id="kubeconfig"),
    ],
)  # fmt: skip
def test_resolve_tls_verify_disabled_warns(
    extra: dict[str, Any], cluster: dict[str, Any] | None, by: str
) -> None:
    fs = {"/k": FileState.file("/k", kubeconfig_yaml(cluster=cluster))}
    result = Hook(fs).resolve(settings_of(extra={"kube_config_path": "/k", **extra}))
    assert result.source.verify_ssl is False
    assert [item.code for item in result.warnings] == [codes.CONN_TLS_VERIFY_DISABLED]
    assert by in result.warnings[0].cause
    assert "Never recommended" in result.warnings[0].fix


@pytest.mark.parametrize(
    ("user", "code"),
    [
        pytest.param({"token": jwt(exp=int((NOW - timedelta(minutes=1)).timestamp()))}, codes.CONN_TOKEN_EXPIRED,
                     id="h1-static-token-expired"),
        pytest.param({"client-certificate-data": base64.b64encode(OLD_CERT).decode(),
                      "client-key-data": base64.b64encode(OLD_KEY).decode()},
                     codes.CONN_CLIENT_CERT_EXPIRED, id="g12-expired-cert"),
        pytest.param({"client-certificate-data": base64.b64encode(pem_pair()[0]).decode(),
                      "client-key-data": base64.b64encode(pem_pair()[1]).decode()},
                     codes.CONN_CLIENT_KEY_MISMATCH, id="g10-mismatch"),
    ],
)  # fmt: skip
def test_resolve_fails_on_unusable_credentials(user: dict[str, Any], code: str) -> None:
    err = Hook({"/k": FileState.file("/k", kubeconfig_yaml(user=user))}).error(
        settings_of(extra={"kube_config_path": "/k"})
    )
    assert err.code == code
    assert err.findings[0].code == codes.CONN_SOURCE_SELECTED


def test_resolve_expiring_token_is_a_warning() -> None:
    user = {"token": jwt(exp=int((NOW + timedelta(minutes=5)).timestamp()))}
    result = Hook({"/k": FileState.file("/k", kubeconfig_yaml(user=user))}).resolve(
        settings_of(extra={"kube_config_path": "/k"})
    )
    assert [item.code for item in result.warnings] == [codes.CONN_TOKEN_EXPIRING]


# --- overrides -------------------------------------------------------------------------------------------------


def test_resolve_overrides_apply_on_top_of_the_source() -> None:
    other_ca, _ = pem_pair(cn="corp-ca")
    fs = {
        "/k": FileState.file(
            "/k", kubeconfig_yaml(cluster={"server": "https://a:6443", "proxy-url": "http://kp:1"})
        ),
        "/etc/ssl/corp.pem": FileState.file("/etc/ssl/corp.pem", other_ca),
    }
    extra = {
        "kube_config_path": "/k",
        "api_server": "https://10.1.2.3:6443",
        "ca_bundle": "/etc/ssl/corp.pem",
        "tls_server_name": "kubernetes.default.svc",
        "proxy_url": "http://bob:PROXY-PASS@proxy:3128",
        "request_timeout": 5,
    }
    source = Hook(fs).resolve(settings_of(extra=extra)).source
    assert source.server == "https://10.1.2.3:6443"
    assert (source.ca_pem, source.ca_source) == (other_ca, "ca_bundle file '/etc/ssl/corp.pem' (connection)")
    assert source.tls_server_name == "kubernetes.default.svc"
    assert source.proxy_url == "http://bob:PROXY-PASS@proxy:3128"
    assert source.proxy_url_redacted == "http://***@proxy:3128"
    assert source.request_timeout == 5.0


def test_resolve_ca_bundle_pem_text_and_skips_kubeconfig_ca_file() -> None:
    cluster = {"server": "https://a:6443", "certificate-authority": "/never/read.crt"}
    hook = Hook({"/k": FileState.file("/k", kubeconfig_yaml(cluster=cluster))})
    source = hook.resolve(settings_of({"ca_bundle": CA_PEM.decode()}, {"kube_config_path": "/k"})).source
    assert (source.ca_pem, source.ca_source) == (CA_PEM.strip(), "ca_bundle PEM text (argument)")
    assert "/never/read.crt" not in hook.read


def test_resolve_api_server_override_allows_cluster_without_server() -> None:
    fs = {"/k": FileState.file("/k", kubeconfig_yaml(cluster={"certificate-authority-data": B64_CA}))}
    assert Hook(fs).error(settings_of(extra={"kube_config_path": "/k"})).code == codes.CONN_NO_SERVER
    result = Hook(fs).resolve(settings_of({"api_server": "https://b:443"}, {"kube_config_path": "/k"}))
    assert result.source.server == "https://b:443"


# --- namespace precedence --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "extra", "mode", "expected"),
    [
        pytest.param({"namespace": "arg"}, {"namespace": "conn"}, "kubeconfig", ("arg", "argument 'namespace'"),
                     id="argument-beats-connection"),
        pytest.param({}, {"namespace": "conn"}, "kubeconfig", ("conn", "connection field 'namespace'"),
                     id="connection-beats-kubeconfig-context"),
        pytest.param({}, {}, "kubeconfig", ("ctx", "kubeconfig context 'dev'"),
                     id="kubeconfig-context-beats-service-account"),
        pytest.param({"namespace": "arg"}, {}, "in_cluster", ("arg", "argument 'namespace'"),
                     id="argument-beats-service-account"),
        pytest.param({}, {}, "in_cluster", ("sa", f"service account namespace file '{SA}/namespace'"),
                     id="service-account-when-in-cluster"),
        pytest.param({}, {"service_account_dir": "/empty"}, "in_cluster", ("default", "default"), id="default"),
    ],
)  # fmt: skip
def test_resolve_namespace_precedence(
    arguments: dict[str, Any], extra: dict[str, Any], mode: str, expected: tuple[str, str]
) -> None:
    fs = {
        **sa_files(namespace="sa"),
        "/empty/token": FileState.file("/empty/token", "t"),
        "/empty/ca.crt": FileState.file("/empty/ca.crt", CA_PEM),
        "/k": FileState.file("/k", kubeconfig_yaml(namespace="ctx")),
    }
    source = {"kube_config_path": "/k"} if mode == "kubeconfig" else {"auth_mode": "in_cluster"}
    result = Hook(fs, POD_ENV).resolve(settings_of(arguments, {**source, **extra}))
    assert (result.namespace, result.namespace_source) == expected


def test_resolve_service_account_namespace_not_used_for_kubeconfig() -> None:
    fs = {**sa_files(namespace="sa"), "/k": FileState.file("/k", kubeconfig_yaml())}
    result = Hook(fs, POD_ENV).resolve(settings_of(extra={"kube_config_path": "/k"}))
    assert (result.namespace, result.namespace_source) == ("default", "default")


# --- one pass through the read port ---------------------------------------------------------------------------


def test_an_invalid_inline_kubeconfig_reads_no_file() -> None:
    hook = Hook({})
    hook.error(settings_of(extra={"kube_config": "not: [valid"}))
    assert hook.read == []


def test_each_file_is_read_once_and_each_kubeconfig_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kubeconfig with a CA file and a tokenFile, in auto mode outside a pod: one read per path, one parse."""
    from airflow_k8s_reconcile.domain.connection.kubeconfig import locate

    parses: list[str] = []
    real = locate.load_kubeconfig_file

    def counting(state: FileState, *, role: str) -> dict[str, Any]:
        parses.append(state.path)
        return real(state, role=role)

    monkeypatch.setattr(locate, "load_kubeconfig_file", counting)
    cluster = {"server": "https://api:6443", "certificate-authority": "ca.crt"}
    fs = {
        "/etc/kube/config": FileState.file(
            "/etc/kube/config", kubeconfig_yaml(cluster=cluster, user={"tokenFile": "tok"})
        ),
        "/etc/kube/ca.crt": FileState.file("/etc/kube/ca.crt", CA_PEM),
        "/etc/kube/tok": FileState.file("/etc/kube/tok", "SECRET-TOKEN-once"),
    }
    hook = Hook(fs, {"KUBECONFIG": "/etc/kube/config"})
    result = hook.resolve(settings_of())
    assert result.source.ca_pem == CA_PEM
    assert sorted(hook.read) == sorted(fs)  # outside a pod the service-account token is not even looked at
    assert len(hook.read) == len(set(hook.read))
    assert parses == ["/etc/kube/config"]


def test_resolution_is_frozen() -> None:
    result = Hook(sa_files(), POD_ENV).resolve(settings_of(extra={"auth_mode": "in_cluster"}))
    with pytest.raises(AttributeError):
        result.namespace = "x"  # type: ignore[misc]
    assert isinstance(ConnectionSettings(), ConnectionSettings)


def test_an_explicit_auth_mode_is_reported_as_chosen_not_implied() -> None:
    fs = {"/k": FileState.file("/k", kubeconfig_yaml())}
    result = Hook(fs).resolve(settings_of(extra={"auth_mode": "kubeconfig_file", "kube_config_path": "/k"}))
    assert result.mode_reason == "auth_mode 'kubeconfig_file' set by connection"
    implied = Hook(fs).resolve(settings_of(extra={"kube_config_path": "/k"}))
    assert implied.mode_reason == "kube_config_path is set by connection and auth_mode is auto"
