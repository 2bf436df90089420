from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import yaml

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    AuthProviderCredential,
    ClientCertCredential,
    ExecCredential,
    NoCredential,
    TokenCredential,
)
from airflow_k8s_reconcile.domain.connection.files import FileState, FileView
from airflow_k8s_reconcile.domain.connection.kubeconfig.entries import read_cluster
from airflow_k8s_reconcile.domain.connection.kubeconfig.locate import (
    default_kubeconfig_paths,
    load_kubeconfig_file,
)
from airflow_k8s_reconcile.domain.connection.kubeconfig.merge import (
    INLINE,
    NamedEntry,
    merge_kubeconfigs,
    parse_kubeconfig,
    select_context,
)
from airflow_k8s_reconcile.domain.connection.kubeconfig.users import read_user
from airflow_k8s_reconcile.exceptions import ConnectionConfigError
from airflow_k8s_reconcile.findings import Status

CA_PEM = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def kubeconfig(
    *,
    clusters: dict[str, dict[str, Any]] | None = None,
    contexts: dict[str, dict[str, Any]] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
    current: str | None = "dev",
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": n, "cluster": c}
            for n, c in (clusters or {"c1": {"server": "https://10.0.0.1:6443"}}).items()
        ],
        "contexts": [
            {"name": n, "context": c}
            for n, c in (contexts or {"dev": {"cluster": "c1", "user": "u1"}}).items()
        ],
        "users": [{"name": n, "user": u} for n, u in (users or {"u1": {"token": "SECRET-TOKEN-k"}}).items()],
    }
    if current is not None:
        doc["current-context"] = current
    return doc


def entry(body: dict[str, Any], *, origin: str = "/etc/kube/config", name: str = "u1") -> NamedEntry:
    return NamedEntry(name=name, origin=origin, body=body)


def error_of(call: Any) -> ConnectionConfigError:
    with pytest.raises(ConnectionConfigError) as excinfo:
        call()
    return excinfo.value


# --- parse_kubeconfig ------------------------------------------------------------------------------------------


def test_parse_kubeconfig_accepts_yaml_and_json() -> None:
    doc = kubeconfig()
    assert parse_kubeconfig(yaml.safe_dump(doc), origin="/k") == doc
    assert parse_kubeconfig(json.dumps(doc).encode(), origin=INLINE) == doc


@pytest.mark.parametrize(
    ("text", "code", "fragments"),
    [
        pytest.param("", codes.CONN_KUBECONFIG_EMPTY, ["'/k/config' is empty"], id="empty"),
        pytest.param("# only a comment\n", codes.CONN_KUBECONFIG_EMPTY, ["empty"], id="comment-only"),
        pytest.param(
            "clusters:\n- name: a\n  cluster: {server: x\nusers: [SECRET-TOKEN-yaml]\n",
            codes.CONN_KUBECONFIG_BAD_YAML,
            ["line 4", "column"],
            id="bad-flow-mapping",
        ),
        pytest.param(
            "clusters:\n\t- name: a\n", codes.CONN_KUBECONFIG_BAD_YAML, ["line 2", "tab character"], id="tab"
        ),
        pytest.param(
            '{"clusters": [SECRET-TOKEN-json}', codes.CONN_KUBECONFIG_BAD_YAML, ["line 1"], id="bad-json"
        ),
        pytest.param(
            b"\xff\xfeclusters", codes.CONN_KUBECONFIG_BAD_YAML, ["not UTF-8", "offset 0"], id="not-utf8"
        ),
        pytest.param("a: 1\n---\nb: 2\n", codes.CONN_KUBECONFIG_BAD_YAML, ["line 2"], id="two-documents"),
        pytest.param(
            "/home/me/.kube/config", codes.CONN_KUBECONFIG_NOT_A_MAPPING, ["file path"], id="path-pasted"
        ),
        pytest.param("- a\n- b\n", codes.CONN_KUBECONFIG_NOT_A_MAPPING, ["YAML list"], id="list"),
        pytest.param("42", codes.CONN_KUBECONFIG_NOT_A_MAPPING, ["int"], id="number"),
        pytest.param(
            "clusters: {name: a}\n",
            codes.CONN_KUBECONFIG_MALFORMED,
            ["clusters key", "not a list"],
            id="not-list",
        ),
        pytest.param(
            "users:\n- user: {token: SECRET-TOKEN-noname}\n",
            codes.CONN_KUBECONFIG_MALFORMED,
            ["users[0]", "no string name"],
            id="no-name",
        ),
        pytest.param(
            "contexts:\n- name: a\n  context: oops\n",
            codes.CONN_KUBECONFIG_MALFORMED,
            ["context of contexts[0]"],
            id="body-not-mapping",
        ),
        pytest.param(
            "kind: Secret\ndata: {config: abc}\n",
            codes.CONN_KUBECONFIG_MALFORMED,
            ["kind is 'Secret'"],
            id="a-manifest",
        ),
        pytest.param(
            "current-context: [a]\n", codes.CONN_KUBECONFIG_MALFORMED, ["current-context"], id="bad-cc"
        ),
    ],
)
def test_parse_kubeconfig_diagnoses(text: str | bytes, code: str, fragments: list[str]) -> None:
    err = error_of(lambda: parse_kubeconfig(text, origin="/k/config"))
    assert err.code == code
    for fragment in fragments:
        assert fragment in str(err)
    assert "SECRET-TOKEN" not in str(err)
    assert err.__context__ is None  # the YAML/Unicode error (which holds the text) is not chained


def test_parse_kubeconfig_inline_path_suggests_kube_config_path() -> None:
    err = error_of(lambda: parse_kubeconfig("/opt/airflow/kubeconfig", origin=INLINE))
    assert "kube_config_path" in err.finding.fix
    assert "/opt/airflow/kubeconfig" not in str(err)


def test_parse_kubeconfig_base64_file_says_decode_it() -> None:
    encoded = base64.b64encode(yaml.safe_dump(kubeconfig()).encode()).decode()
    err = error_of(lambda: parse_kubeconfig(encoded, origin="/opt/airflow/kubeconfig"))
    assert err.code == codes.CONN_KUBECONFIG_NOT_A_MAPPING
    assert "base64" in err.finding.cause
    assert "base64 -d" in err.finding.fix
    assert encoded[:20] not in str(err)


def test_parse_kubeconfig_inline_base64_is_the_kubeconfig() -> None:
    """`base64 -w0 kubeconfig` survives the form's one-line input; the inline field accepts it as is."""
    encoded = base64.b64encode(yaml.safe_dump(kubeconfig()).encode()).decode()
    assert parse_kubeconfig(encoded, origin=INLINE) == parse_kubeconfig(
        yaml.safe_dump(kubeconfig()), origin=INLINE
    )


def test_parse_kubeconfig_inline_yaml_pasted_into_one_line_names_the_fix() -> None:
    """Exactly what Chromium puts in a one-line input on paste: line breaks become spaces, the last one is dropped."""
    pasted = yaml.safe_dump(kubeconfig()).rstrip("\n").replace("\n", " ")
    err = error_of(lambda: parse_kubeconfig(pasted, origin=INLINE))
    assert err.code == codes.CONN_KUBECONFIG_COLLAPSED
    assert "line breaks" in err.finding.title
    assert "-o json" in err.finding.fix
    assert "base64 -w0" in err.finding.fix
    assert "SECRET-TOKEN-k" not in str(err)


def test_parse_kubeconfig_other_bad_yaml_is_still_a_syntax_error() -> None:
    err = error_of(lambda: parse_kubeconfig("apiVersion: v1\nclusters: [\n", origin=INLINE))
    assert err.code == codes.CONN_KUBECONFIG_BAD_YAML


# --- load_kubeconfig_file --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "code"),
    [
        pytest.param(FileState.missing("/k"), codes.CONN_KUBECONFIG_NOT_FOUND, id="missing"),
        pytest.param(FileState.directory("/k"), codes.CONN_KUBECONFIG_IS_DIRECTORY, id="directory"),
        pytest.param(
            FileState.unreadable("/k", "Permission denied"), codes.CONN_KUBECONFIG_UNREADABLE, id="eacces"
        ),
        pytest.param(FileState.file("/k", b""), codes.CONN_KUBECONFIG_EMPTY, id="empty"),
    ],
)
def test_load_kubeconfig_file_names_the_path(state: FileState, code: str) -> None:
    err = error_of(lambda: load_kubeconfig_file(state, role="the setting 'kube_config_path'"))
    assert err.code == code
    assert "'/k'" in err.finding.cause
    assert "kube_config_path" in err.finding.cause or code == codes.CONN_KUBECONFIG_EMPTY


# --- default kubeconfig paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "paths", "role"),
    [
        pytest.param({}, ("/home/a/.kube/config",), "the default location ~/.kube/config", id="default"),
        pytest.param({"KUBECONFIG": ""}, ("/home/a/.kube/config",), "the default location ~/.kube/config",
                     id="empty-is-unset"),
        pytest.param({"KUBECONFIG": "~/one:/two::/two"}, ("/home/a/one", "/two"), "$KUBECONFIG",
                     id="split-expand-dedupe"),
    ],
)  # fmt: skip
def test_default_kubeconfig_paths(environ: dict[str, str], paths: tuple[str, ...], role: str) -> None:
    assert default_kubeconfig_paths(environ, "/home/a") == (paths, role)


# --- merge and select ------------------------------------------------------------------------------------------


def test_merge_kubeconfigs_first_file_wins_per_name_and_first_current_context() -> None:
    first = kubeconfig(
        clusters={"c1": {"server": "https://first:6443"}},
        contexts={"dev": {"cluster": "c1", "user": "u1"}},
        users={"u1": {"token": "t-first"}},
        current=None,
    )
    second = kubeconfig(
        clusters={"c1": {"server": "https://second:6443"}, "c2": {"server": "https://c2:6443"}},
        contexts={"prod": {"cluster": "c2", "user": "u1"}},
        users={"u1": {"token": "t-second"}},
        current="prod",
    )
    merged = merge_kubeconfigs([("/a", first), ("/b", second)])
    assert merged.current_context == "prod"
    assert merged.clusters["c1"].body["server"] == "https://first:6443"
    assert merged.clusters["c1"].origin == "/a"
    assert merged.clusters["c2"].origin == "/b"
    assert merged.users["u1"].body["token"] == "t-first"
    assert sorted(merged.contexts) == ["dev", "prod"]


@pytest.mark.parametrize(
    ("doc", "requested", "name", "chosen_by", "namespace"),
    [
        pytest.param(kubeconfig(), None, "dev", "current-context", None, id="current-context"),
        pytest.param(
            kubeconfig(
                contexts={"dev": {"cluster": "c1", "user": "u1"}, "ops": {"cluster": "c1", "namespace": "x"}}
            ),
            "ops",
            "ops",
            "cluster_context",
            "x",
            id="requested-beats-current",
        ),
    ],
)
def test_select_context_picks(
    doc: dict[str, Any], requested: str | None, name: str, chosen_by: str, namespace: str | None
) -> None:
    selected = select_context(merge_kubeconfigs([("/k", doc)]), requested)
    assert (selected.name, selected.chosen_by, selected.namespace) == (name, chosen_by, namespace)


def test_select_context_without_user_is_anonymous_not_an_error() -> None:
    doc = kubeconfig(contexts={"dev": {"cluster": "c1"}})
    assert select_context(merge_kubeconfigs([("/k", doc)]), None).user is None


@pytest.mark.parametrize(
    ("doc", "requested", "code", "fragments"),
    [
        pytest.param(kubeconfig(current=None), None, codes.CONN_NO_CURRENT_CONTEXT, ["no current-context", "'dev'"],
                     id="no-current-context"),
        pytest.param(kubeconfig(current=""), None, codes.CONN_NO_CURRENT_CONTEXT, ["cluster_context"],
                     id="empty-current-context"),
        pytest.param(kubeconfig(), "deev", codes.CONN_UNKNOWN_CONTEXT, ["'deev'", "Did you mean 'dev'"],
                     id="unknown-requested"),
        pytest.param(kubeconfig(current="prod"), None, codes.CONN_UNKNOWN_CONTEXT, ["current-context", "'dev'"],
                     id="unknown-current"),
        pytest.param(kubeconfig(contexts={"dev": {"cluster": "c1", "user": "u9"}}), None, codes.CONN_MISSING_USER,
                     ["'u9'", "anonymous", "'u1'"], id="missing-user-b10"),
        pytest.param(kubeconfig(contexts={"dev": {"cluster": "k9", "user": "u1"}}), None, codes.CONN_MISSING_CLUSTER,
                     ["'k9'", "'c1'"], id="missing-cluster"),
        pytest.param(kubeconfig(contexts={"dev": {"user": "u1"}}), None, codes.CONN_MISSING_CLUSTER,
                     ["names no cluster"], id="no-cluster"),
    ],
)  # fmt: skip
def test_select_context_diagnoses(
    doc: dict[str, Any], requested: str | None, code: str, fragments: list[str]
) -> None:
    err = error_of(lambda: select_context(merge_kubeconfigs([("/k", doc)]), requested))
    assert err.code == code
    for fragment in fragments:
        assert fragment in str(err)


# --- read_cluster ----------------------------------------------------------------------------------------------


def test_read_cluster_decodes_ca_data_and_options() -> None:
    body = {
        "server": "https://api.example.com:6443",
        "certificate-authority-data": base64.b64encode(CA_PEM).decode(),
        "tls-server-name": "kubernetes",
        "proxy-url": "http://u:PROXY-PASS@proxy:3128",
        "insecure-skip-tls-verify": False,
    }
    cluster = read_cluster(entry(body, name="c1"), files=FileView.of({}), need_server=True, need_ca=True)
    assert cluster.server == "https://api.example.com:6443"
    assert cluster.ca_pem == CA_PEM
    assert cluster.ca_source == "certificate-authority-data of cluster 'c1'"
    assert cluster.tls_server_name == "kubernetes"
    assert cluster.proxy_url == "http://u:PROXY-PASS@proxy:3128"
    assert "PROXY-PASS" not in repr(cluster)


def test_read_cluster_reads_relative_ca_path_against_kubeconfig_directory() -> None:
    body = {"server": "https://a:6443", "certificate-authority": "certs/../ca.crt"}
    files = FileView.of({"/etc/kube/ca.crt": FileState.file("/etc/kube/ca.crt", CA_PEM)})
    cluster = read_cluster(entry(body), files=files, need_server=True, need_ca=True)
    assert files.paths_read == ("/etc/kube/ca.crt",)
    assert cluster.ca_pem == CA_PEM
    assert cluster.ca_source == "file '/etc/kube/ca.crt'"


def test_read_cluster_skips_ca_and_server_when_overridden() -> None:
    body = {"certificate-authority": "/nope/ca.crt"}
    cluster = read_cluster(entry(body), files=FileView.of({}), need_server=False, need_ca=False)
    assert (cluster.server, cluster.ca_pem) == (None, None)


@pytest.mark.parametrize(
    ("body", "origin", "files", "code", "fragments"),
    [
        pytest.param({}, "/k", {}, codes.CONN_NO_SERVER, ["has no server"], id="no-server-b11"),
        pytest.param({"server": "api:6443"}, "/k", {}, codes.CONN_BAD_SERVER_URL, ["'api:6443'"], id="no-scheme"),
        pytest.param({"server": "https://a", "certificate-authority-data": CA_PEM.decode()}, "/k", {},
                     codes.CONN_BAD_BASE64, ["PEM block instead of base64"], id="pem-in-data-b13"),
        pytest.param({"server": "https://a", "certificate-authority-data": "abc"}, "/k", {},
                     codes.CONN_BAD_BASE64, ["not valid base64"], id="bad-base64"),
        pytest.param({"server": "https://a", "certificate-authority": "/etc/k8s/ca.crt"}, "/k",
                     {"/etc/k8s/ca.crt": FileState.missing("/etc/k8s/ca.crt")}, codes.CONN_CA_FILE_MISSING,
                     ["'/etc/k8s/ca.crt'"], id="ca-missing-b12"),
        pytest.param({"server": "https://a", "certificate-authority": "/d"}, "/k", {"/d": FileState.directory("/d")},
                     codes.CONN_FILE_UNREADABLE, ["directory"], id="ca-directory"),
        pytest.param({"server": "https://a", "certificate-authority": "ca.crt"}, INLINE, {},
                     codes.CONN_RELATIVE_PATH_INLINE, ["'ca.crt'", "inline"], id="relative-in-inline"),
        pytest.param({"server": "https://a", "proxy-url": "proxy:1"}, "/k", {}, codes.CONN_BAD_PROXY_URL,
                     ["proxy"], id="bad-proxy"),
        pytest.param({"server": "https://a", "insecure-skip-tls-verify": "sometimes"}, "/k", {},
                     codes.CONN_KUBECONFIG_MALFORMED, ["insecure-skip-tls-verify"], id="bad-insecure"),
        pytest.param({"server": 6443}, "/k", {}, codes.CONN_KUBECONFIG_MALFORMED, ["server"], id="server-not-text"),
    ],
)  # fmt: skip
def test_read_cluster_diagnoses(
    body: dict[str, Any], origin: str, files: dict[str, FileState], code: str, fragments: list[str]
) -> None:
    err = error_of(
        lambda: read_cluster(
            entry(body, origin=origin), files=FileView.of(files), need_server=True, need_ca=True
        )
    )
    assert err.code == code
    for fragment in fragments:
        assert fragment in str(err)


# --- read_user -------------------------------------------------------------------------------------------------


EXEC = {
    "apiVersion": "client.authentication.k8s.io/v1beta1",
    "command": "aws",
    "args": ["eks", "get-token", "--cluster-name", "prod"],
    "env": [{"name": "AWS_PROFILE", "value": "SECRET-PROFILE-VALUE"}],
    "installHint": "Install the AWS CLI: https://aws.amazon.com/cli/",
    "provideClusterInfo": True,
    "interactiveMode": "Never",
}


@pytest.mark.parametrize(
    ("body", "files", "kind", "warning_codes"),
    [
        pytest.param({"token": "SECRET-TOKEN-a"}, {}, TokenCredential, [], id="token"),
        pytest.param({"tokenFile": "tok"}, {"/etc/kube/tok": FileState.file("/etc/kube/tok", b"SECRET-TOKEN-f\n")},
                     TokenCredential, [], id="token-file-relative"),
        pytest.param({"exec": EXEC}, {}, ExecCredential, [], id="exec-from-file-is-trusted"),
        pytest.param({"auth-provider": {"name": "oidc", "config": {"id-token": "SECRET-TOKEN-o"}}}, {},
                     AuthProviderCredential, [], id="oidc"),
        pytest.param({"auth-provider": {"name": "gcp"}}, {}, AuthProviderCredential,
                     [codes.CONN_AUTH_PROVIDER_UNSUPPORTED], id="gcp-legacy-warns"),
        pytest.param({"client-certificate-data": base64.b64encode(b"CERT").decode(),
                      "client-key-data": base64.b64encode(b"KEY").decode()}, {}, ClientCertCredential, [],
                     id="client-cert-data"),
        pytest.param({"client-certificate": "/c.pem", "client-key": "/k.pem"},
                     {"/c.pem": FileState.file("/c.pem", b"C"), "/k.pem": FileState.file("/k.pem", b"K")},
                     ClientCertCredential, [], id="client-cert-files"),
        pytest.param({}, {}, NoCredential, [codes.CONN_NO_CREDENTIALS], id="no-credentials"),
        pytest.param({"token": "SECRET-TOKEN-a", "exec": EXEC}, {}, TokenCredential,
                     [codes.CONN_MULTIPLE_CREDENTIALS], id="token-beats-exec"),
        pytest.param({"token": "SECRET-TOKEN-a", "client-certificate-data": "Qw==", "client-key-data": "Sw=="},
                     {}, TokenCredential, [], id="token-and-cert-both-sent"),
    ],
)  # fmt: skip
def test_read_user_identifies_credential(
    body: dict[str, Any], files: dict[str, FileState], kind: type, warning_codes: list[str]
) -> None:
    credential, findings = read_user(entry(body), context="dev", files=FileView.of(files), allow_exec=False)
    assert isinstance(credential, kind)
    assert [item.code for item in findings] == warning_codes
    assert all(item.status is not Status.FAIL for item in findings)


def test_read_user_exec_spec_keeps_fields_and_hides_env_values() -> None:
    credential, _ = read_user(entry({"exec": EXEC}), context="dev", files=FileView.of({}), allow_exec=False)
    assert isinstance(credential, ExecCredential)
    spec = credential.spec
    assert spec.command == "aws"
    assert spec.args == ("eks", "get-token", "--cluster-name", "prod")
    assert spec.env == (("AWS_PROFILE", "SECRET-PROFILE-VALUE"),)
    assert spec.install_hint.startswith("Install the AWS CLI")
    assert spec.provide_cluster_info is True
    assert "AWS_PROFILE" in repr(spec)
    assert "SECRET-PROFILE-VALUE" not in repr(spec)


def test_read_user_token_file_keeps_path_for_rotation() -> None:
    files = FileView.of({"/t": FileState.file("/t", b" SECRET-TOKEN-f \n")})
    credential, _ = read_user(entry({"tokenFile": "/t"}), context="dev", files=files, allow_exec=False)
    assert isinstance(credential, TokenCredential)
    assert (credential.token, credential.origin, credential.token_file) == (
        "SECRET-TOKEN-f",
        "kubeconfig_token_file",
        "/t",
    )


def test_read_user_relative_exec_command_resolves_against_kubeconfig() -> None:
    body = {"exec": {**EXEC, "command": "./bin/get-token"}}
    credential, _ = read_user(entry(body), context="dev", files=FileView.of({}), allow_exec=False)
    assert isinstance(credential, ExecCredential)
    assert credential.spec.command == "/etc/kube/bin/get-token"


def test_read_user_no_user_in_context_warns_anonymous() -> None:
    credential, findings = read_user(None, context="dev", files=FileView.of({}), allow_exec=False)
    assert isinstance(credential, NoCredential)
    assert [item.code for item in findings] == [codes.CONN_NO_CREDENTIALS]
    assert "anonymous" in findings[0].cause


@pytest.mark.parametrize(
    ("body", "origin", "allow_exec", "files", "code", "fragments"),
    [
        pytest.param({"exec": EXEC}, INLINE, False, {}, codes.CONN_EXEC_PLUGIN_NOT_ALLOWED,
                     ["'aws'", "allow_exec_plugins"], id="inline-exec-refused"),
        pytest.param({"exec": {**EXEC, "apiVersion": "client.authentication.k8s.io/v1alpha1"}}, "/k", False, {},
                     codes.CONN_EXEC_BAD_CONFIG, ["v1alpha1"], id="exec-v1alpha1"),
        pytest.param({"exec": {k: v for k, v in EXEC.items() if k != "apiVersion"}}, "/k", False, {},
                     codes.CONN_EXEC_BAD_CONFIG, ["no apiVersion"], id="exec-no-api-version-b18"),
        pytest.param({"exec": {k: v for k, v in EXEC.items() if k != "command"}}, "/k", False, {},
                     codes.CONN_EXEC_BAD_CONFIG, ["no command"], id="exec-no-command"),
        pytest.param({"exec": {**EXEC, "interactiveMode": "Always"}}, "/k", False, {},
                     codes.CONN_EXEC_BAD_CONFIG, ["terminal"], id="exec-interactive-always"),
        pytest.param({"exec": {**EXEC, "args": "eks get-token"}}, "/k", False, {},
                     codes.CONN_EXEC_BAD_CONFIG, ["args"], id="exec-args-not-list"),
        pytest.param({"exec": {**EXEC, "command": "bin/tok"}}, INLINE, True, {},
                     codes.CONN_RELATIVE_PATH_INLINE, ["exec.command"], id="inline-relative-command"),
        pytest.param({"auth-provider": {"name": "azure", "config": {"access-token": "SECRET-TOKEN-az"}}}, "/k",
                     False, {}, codes.CONN_AUTH_PROVIDER_UNSUPPORTED, ["'azure'", "kubelogin"], id="azure-b21"),
        pytest.param({"tokenFile": "/x/token"}, "/k", False, {"/x/token": FileState.missing("/x/token")},
                     codes.CONN_TOKEN_FILE_MISSING, ["'/x/token'"], id="token-file-missing-b14"),
        pytest.param({"tokenFile": "/x/token"}, "/k", False, {"/x/token": FileState.file("/x/token", b" \n")},
                     codes.CONN_TOKEN_FILE_EMPTY, ["'/x/token'"], id="token-file-empty"),
        pytest.param({"tokenFile": "token"}, INLINE, False, {}, codes.CONN_RELATIVE_PATH_INLINE,
                     ["tokenFile", "-data"], id="token-file-relative-inline"),
        pytest.param({"client-certificate": "/c.pem", "client-key": "/k.pem"}, "/k", False,
                     {"/c.pem": FileState.missing("/c.pem"), "/k.pem": FileState.file("/k.pem", b"K")},
                     codes.CONN_CERT_FILE_MISSING, ["'/c.pem'"], id="cert-file-missing-b12"),
        pytest.param({"client-certificate-data": "Qw=="}, "/k", False, {}, codes.CONN_CLIENT_CERT_INCOMPLETE,
                     ["client-key"], id="cert-without-key"),
        pytest.param({"client-key-data": "-----BEGIN PRIVATE KEY-----\nSECRET-KEY\n-----END PRIVATE KEY-----"}, "/k",
                     False, {}, codes.CONN_BAD_BASE64, ["client-key-data", "PEM block"], id="pem-in-key-data"),
        pytest.param({"token": 12345}, "/k", False, {}, codes.CONN_KUBECONFIG_MALFORMED, ["token"],
                     id="token-not-text"),
        pytest.param({"username": "admin"}, "/k", False, {}, codes.CONN_BASIC_AUTH_REMOVED,
                     ["username/password", "1.19", "token"], id="username-without-password"),
        pytest.param({"username": "admin", "password": "SECRET-PASSWORD"}, "/k", False, {},
                     codes.CONN_BASIC_AUTH_REMOVED, ["removed in 1.19", "client certificate"], id="basic-refused"),
    ],
)  # fmt: skip
def test_read_user_diagnoses(
    body: dict[str, Any],
    origin: str,
    allow_exec: bool,
    files: dict[str, FileState],
    code: str,
    fragments: list[str],
) -> None:
    err = error_of(
        lambda: read_user(
            entry(body, origin=origin), context="dev", files=FileView.of(files), allow_exec=allow_exec
        )
    )
    assert err.code == code
    for fragment in fragments:
        assert fragment in str(err)
    assert "SECRET" not in str(err)


def test_read_user_inline_exec_allowed_when_enabled() -> None:
    credential, _ = read_user(
        entry({"exec": EXEC}, origin=INLINE), context="dev", files=FileView.of({}), allow_exec=True
    )
    assert isinstance(credential, ExecCredential)
