"""The declared-permissions gate: what it checks, what it caches and for how long, what it raises."""

from __future__ import annotations

import pytest
from airflow.sdk import BaseOperator
from fake_preflight import CAUSE, YAML, FakeHook, broken, granted, missing, refused

from airflow_k8s_reconcile.compat import AirflowFailException
from airflow_k8s_reconcile.domain.common.catalogue import NET_CONNECTION_REFUSED, RBAC_FORBIDDEN, finding
from airflow_k8s_reconcile.exceptions import PermissionDeniedError, PreflightFailedError
from airflow_k8s_reconcile.findings import Report
from airflow_k8s_reconcile.permissions import (
    Permission,
    PermissionPreflightMixin,
    PermissionSpecError,
    PreflightCache,
    as_permissions,
    cache_key,
    failure_message,
    in_namespaces,
)

CM = Permission(verbs=("get", "list"), resource="configmaps")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class GatedOperator(PermissionPreflightMixin, BaseOperator):
    def __init__(self, *, namespace: str = "jobs", preflight: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.namespace = namespace
        self.preflight = preflight
        self.k8s_reconcile_conn_id = "k"

    @property
    def required_permissions(self):
        return in_namespaces([CM], [self.namespace])


@pytest.fixture
def cache(monkeypatch):
    clock = Clock()
    fresh = PreflightCache(ttl=300, clock=clock)
    monkeypatch.setattr(GatedOperator, "preflight_cache", fresh)
    fresh.clock = clock
    return fresh


class RecordingTI:
    def __init__(self) -> None:
        self.pushed: dict = {}

    def xcom_push(self, key, value) -> None:
        self.pushed[key] = value


def test_spec_strings_become_permissions_and_bad_ones_name_the_fix():
    assert as_permissions(["get,list:configmaps", CM]) == (CM, CM)
    with pytest.raises(PermissionSpecError, match="no ':'"):
        as_permissions(["configmaps"])
    with pytest.raises(PermissionSpecError, match=r"permissions=\['get:pods'\]"):
        as_permissions("get:pods")


def test_namespace_less_permissions_repeat_per_namespace_others_stay():
    nodes = Permission(verbs=("list",), resource="nodes", namespace="")
    own = Permission(verbs=("get",), resource="secrets", namespace="vault")
    out = in_namespaces([CM, own, Permission(verbs=("get",), url="/healthz")], ["a", "b", "a"])
    assert [(p.resource or p.url, p.namespace) for p in out] == [
        ("configmaps", "a"),
        ("configmaps", "b"),
        ("secrets", "vault"),
        ("/healthz", ""),
    ]
    assert in_namespaces([nodes], []) == (nodes,)


def test_gate_checks_exactly_the_declared_permissions_and_passes(cache):
    hook = FakeHook(granted())
    ti = RecordingTI()
    report = GatedOperator(task_id="t").preflight_before_acting(hook, {"ti": ti})
    assert report is not None
    assert report.ok
    assert hook.calls == [
        {
            "permissions": (Permission(verbs=("get", "list"), resource="configmaps", namespace="jobs"),),
            "namespaces": (),
            "checks": "rbac",
        }
    ]
    assert ti.pushed["preflight"]["verdict"] == "pass"


def test_a_pass_is_reused_for_the_ttl_then_checked_again(cache):
    hook = FakeHook(granted())
    op = GatedOperator(task_id="t")
    op.preflight_before_acting(hook, {})
    cache.clock.now += 299
    op.preflight_before_acting(hook, {})
    assert len(hook.calls) == 1
    cache.clock.now += 2
    op.preflight_before_acting(hook, {})
    assert len(hook.calls) == 2


@pytest.mark.parametrize(
    ("change", "expect_calls"),
    [
        pytest.param(lambda op, hook: None, 1, id="same-everything"),
        pytest.param(lambda op, hook: setattr(op, "namespace", "other"), 2, id="other-namespace"),
        pytest.param(lambda op, hook: hook.explanation.update(server="https://b"), 2, id="other-resolution"),
        pytest.param(lambda op, hook: setattr(hook, "k8s_reconcile_conn_id", "k2"), 1, id="conn-id-on-op"),
    ],
)
def test_cache_key_is_connection_fingerprint_namespace_and_permissions(cache, change, expect_calls):
    hook = FakeHook(granted())
    op = GatedOperator(task_id="t")
    op.preflight_before_acting(hook, {})
    change(op, hook)
    op.preflight_before_acting(hook, {})
    assert len(hook.calls) == expect_calls


def test_failures_are_never_cached(cache):
    hook = FakeHook(missing(), granted())
    op = GatedOperator(task_id="t")
    with pytest.raises(AirflowFailException):
        op.preflight_before_acting(hook, {})
    assert op.preflight_before_acting(hook, {}).ok
    assert len(hook.calls) == 2


def test_missing_permission_fails_terminally_with_headline_and_remediation(cache):
    ti = RecordingTI()
    with pytest.raises(AirflowFailException) as raised:
        GatedOperator(task_id="t").preflight_before_acting(FakeHook(missing()), {"ti": ti})
    message = str(raised.value)
    assert message.splitlines()[0] == f"FAIL: Required permission missing: {CAUSE}"
    assert YAML.rstrip() in message
    assert "kubectl create role x -n jobs" in message
    assert ti.pushed["preflight"]["verdict"] == "fail"  # pushed before failing, for the UI


def test_a_broken_connection_fails_terminally_even_without_a_fingerprint(cache):
    with pytest.raises(AirflowFailException, match="/nope does not exist"):
        GatedOperator(task_id="t").preflight_before_acting(FakeHook(broken(), explanation={}), {})
    assert len(cache) == 0


def test_an_outage_is_retryable_not_terminal(cache):
    with pytest.raises(PreflightFailedError, match="Connection refused") as raised:
        GatedOperator(task_id="t").preflight_before_acting(FakeHook(refused()), {})
    assert [f.code for f in raised.value.findings] == ["NET_CONNECTION_REFUSED"]


def test_off_switch_and_nothing_required_skip_the_check(cache):
    hook = FakeHook(missing())
    assert GatedOperator(task_id="t", preflight=False).preflight_before_acting(hook, {}) is None
    assert PermissionPreflightMixin().preflight_before_acting(hook, {}) is None
    assert hook.calls == []


def test_a_denial_at_run_time_forgets_the_connection_and_fails_terminally(cache):
    op = GatedOperator(task_id="t")
    hook = FakeHook(granted())
    op.preflight_before_acting(hook, {})
    other = FakeHook(granted(), conn_id="other")
    cache.put(cache_key("other", {}, [CM], (), "rbac"), granted())
    denied = PermissionDeniedError(
        "forbidden", status=403, finding=finding(RBAC_FORBIDDEN, "cannot update configmaps in jobs.")
    )
    with (
        pytest.raises(AirflowFailException, match="cannot update configmaps in jobs") as raised,
        op.permission_denied_guard(),
    ):
        raise denied
    assert raised.value.__cause__ is denied
    assert len(cache) == 1  # only the other connection's entry is left
    op.preflight_before_acting(hook, {})
    assert len(hook.calls) == 2
    assert other.calls == []


def test_failure_message_without_remediation_is_the_headline_code_and_fix():
    item = finding(NET_CONNECTION_REFUSED, "nothing listens on 127.0.0.1:1.", "Start the API server.")
    report = Report.build([item], {"conn_id": "k"})
    assert (
        failure_message(report) == f"{report.headline}\n[NET_CONNECTION_REFUSED] Fix: Start the API server."
    )
    assert (
        failure_message(refused()) == f"{refused().headline}\n[NET_CONNECTION_REFUSED]"
    )  # no fix: code only


def test_field_mappings_are_permissions_too_and_bad_ones_are_named():
    fields = {"verbs": ["get"], "group": "apps", "resource": "deployments", "namespace": "a"}
    assert as_permissions([fields]) == (
        Permission(verbs=("get",), group="apps", resource="deployments", namespace="a"),
    )
    with pytest.raises(PermissionSpecError, match="needs 'verbs'"):
        as_permissions([{"verbs": ["get"], "resources": "pods"}])
    with pytest.raises(PermissionSpecError, match="needs 'verbs'"):
        as_permissions([{"verbs": "get", "resource": "pods"}])
