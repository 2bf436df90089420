from __future__ import annotations

import json

import pytest

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.connection.settings import (
    AuthMode,
    ConnectionSettings,
    merge_settings,
    settings_from_extra,
)
from airflow_k8s_reconcile.exceptions import ConnectionConfigError


def _code(excinfo: pytest.ExceptionInfo[ConnectionConfigError]) -> str:
    return excinfo.value.code


# --- settings_from_extra: our connection type ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param({}, {}, id="empty"),
        pytest.param({"namespace": None, "cluster_context": ""}, {}, id="none-and-empty-are-unset"),
        pytest.param(
            {"auth_mode": "IN_CLUSTER"}, {"auth_mode": AuthMode.IN_CLUSTER}, id="auth-mode-any-case"
        ),
        pytest.param(
            {"kube_config_path": " /k/config "}, {"kube_config_path": "/k/config"}, id="path-stripped"
        ),
        pytest.param({"verify_ssl": "No"}, {"verify_ssl": False}, id="bool-no"),
        pytest.param({"verify_ssl": "on"}, {"verify_ssl": True}, id="bool-on"),
        pytest.param({"verify_ssl": 0}, {"verify_ssl": False}, id="bool-int-0"),
        pytest.param({"allow_exec_plugins": True}, {"allow_exec_plugins": True}, id="bool-real"),
        pytest.param({"request_timeout": "12.5"}, {"request_timeout": 12.5}, id="timeout-text"),
        pytest.param({"request_timeout": 7}, {"request_timeout": 7.0}, id="timeout-int"),
        pytest.param({"extra__k8s_reconcile__namespace": "jobs"}, {"namespace": "jobs"}, id="legacy-prefix"),
        pytest.param(
            {"extra__k8s_reconcile__namespace": "old", "namespace": "new"},
            {"namespace": "new"},
            id="plain-beats-legacy",
        ),
        pytest.param(
            {"extra__k8s_reconcile__namespace": "old", "namespace": ""},
            {"namespace": "old"},
            id="empty-plain-unset",
        ),
        pytest.param(
            {"api_server": "https://10.0.0.1:6443/"},
            {"api_server": "https://10.0.0.1:6443"},
            id="server-trailing-slash",
        ),
        pytest.param(
            {"proxy_url": "socks5://proxy:1080"}, {"proxy_url": "socks5://proxy:1080"}, id="proxy-socks5"
        ),
        pytest.param(
            {"kube_config": {"apiVersion": "v1"}}, {"kube_config": '{"apiVersion": "v1"}'}, id="dict-json"
        ),
    ],
)
def test_settings_from_extra_own_type_parses(extra: dict[str, object], expected: dict[str, object]) -> None:
    assert settings_from_extra("k8s_reconcile", extra) == expected


@pytest.mark.parametrize(
    ("extra", "code", "fragments"),
    [
        pytest.param(
            {"verify_ssl": "maybe"}, codes.CONN_BAD_BOOLEAN, ["verify_ssl", "'maybe'"], id="bad-bool"
        ),
        pytest.param({"verify_ssl": 2}, codes.CONN_BAD_BOOLEAN, ["verify_ssl", "2"], id="bad-bool-int"),
        pytest.param(
            {"kube_config_file": "/x"},
            codes.CONN_UNKNOWN_FIELD,
            ["kube_config_file", "'kube_config_path'"],
            id="typo",
        ),
        pytest.param(
            {"in_cluster": True}, codes.CONN_UNKNOWN_FIELD, ["in_cluster", "'auth_mode'"], id="cncf-name"
        ),
        pytest.param(
            {"disable_verify_ssl": True}, codes.CONN_UNKNOWN_FIELD, ["'verify_ssl'"], id="cncf-disable-verify"
        ),
        pytest.param(
            {"auth_mode": "kubeconfig_path"},
            codes.CONN_UNKNOWN_AUTH_MODE,
            ["kubeconfig_path", "'kubeconfig_file'", "auto, in_cluster, kubeconfig_file, kubeconfig_inline"],
            id="unknown-auth-mode",
        ),
        pytest.param(
            {"request_timeout": 0}, codes.CONN_BAD_VALUE, ["request_timeout", "0"], id="timeout-zero"
        ),
        pytest.param(
            {"request_timeout": -1}, codes.CONN_BAD_VALUE, ["request_timeout"], id="timeout-negative"
        ),
        pytest.param({"request_timeout": "soon"}, codes.CONN_BAD_VALUE, ["'soon'"], id="timeout-text"),
        pytest.param({"request_timeout": True}, codes.CONN_BAD_VALUE, ["request_timeout"], id="timeout-bool"),
        pytest.param({"request_timeout": "nan"}, codes.CONN_BAD_VALUE, ["request_timeout"], id="timeout-nan"),
        pytest.param(
            {"namespace": "Airflow_Jobs"}, codes.CONN_BAD_VALUE, ["'Airflow_Jobs'"], id="bad-namespace"
        ),
        pytest.param({"namespace": 5}, codes.CONN_BAD_VALUE, ["namespace"], id="namespace-not-text"),
        pytest.param(
            {"api_server": "10.0.0.1:6443"}, codes.CONN_BAD_SERVER_URL, ["'10.0.0.1:6443'"], id="no-scheme"
        ),
        pytest.param({"api_server": "https://"}, codes.CONN_BAD_SERVER_URL, ["api_server"], id="no-host"),
        pytest.param(
            {"proxy_url": "proxy:3128"}, codes.CONN_BAD_PROXY_URL, ["proxy_url"], id="proxy-no-scheme"
        ),
        pytest.param(
            {"proxy_url": "ftp://p:21"}, codes.CONN_BAD_PROXY_URL, ["ftp://p:21"], id="proxy-scheme"
        ),
        pytest.param(
            {"kube_config": 42}, codes.CONN_BAD_VALUE, ["kube_config", "int"], id="inline-wrong-type"
        ),
    ],
)
def test_settings_from_extra_own_type_rejects(
    extra: dict[str, object], code: str, fragments: list[str]
) -> None:
    with pytest.raises(ConnectionConfigError) as excinfo:
        settings_from_extra("k8s_reconcile", extra)
    assert _code(excinfo) == code
    for fragment in fragments:
        assert fragment in str(excinfo.value)


def test_settings_from_extra_bad_proxy_url_redacts_credentials() -> None:
    with pytest.raises(ConnectionConfigError) as excinfo:
        settings_from_extra("k8s_reconcile", {"proxy_url": "gopher://bob:PROXY-PASS@proxy:70"})
    assert "PROXY-PASS" not in str(excinfo.value)
    assert "***@proxy:70" in str(excinfo.value)


# --- settings_from_extra: cncf kubernetes type ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        pytest.param({"in_cluster": True}, {"auth_mode": AuthMode.IN_CLUSTER}, id="in-cluster"),
        pytest.param({"in_cluster": "false"}, {}, id="in-cluster-false-string-is-false"),
        pytest.param(
            {"kube_config_path": "/k"},
            {"auth_mode": AuthMode.KUBECONFIG_FILE, "kube_config_path": "/k"},
            id="path",
        ),
        pytest.param(
            {"kube_config": {"current-context": "a"}},
            {"auth_mode": AuthMode.KUBECONFIG_INLINE, "kube_config": json.dumps({"current-context": "a"})},
            id="inline-dict",
        ),
        pytest.param({"disable_verify_ssl": "true"}, {"verify_ssl": False}, id="disable-verify"),
        pytest.param(
            {"extra__kubernetes__in_cluster": True, "extra__kubernetes__namespace": "jobs"},
            {"auth_mode": AuthMode.IN_CLUSTER, "namespace": "jobs"},
            id="legacy-prefix",
        ),
        pytest.param(
            {
                "cluster_context": "prod",
                "disable_tcp_keepalive": True,
                "xcom_sidecar_container_image": "alpine",
            },
            {"cluster_context": "prod"},
            id="harmless-keys-ignored",
        ),
        pytest.param(
            {"extra__kubernetes__xcom_sidecar_container_resources": "{}"},
            {},
            id="harmless-legacy-key-ignored",
        ),
    ],
)
def test_settings_from_extra_cncf_type_maps(extra: dict[str, object], expected: dict[str, object]) -> None:
    assert settings_from_extra("kubernetes", extra) == expected


@pytest.mark.parametrize(
    ("extra", "code", "fragments"),
    [
        pytest.param(
            {"in_cluster": True, "kube_config_path": "/k"},
            codes.CONN_CONFLICTING_SOURCES,
            ["in_cluster", "kube_config_path"],
            id="in-cluster-and-path",
        ),
        pytest.param(
            {"kube_config_path": "/k", "extra__kubernetes__kube_config": "a: b"},
            codes.CONN_CONFLICTING_SOURCES,
            ["kube_config_path", "kube_config"],
            id="path-and-legacy-inline",
        ),
        pytest.param({"in_cluster": "yes please"}, codes.CONN_BAD_BOOLEAN, ["in_cluster"], id="bad-bool"),
        pytest.param(
            {"kube_config_file": "/k"}, codes.CONN_UNKNOWN_FIELD, ["'kube_config_path'"], id="typo-suggestion"
        ),
    ],
)
def test_settings_from_extra_cncf_type_rejects(
    extra: dict[str, object], code: str, fragments: list[str]
) -> None:
    with pytest.raises(ConnectionConfigError) as excinfo:
        settings_from_extra("kubernetes", extra)
    assert _code(excinfo) == code
    for fragment in fragments:
        assert fragment in str(excinfo.value)


def test_settings_from_extra_unknown_connection_type_with_extras_is_rejected() -> None:
    with pytest.raises(ConnectionConfigError) as excinfo:
        settings_from_extra("http", {"namespace": "x"})
    assert _code(excinfo) == codes.CONN_BAD_VALUE
    assert settings_from_extra("", {}) == {}


# --- merge_settings: precedence matrix ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "connection", "field", "value", "origin"),
    [
        pytest.param({"namespace": "arg"}, {"namespace": "conn"}, "namespace", "arg", "argument (overrides connection)",
                     id="argument-beats-connection"),
        pytest.param({}, {"namespace": "conn"}, "namespace", "conn", "connection", id="connection-beats-default"),
        pytest.param({"namespace": None}, {"namespace": "conn"}, "namespace", "conn", "connection",
                     id="none-argument-is-not-given"),
        pytest.param({"namespace": ""}, {"namespace": "conn"}, "namespace", "conn", "connection",
                     id="empty-argument-is-not-given"),
        pytest.param({}, {}, "request_timeout", 30.0, None, id="default-timeout"),
        pytest.param({"request_timeout": 5}, {"request_timeout": 60}, "request_timeout", 5.0,
                     "argument (overrides connection)", id="argument-timeout"),
        pytest.param({"verify_ssl": False}, {}, "verify_ssl", False, "argument", id="argument-only"),
        pytest.param({"disable_verify_ssl": True}, {}, "verify_ssl", False, "argument", id="cncf-alias-argument"),
        pytest.param({"config_file": "/a"}, {}, "kube_config_path", "/a", "argument", id="cncf-config-file-alias"),
        pytest.param({"in_cluster": True}, {"kube_config_path": "/c"}, "auth_mode", AuthMode.IN_CLUSTER,
                     "argument (overrides connection)", id="argument-source-overrides-connection-source"),
        pytest.param({"in_cluster": True}, {"kube_config_path": "/c"}, "kube_config_path", None, None,
                     id="overridden-connection-path-dropped"),
        pytest.param({"kube_config_path": "/a"}, {"kube_config": "x: y"}, "auth_mode", AuthMode.KUBECONFIG_FILE,
                     "argument (overrides connection)", id="argument-path-beats-connection-inline"),
        pytest.param({"auth_mode": "kubeconfig_file"}, {"kube_config_path": "/c"}, "kube_config_path", "/c",
                     "connection", id="argument-mode-keeps-matching-connection-path"),
        pytest.param({}, {"kube_config_path": "/c"}, "auth_mode", AuthMode.KUBECONFIG_FILE, "connection",
                     id="path-alone-implies-kubeconfig-file"),
        pytest.param({}, {"kube_config": "a: b"}, "auth_mode", AuthMode.KUBECONFIG_INLINE, "connection",
                     id="inline-alone-implies-kubeconfig-inline"),
        pytest.param({}, {}, "auth_mode", AuthMode.AUTO, None, id="default-auto"),
        pytest.param({"in_cluster": False}, {"kube_config_path": "/c"}, "auth_mode", AuthMode.KUBECONFIG_FILE,
                     "connection", id="cncf-in-cluster-false-argument-is-not-given"),
    ],
)  # fmt: skip
def test_merge_settings_precedence(
    arguments: dict[str, object], connection: dict[str, object], field: str, value: object, origin: str | None
) -> None:
    settings = merge_settings(arguments, connection)
    assert getattr(settings, field) == value
    assert settings.origins.get(field) == origin


@pytest.mark.parametrize(
    ("arguments", "connection", "fragments"),
    [
        pytest.param({}, {"auth_mode": "in_cluster", "kube_config_path": "/k"}, ["connection", "in_cluster"],
                     id="connection-in-cluster-and-path"),
        pytest.param({"auth_mode": "in_cluster", "kube_config": "a: b"}, {}, ["hook arguments", "kube_config"],
                     id="argument-in-cluster-and-inline"),
        pytest.param({}, {"kube_config_path": "/k", "kube_config": "a: b"}, ["kube_config_path", "kube_config"],
                     id="path-and-inline"),
        pytest.param({}, {"auth_mode": "kubeconfig_file", "kube_config": "a: b"}, ["kubeconfig_file"],
                     id="file-mode-with-inline"),
        pytest.param({}, {"auth_mode": "kubeconfig_inline", "kube_config_path": "/k"}, ["kubeconfig_inline"],
                     id="inline-mode-with-path"),
        pytest.param({"config_file": "/a", "kube_config_path": "/b"}, {}, ["config_file", "kube_config_path"],
                     id="alias-and-name-differ"),
    ],
)  # fmt: skip
def test_merge_settings_conflicts_within_a_layer(
    arguments: dict[str, object], connection: dict[str, object], fragments: list[str]
) -> None:
    with pytest.raises(ConnectionConfigError) as excinfo:
        merge_settings(arguments, connection)
    assert _code(excinfo) == codes.CONN_CONFLICTING_SOURCES
    for fragment in fragments:
        assert fragment in str(excinfo.value)


def test_merge_settings_inline_mode_without_text_is_rejected() -> None:
    with pytest.raises(ConnectionConfigError) as excinfo:
        merge_settings({"auth_mode": "kubeconfig_inline"}, {})
    assert _code(excinfo) == codes.CONN_BAD_VALUE
    assert "kube_config" in str(excinfo.value)


def test_merge_settings_unknown_argument_is_rejected_with_suggestion() -> None:
    with pytest.raises(ConnectionConfigError) as excinfo:
        merge_settings({"namepsace": "x"}, {})
    assert _code(excinfo) == codes.CONN_UNKNOWN_FIELD
    assert "'namespace'" in str(excinfo.value)


def test_merge_settings_accepts_settings_from_extra_output_unchanged() -> None:
    connection = settings_from_extra(
        "kubernetes", {"kube_config_path": "~/k", "namespace": "jobs", "disable_verify_ssl": True}
    )
    settings = merge_settings({}, connection)
    assert settings.auth_mode is AuthMode.KUBECONFIG_FILE
    assert settings.kube_config_path == "~/k"
    assert settings.verify_ssl is False
    assert dict(settings.origins) == {
        "auth_mode": "connection",
        "kube_config_path": "connection",
        "namespace": "connection",
        "verify_ssl": "connection",
    }


def test_connection_settings_is_frozen_and_validates_direct_construction() -> None:
    settings = ConnectionSettings(auth_mode=AuthMode.IN_CLUSTER)
    with pytest.raises(AttributeError):
        settings.namespace = "x"  # type: ignore[misc]
    with pytest.raises(ConnectionConfigError) as excinfo:
        ConnectionSettings(request_timeout=0)
    assert _code(excinfo) == codes.CONN_BAD_VALUE


def test_connection_settings_repr_hides_secrets() -> None:
    settings = merge_settings(
        {"proxy_url": "http://bob:PROXY-PASS@proxy:3128"},
        {"kube_config": "users: [{name: u, user: {token: SECRET-TOKEN-1}}]"},
    )
    text = repr(settings)
    assert "SECRET-TOKEN-1" not in text
    assert "PROXY-PASS" not in text
    assert "kube_config='<redacted" in text
    assert "***@proxy:3128" in text


def test_connection_settings_direct_construction_rejects_contradicting_source() -> None:
    with pytest.raises(ConnectionConfigError) as excinfo:
        ConnectionSettings(auth_mode=AuthMode.IN_CLUSTER, kube_config_path="/k")
    assert _code(excinfo) == codes.CONN_CONFLICTING_SOURCES
    with pytest.raises(ConnectionConfigError) as excinfo:
        ConnectionSettings(auth_mode="sometimes")  # type: ignore[arg-type]
    assert _code(excinfo) == codes.CONN_UNKNOWN_AUTH_MODE
