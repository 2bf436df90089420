"""The proxy decision and NO_PROXY matching, and the DNS/TCP/readiness judges, from plain values."""

from __future__ import annotations

import pytest

from airflow_k8s_reconcile.domain.connection.network.hops import (
    Endpoint,
    Health,
    NotResolved,
    TcpResults,
    judge_dns,
    judge_proxy,
    judge_readiness,
    judge_tcp,
    proxy_view,
)
from airflow_k8s_reconcile.domain.connection.network.proxy import decide_proxy as decide
from airflow_k8s_reconcile.findings import Finding, Status


def decide_proxy(server, explicit, environ):
    """The one decision (domain.connection.proxy), as the preflight's proxy check sees it."""
    decision = decide(
        server, connection=(explicit, "connection field 'proxy_url'"), kubeconfig=(None, ""), environ=environ
    )
    return proxy_view(decision, server, environ)


PROXY = {"HTTPS_PROXY": "http://user:pw@proxy.corp:3128"}


@pytest.mark.parametrize(
    ("server", "no_proxy", "proxied"),
    [
        ("https://kubernetes.default.svc", ".svc", False),
        ("https://kubernetes.default.svc", "kubernetes.default.svc", False),
        ("https://kubernetes.default.svc", ".cluster.local", True),
        ("https://api.example.com:6443", "example.com", False),
        ("https://api.example.com:6443", "example.com:443", True),
        ("https://api.example.com:6443", "*", False),
        ("https://10.96.0.1", "10.0.0.0/8", False),
        ("https://10.96.0.1", "10.96.0.2", True),
        ("https://127.0.0.1:6443", "", False),  # loopback never goes through a proxy
    ],
)
def test_no_proxy_matching(server, no_proxy, proxied):
    view = decide_proxy(server, None, {**PROXY, "NO_PROXY": no_proxy})
    assert (view.url is not None) is proxied


def test_http_proxy_does_not_apply_to_https_and_explicit_beats_environment():
    assert decide_proxy("https://api.example.com", None, {"HTTP_PROXY": "http://p:1"}).url is None
    explicit = decide_proxy("https://api.example.com", "http://mine:8080", {**PROXY, "NO_PROXY": "*"})
    assert explicit.url == "http://mine:8080"


def test_cluster_local_trap_is_a_warning_that_names_the_entry_and_hides_the_password():
    view = decide_proxy("https://kubernetes.default.svc", None, {**PROXY, "NO_PROXY": ".cluster.local"})
    found = judge_proxy("https://kubernetes.default.svc", view)
    assert (found.code, found.status) == ("NET_NO_PROXY_MISMATCH", Status.WARN)
    assert "'.cluster.local'" in found.cause
    assert "pw" not in found.cause + found.fix + str(dict(found.evidence))


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("no_name", "NET_DNS_NAME_NOT_FOUND"),
        ("no_answer", "NET_DNS_RESOLVER_UNREACHABLE"),
        ("timeout", "NET_DNS_RESOLVER_UNREACHABLE"),
    ],
)
def test_dns_judgement(kind, code):
    found = judge_dns(Endpoint(host="kubernetes.default.svc", port=443), NotResolved(kind=kind, detail="x"))
    assert found.code == code
    assert found.fix
    if kind == "no_name":
        assert "resolve only inside the cluster" in found.cause


@pytest.mark.parametrize(
    ("outcomes", "code"),
    [
        ((("10.0.0.1", "connected", ""),), "NET_TCP_CONNECTED"),
        ((("10.0.0.1", "timeout", "timed out"),), "NET_CONNECT_TIMEOUT"),
        ((("10.0.0.1", "refused", ""),), "NET_CONNECTION_REFUSED"),
        ((("10.0.0.1", "unreachable", ""),), "NET_UNREACHABLE"),
        ((("10.0.0.1", "connected", ""), ("10.0.0.2", "timeout", "")), "NET_TCP_PARTIAL"),
    ],
)
def test_tcp_judgement(outcomes, code):
    found = judge_tcp(Endpoint(host="api", port=6443), TcpResults(results=outcomes), 3.0)
    assert found.code == code
    if code == "NET_CONNECT_TIMEOUT":
        assert "NetworkPolicy" in found.cause
        assert "6443" in found.fix


def test_readiness_not_ready_and_clock_skew():
    ok = Finding(code="API_REACHABLE", status=Status.PASS, title="t", cause="c")
    assert judge_readiness(Health(ready_status=503), ok).code == "API_NOT_READY"
    date = "Wed, 02 Dec 2026 05:50:30 GMT"
    from airflow_k8s_reconcile.domain.connection.network.hops import server_time

    server = server_time(date).timestamp()
    assert judge_readiness(Health(ready_status=200, server_date=date, local_time=server + 5), ok) is ok
    skewed = judge_readiness(Health(ready_status=200, server_date=date, local_time=server - 120), ok)
    assert (skewed.code, skewed.evidence["skew_seconds"]) == ("API_CLOCK_SKEW", "120")
