"""A 429 or 5xx that outlasts the retry policy during a reconcile: a retryable error naming the finding.

A real API server cannot answer 429/503 on demand, so the hook points at the fault server (the only fake), with a
retry policy of three quick attempts. The reconcile must end in the provider's transient ``ClusterAccessError``
(Airflow's own task retries apply), never in ``AirflowFailException``, and must not write anything.
"""

from __future__ import annotations

import base64

import pytest
import yaml
from reconcile_it import hook_for, policy, spec

from airflow_k8s_reconcile.compat import AirflowFailException
from airflow_k8s_reconcile.exceptions import ClusterAccessError
from airflow_k8s_reconcile.hooks._transport.retry import RetryPolicy
from airflow_k8s_reconcile.operators.reconcile import K8sReconcileConfigMapsOperator
from airflow_k8s_reconcile.testing.fault_server import FaultServer

QUICK = RetryPolicy(attempts=3, initial_delay=0.01, max_delay=0.05)
CASES = [
    pytest.param(503, "API_SERVER_ERROR", id="503"),
    pytest.param(429, "API_RATE_LIMITED", id="429"),
]


def _kubeconfig(tmp_path, server: FaultServer):
    cluster = {"server": server.url}
    if server.ca_path is not None:
        cluster["certificate-authority-data"] = base64.b64encode(server.ca_path.read_bytes()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fault", "cluster": cluster}],
        "users": [{"name": "u", "user": {"token": "fault-token"}}],
        "contexts": [{"name": "fault", "context": {"cluster": "fault", "user": "u", "namespace": "ns"}}],
        "current-context": "fault",
    }
    path = tmp_path / "fault.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(("status", "expected"), CASES)
def test_hook_reconcile_raises_the_transient_finding_after_the_retries(tmp_path, status, expected):
    with FaultServer("status", status=status, retry_after="0") as server:
        hook = hook_for(_kubeconfig(tmp_path, server), retry_policy=QUICK)
        try:
            with pytest.raises(ClusterAccessError) as raised:
                hook.reconcile([spec("ns")], policy())
        finally:
            hook.close()
    error = raised.value
    assert error.transient
    assert error.finding is not None
    assert error.finding.code == expected
    assert error.finding.fix
    assert len(server.requests) == QUICK.attempts  # retried, then gave up
    assert all(request.startswith("GET ") for request in server.requests)  # nothing was written
    assert "fault-token" not in str(error)


@pytest.mark.parametrize(("status", "expected"), CASES)
def test_operator_lets_airflow_retry_not_fail(tmp_path, connection, monkeypatch, status, expected):
    monkeypatch.setattr("airflow_k8s_reconcile.hooks._base.RetryPolicy", lambda: QUICK)
    with FaultServer("status", status=status, retry_after="0") as server:
        conn_id = connection("rc_fault", {"kube_config_path": str(_kubeconfig(tmp_path, server))})
        operator = K8sReconcileConfigMapsOperator(
            task_id="reconcile",
            k8s_reconcile_conn_id=conn_id,
            namespace="ns",
            configmaps=[{"name": "app", "data": {"a": "1"}}],
            preflight=False,  # the gate would stop at readiness first; this is about the reconcile itself
        )
        with pytest.raises(ClusterAccessError) as raised:
            operator.execute(context={})
    assert not isinstance(raised.value, AirflowFailException)
    assert raised.value.transient
    assert raised.value.finding is not None
    assert raised.value.finding.code == expected
    assert len(server.requests) == QUICK.attempts
