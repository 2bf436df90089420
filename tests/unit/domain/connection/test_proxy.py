"""The effective proxy, decided as kubectl (Go's httpproxy, client-go's proxy-url) decides it."""

from __future__ import annotations

import pytest

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.connection.network.proxy import decide_proxy
from airflow_k8s_reconcile.exceptions import ConnectionConfigError

SERVER = "https://api.example.com:6443"


def _decide(server=SERVER, *, conn=None, kube=None, **environ):
    return decide_proxy(
        server,
        connection=(conn, "connection field 'proxy_url'"),
        kubeconfig=(kube, "proxy-url of cluster 'prod'"),
        environ=environ,
    )


@pytest.mark.parametrize(
    ("server", "environ", "expected"),
    [
        # HTTP_PROXY is for http:// URLs only; the sync Python client used it for https too.
        (SERVER, {"HTTP_PROXY": "http://p:1"}, None),
        (SERVER, {"http_proxy": "http://p:1"}, None),
        ("http://api.example.com:8080", {"HTTP_PROXY": "http://p:1"}, "http://p:1"),
        (SERVER, {"HTTPS_PROXY": "http://s:2", "HTTP_PROXY": "http://p:1"}, "http://s:2"),
        (SERVER, {"https_proxy": "http://s:2"}, "http://s:2"),
        # Upper case first, as Go's getEnvAny; an empty value counts as unset.
        (SERVER, {"HTTPS_PROXY": "http://upper:2", "https_proxy": "http://lower:2"}, "http://upper:2"),
        (SERVER, {"HTTPS_PROXY": "", "https_proxy": "http://lower:2"}, "http://lower:2"),
        # A scheme-less value is read as http://, like Go's parseProxy.
        (SERVER, {"HTTPS_PROXY": "proxy.internal:3128"}, "http://proxy.internal:3128"),
        # Loopback never goes through an environment proxy in Go.
        ("https://127.0.0.1:6443", {"HTTPS_PROXY": "http://s:2"}, None),
        ("https://localhost:6443", {"HTTPS_PROXY": "http://s:2"}, None),
        ("https://[::1]:6443", {"HTTPS_PROXY": "http://s:2"}, None),
        # NO_PROXY: suffix matching of names, IPs, CIDRs (v4 and v6), ports, '*'.
        (SERVER, {"HTTPS_PROXY": "http://s:2", "NO_PROXY": "example.com"}, None),
        (SERVER, {"HTTPS_PROXY": "http://s:2", "NO_PROXY": ".example.com"}, None),
        (SERVER, {"HTTPS_PROXY": "http://s:2", "NO_PROXY": "*.example.com"}, None),
        ("https://example.com", {"HTTPS_PROXY": "http://s:2", "NO_PROXY": ".example.com"}, "http://s:2"),
        ("https://example.com", {"HTTPS_PROXY": "http://s:2", "NO_PROXY": "example.com"}, None),
        (SERVER, {"HTTPS_PROXY": "http://s:2", "NO_PROXY": "ample.com"}, "http://s:2"),
        (SERVER, {"HTTPS_PROXY": "http://s:2", "no_proxy": "API.example.com:6443"}, None),
        (SERVER, {"HTTPS_PROXY": "http://s:2", "NO_PROXY": "api.example.com:443"}, "http://s:2"),
        ("https://api.example.com", {"HTTPS_PROXY": "http://s:2", "NO_PROXY": "api.example.com:443"}, None),
        (SERVER, {"HTTPS_PROXY": "http://s:2", "NO_PROXY": " foo , *"}, None),
        ("https://10.96.0.1:443", {"HTTPS_PROXY": "http://s:2", "NO_PROXY": "10.96.0.0/12"}, None),
        ("https://10.96.0.1:443", {"HTTPS_PROXY": "http://s:2", "NO_PROXY": "10.96.0.1"}, None),
        ("https://10.96.0.1:443", {"HTTPS_PROXY": "http://s:2", "NO_PROXY": "10.96.0.2"}, "http://s:2"),
        ("https://[fd00:10:96::1]:443", {"HTTPS_PROXY": "http://s:2", "NO_PROXY": "fd00:10:96::/48"}, None),
        (
            "https://[fd00:10:96::1]:443",
            {"HTTPS_PROXY": "http://s:2", "NO_PROXY": "[fd00:10:96::1]:443"},
            None,
        ),
        # '.cluster.local' does not cover the short service name.
        (
            "https://kubernetes.default.svc:443",
            {"HTTPS_PROXY": "http://s:2", "NO_PROXY": ".cluster.local"},
            "http://s:2",
        ),
        ("https://kubernetes.default.svc:443", {"HTTPS_PROXY": "http://s:2", "NO_PROXY": ".svc"}, None),
    ],
)
def test_environment_proxy_follows_go_httpproxy(server, environ, expected):
    assert _decide(server, **environ).url == expected


def test_only_http_proxy_for_an_https_server_is_direct_and_says_why():
    decision = _decide(HTTP_PROXY="http://user:pw@p:1")
    assert decision.url is None
    assert "HTTP_PROXY is set but applies only to http:// servers" in decision.reason
    assert "pw" not in decision.reason


def test_kubeconfig_proxy_url_is_used_even_when_no_proxy_covers_the_server():
    decision = _decide(kube="http://kp:3", NO_PROXY="api.example.com", HTTPS_PROXY="http://s:2")
    assert (decision.url, decision.origin) == ("http://kp:3", "proxy-url of cluster 'prod'")
    assert "NO_PROXY does not apply" in decision.reason


def test_connection_proxy_beats_kubeconfig_and_environment():
    decision = _decide(conn="http://c:4", kube="http://kp:3", HTTPS_PROXY="http://s:2")
    assert (decision.url, decision.origin) == ("http://c:4", "connection field 'proxy_url'")


def test_environment_proxy_origin_and_redaction():
    decision = _decide(HTTPS_PROXY="http://user:secret@s:2", NO_PROXY="other.example")
    assert decision.origin == "environment variable HTTPS_PROXY"
    assert decision.url_redacted == "http://***@s:2"
    assert "secret" not in repr(decision)
    assert "NO_PROXY does not cover api.example.com" in decision.reason


def test_bypassed_proxy_names_the_no_proxy_entry():
    decision = _decide(HTTPS_PROXY="http://s:2", no_proxy="x.org,.example.com")
    assert decision.url is None
    assert "no_proxy entry '.example.com' covers api.example.com" in decision.reason


def test_environment_proxy_that_is_not_a_url_is_a_finding_naming_the_variable():
    with pytest.raises(ConnectionConfigError) as caught:
        _decide(HTTPS_PROXY="ftp://p:1")
    assert caught.value.finding.code == codes.CONN_BAD_PROXY_URL
    assert "environment variable HTTPS_PROXY" in caught.value.finding.cause
