"""With verification off, urllib3's per-request InsecureRequestWarning is silenced for that server only."""

from __future__ import annotations

import warnings

import pytest
from kubernetes import client as k8s
from urllib3.exceptions import InsecureRequestWarning

from airflow_k8s_reconcile.domain.connection.credentials.kinds import NoCredential
from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource
from airflow_k8s_reconcile.domain.connection.settings import AuthMode
from airflow_k8s_reconcile.hooks._transport.client import NO_RETRY, build_sync_client
from airflow_k8s_reconcile.hooks._transport.tls_warnings import quiet_unverified_requests
from airflow_k8s_reconcile.testing.fault_server import FaultServer


def test_unverified_requests_to_our_server_do_not_print_insecure_request_warnings():
    # pytest runs with filterwarnings=error: an InsecureRequestWarning would fail the request itself.
    with FaultServer("status", status=404) as server:
        source = ClusterSource(
            mode=AuthMode.KUBECONFIG_FILE, server=server.url, credential=NoCredential(), verify_ssl=False
        )
        with build_sync_client(source, policy=NO_RETRY) as api, pytest.raises(k8s.ApiException) as caught:
            k8s.VersionApi(api).get_code()
    assert caught.value.status == 404
    with warnings.catch_warnings(record=True) as seen:
        warnings.filterwarnings("always", category=InsecureRequestWarning)
        quiet_unverified_requests(
            "https://127.0.0.1:6443"
        )  # back in front of "always", as a client build does
        for host in ("127.0.0.1", "other.example"):
            warnings.warn(
                f"Unverified HTTPS request is being made to host '{host}'. x",
                InsecureRequestWarning,
                stacklevel=1,
            )
    assert [str(item.message) for item in seen] == [
        "Unverified HTTPS request is being made to host 'other.example'. x"
    ]
