"""The hooks' one retry policy, shown against the fault server (a real server cannot answer 429/503 on demand)."""

from __future__ import annotations

import asyncio
import base64
import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes_asyncio import client as k8s_async

from airflow_k8s_reconcile.exceptions import ClusterAccessError
from airflow_k8s_reconcile.hooks._transport.retry import RetryPolicy, parse_retry_after
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook
from airflow_k8s_reconcile.testing.fault_server import FaultServer

FAST = RetryPolicy(attempts=5, initial_delay=0.01, max_delay=2.0)
ENV = {"HOME": "/nonexistent-home", "PATH": "/usr/bin"}


def _kubeconfig(server: FaultServer) -> str:
    cluster = {"server": server.url}
    if server.ca_path is not None:
        cluster["certificate-authority-data"] = base64.b64encode(server.ca_path.read_bytes()).decode()
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fault", "cluster": cluster}],
            "users": [{"name": "u", "user": {"token": "fault-token"}}],
            "contexts": [{"name": "fault", "context": {"cluster": "fault", "user": "u"}}],
            "current-context": "fault",
        }
    )


def _sync_hook(server: FaultServer, policy: RetryPolicy = FAST) -> K8sReconcileHook:
    return K8sReconcileHook(
        environ=ENV,
        retry_policy=policy,
        auth_mode="kubeconfig_inline",
        kube_config=_kubeconfig(server),
        request_timeout=5,
    )


def _async_hook(server: FaultServer, policy: RetryPolicy = FAST) -> AsyncK8sReconcileHook:
    return AsyncK8sReconcileHook(
        environ=ENV,
        retry_policy=policy,
        auth_mode="kubeconfig_inline",
        kube_config=_kubeconfig(server),
        request_timeout=5,
    )


def _sync_version(hook: K8sReconcileHook) -> str:
    with hook.diagnosed("read /version"):
        return str(k8s.VersionApi(hook.get_conn()).get_code().git_version)


def _async_version(hook: AsyncK8sReconcileHook) -> str:
    async def call() -> str:
        async with hook.get_conn() as api:
            with hook.diagnosed("read /version"):
                return str((await k8s_async.VersionApi(api).get_code()).git_version)

    return asyncio.run(call())


@pytest.mark.parametrize("version", [_sync_version, _async_version], ids=["sync", "async"])
def test_429_then_200_succeeds_after_waiting_retry_after(version):
    hook_of = _sync_hook if version is _sync_version else _async_hook
    with FaultServer("status", statuses=(429, 200), retry_after="1") as server:
        started = time.monotonic()
        assert version(hook_of(server)) == "v1.20.2-fault"
        waited = time.monotonic() - started
    assert server.requests == ["GET /version/", "GET /version/"]
    assert waited >= 0.9  # Retry-After: 1 beats the 0.01 s backoff


@pytest.mark.parametrize("version", [_sync_version, _async_version], ids=["sync", "async"])
def test_five_503s_fail_with_the_server_error_finding(version):
    hook_of = _sync_hook if version is _sync_version else _async_hook
    with (
        FaultServer("status", statuses=(503,), retry_after="") as server,
        pytest.raises(ClusterAccessError) as raised,
    ):
        version(hook_of(server))
    assert raised.value.finding is not None
    assert raised.value.finding.code == "API_SERVER_ERROR"
    assert raised.value.transient
    assert len(server.requests) == 5


def _review() -> k8s.V1SelfSubjectAccessReview:
    attributes = k8s.V1ResourceAttributes(verb="get", resource="configmaps")
    return k8s.V1SelfSubjectAccessReview(
        spec=k8s.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
    )


def test_a_post_is_sent_once_unless_declared_safe_to_retry():
    with FaultServer("status", statuses=(503,), retry_after="") as server:
        hook = _sync_hook(server)
        api = k8s.AuthorizationV1Api(hook.get_conn())
        with pytest.raises(k8s.ApiException):
            api.create_self_subject_access_review(_review())
        assert len(server.requests) == 1
        with hook.safe_to_retry(), pytest.raises(k8s.ApiException):
            api.create_self_subject_access_review(_review())
    assert len(server.requests) == 1 + 5
    assert {request.split(" ")[0] for request in server.requests} == {"POST"}


def test_a_reset_connection_is_retried_within_the_attempt_bound():
    with FaultServer("reset") as server:
        hook = _sync_hook(server, RetryPolicy(attempts=3, initial_delay=0.01))
        with pytest.raises(ClusterAccessError) as raised:
            _sync_version(hook)
    assert raised.value.finding is not None
    assert raised.value.finding.code == "NET_CONNECTION_RESET"
    assert len(server.requests) == 3


def test_policy_without_retries_sends_once():
    with (
        FaultServer("status", statuses=(503, 200), retry_after="") as server,
        pytest.raises(ClusterAccessError),
    ):
        _sync_version(_sync_hook(server, RetryPolicy(attempts=1)))
    assert len(server.requests) == 1


def _api_error(status: int, retry_after: str = "") -> k8s.ApiException:
    error = k8s.ApiException(status=status, reason="x")
    error.headers = {"Retry-After": retry_after} if retry_after else {}
    return error


@pytest.mark.parametrize(
    ("error", "method", "attempt", "low", "high"),
    [
        pytest.param(_api_error(503), "GET", 1, 0.5, 0.6, id="first-backoff"),
        pytest.param(_api_error(502), "DELETE", 3, 2.0, 2.4, id="doubles"),
        pytest.param(_api_error(500), "PUT", 4, 4.0, 4.8, id="third-doubling"),
        pytest.param(_api_error(429, "7"), "GET", 1, 7.0, 7.0, id="retry-after-seconds"),
        pytest.param(_api_error(429, "600"), "GET", 1, 30.0, 30.0, id="retry-after-capped"),
    ],
)
def test_backoff_is_exponential_with_bounded_jitter(error, method, attempt, low, high):
    rng = random.Random(7)  # noqa: S311 - jitter
    wait = RetryPolicy().delay(error, method=method, attempt=attempt, rng=rng)
    assert wait is not None
    assert low <= wait <= high


@pytest.mark.parametrize(
    ("error", "method", "attempt"),
    [
        pytest.param(_api_error(503), "POST", 1, id="post"),
        pytest.param(_api_error(503), "PATCH", 1, id="patch"),
        pytest.param(_api_error(404), "GET", 1, id="not-found"),
        pytest.param(_api_error(409), "PUT", 1, id="conflict"),
        pytest.param(_api_error(401), "GET", 1, id="unauthorized"),
        pytest.param(_api_error(503), "GET", 5, id="attempts-exhausted"),
        pytest.param(TimeoutError("read timed out"), "GET", 1, id="timeout"),
    ],
)
def test_not_retried(error, method, attempt):
    rng = random.Random(7)  # noqa: S311 - jitter
    assert RetryPolicy().delay(error, method=method, attempt=attempt, rng=rng) is None


def test_retry_after_as_an_http_date():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=12), usegmt=True), now=now) == 12.0
    assert parse_retry_after("soon", now=now) is None
