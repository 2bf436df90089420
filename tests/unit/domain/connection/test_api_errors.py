from __future__ import annotations

import pytest

from airflow_k8s_reconcile.domain.connection.api import errors as d
from airflow_k8s_reconcile.domain.connection.api.errors import (
    ApiFailure,
    TransportFailure,
    diagnose_api,
    diagnose_transport,
)
from airflow_k8s_reconcile.findings import Status

# Messages as kube-apiserver 1.20.2 sends them (responsewriters/errors.go forbiddenMessage).
SA_DENIED = (
    'configmaps is forbidden: User "system:serviceaccount:jobs:airflow-worker" cannot list resource "configmaps" '
    'in API group "" in the namespace "jobs"'
)
ANON_DENIED = (
    'configmaps is forbidden: User "system:anonymous" cannot list resource "configmaps" in API group "" in the '
    'namespace "default"'
)
CLUSTER_DENIED = (
    'nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope'
)
PATH_DENIED = 'forbidden: User "alice" cannot get path "/metrics"'


def test_401_means_credentials_were_sent_and_rejected():
    finding = diagnose_api(
        ApiFailure(status=401, reason="Unauthorized", message="Unauthorized", audit_id="a-1")
    )
    assert finding.code == d.AUTH_CREDENTIALS_REJECTED
    assert finding.status is Status.FAIL
    assert finding.evidence["audit_id"] == "a-1"


def test_403_for_anonymous_means_no_credentials_were_sent():
    finding = diagnose_api(ApiFailure(status=403, reason="Forbidden", message=ANON_DENIED))
    assert finding.code == d.AUTH_ANONYMOUS
    assert "system:anonymous" in finding.cause


def test_rbac_denial_names_user_verb_resource_namespace_and_least_privilege_fix():
    finding = diagnose_api(
        ApiFailure(status=403, reason="Forbidden", message=SA_DENIED, action="list configmaps")
    )
    assert finding.code == d.RBAC_FORBIDDEN
    assert dict(finding.evidence) == {
        "user": "system:serviceaccount:jobs:airflow-worker",
        "verb": "list",
        "resource": "configmaps",
        "namespace": "jobs",
    }
    assert "kubectl create role <name> -n jobs --verb=list --resource=configmaps" in finding.fix
    assert "--serviceaccount=jobs:airflow-worker" in finding.fix


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        pytest.param(
            CLUSTER_DENIED, {"user": "alice", "verb": "list", "resource": "nodes", "group": ""}, id="cluster"
        ),
        pytest.param(PATH_DENIED, {"user": "alice", "verb": "get", "path": "/metrics"}, id="non-resource"),
        pytest.param("something else", {}, id="unparsable"),
    ],
)
def test_parse_forbidden(message, expected):
    assert d.parse_forbidden(message) == expected


def test_cluster_scope_denial_suggests_a_clusterrole_for_the_user():
    finding = diagnose_api(ApiFailure(status=403, reason="Forbidden", message=CLUSTER_DENIED))
    assert "clusterrole" in finding.fix
    assert "--user=alice" in finding.fix


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, d.API_NOT_FOUND),
        (409, d.API_CONFLICT),
        (422, d.API_INVALID),
        (429, d.API_RATE_LIMITED),
        (503, d.API_SERVER_ERROR),
        (418, d.API_UNEXPECTED_STATUS),
    ],
)
def test_other_statuses(status, code):
    assert diagnose_api(ApiFailure(status=status, reason="X", message="m")).code == code


@pytest.mark.parametrize(
    ("kind", "detail", "code"),
    [
        ("dns", "[Errno -2] Name or service not known", d.NET_DNS_FAILURE),
        ("refused", "[Errno 111] Connection refused", d.NET_CONNECTION_REFUSED),
        ("connect_timeout", "Connection to 10.0.0.1 timed out. (connect timeout=2)", d.NET_CONNECT_TIMEOUT),
        ("read_timeout", "Read timed out. (read timeout=2)", d.NET_READ_TIMEOUT),
        ("proxy", "Tunnel connection failed: 403 Forbidden", d.NET_PROXY_FAILURE),
        ("proxy_unreachable", "[Errno 111] Connection refused", d.NET_PROXY_FAILURE),
        ("reset", "Connection reset by peer", d.NET_CONNECTION_RESET),
        (
            "tls",
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate",
            d.TLS_VERIFY_FAILED,
        ),
        (
            "tls",
            "certificate verify failed: IP address mismatch, certificate is not valid for '10.0.0.1'.",
            d.TLS_HOSTNAME_MISMATCH,
        ),
        (
            "tls",
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: certificate has expired",
            d.TLS_CERT_EXPIRED,
        ),
        ("tls", "certificate verify failed: certificate is not yet valid", d.TLS_CERT_NOT_YET_VALID),
        ("tls", "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)", d.TLS_WRONG_PROTOCOL),
        ("tls", "something odd", d.TLS_HANDSHAKE_FAILED),
    ],
)
def test_transport_failures(kind, detail, code):
    finding = diagnose_transport(TransportFailure(kind=kind, detail=detail, server="https://10.0.0.1:6443"))
    assert finding.code == code
    assert "https://10.0.0.1:6443" in finding.cause
    assert finding.fix


def test_transport_detail_is_redacted():
    finding = diagnose_transport(
        TransportFailure(
            kind="proxy", detail="http://user:hunter2secret@proxy:3128 refused", server="https://a"
        )
    )
    assert "hunter2secret" not in finding.render()
