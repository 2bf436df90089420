"""K8sPreflightOperator and its alias K8sConnectionCheckOperator, with a fake hook through the protocol."""

from __future__ import annotations

import json

import pytest
from fake_preflight import CAUSE, YAML, FakeHook, broken, granted, missing

from airflow_k8s_reconcile.compat import AirflowFailException
from airflow_k8s_reconcile.domain.common.catalogue import RBAC_PERMISSION_UNKNOWN, finding
from airflow_k8s_reconcile.findings import Report
from airflow_k8s_reconcile.operators.connection_check import K8sConnectionCheckOperator
from airflow_k8s_reconcile.operators.preflight import K8sPreflightOperator
from airflow_k8s_reconcile.permissions import Permission

CM = Permission(verbs=("get", "list"), resource="configmaps")


def _run(op, hook):
    op.get_hook = lambda: hook
    return op.execute(context={})


def _unknown() -> Report:
    return Report.build([finding(RBAC_PERMISSION_UNKNOWN, "could not check list pods.")], {"conn_id": "k"})


def test_passes_the_parsed_permissions_namespaces_and_checks_and_returns_the_report():
    hook = FakeHook(granted())
    op = K8sPreflightOperator(task_id="p", permissions=["get,list:configmaps"], namespaces=["a", "b"])
    result = _run(op, hook)
    assert hook.calls == [{"permissions": (CM,), "namespaces": ("a", "b"), "checks": "all"}]
    assert result["verdict"] == "pass"
    assert json.loads(json.dumps(result)) == result


def test_a_missing_permission_fails_with_headline_and_yaml():
    op = K8sPreflightOperator(task_id="p", permissions=[CM], namespaces=["jobs"])
    with pytest.raises(AirflowFailException) as raised:
        _run(op, FakeHook(missing()))
    assert str(raised.value).startswith(f"FAIL: Required permission missing: {CAUSE}\n")
    assert YAML.rstrip() in str(raised.value)


@pytest.mark.parametrize(("fail_on", "fails"), [("fail", False), ("warn", True)])
def test_fail_on_decides_about_warnings(fail_on, fails):
    op = K8sPreflightOperator(task_id="p", permissions=[CM], fail_on=fail_on)
    if fails:
        with pytest.raises(AirflowFailException, match="WARN: Required permission could not be checked"):
            _run(op, FakeHook(_unknown()))
    else:
        assert _run(op, FakeHook(_unknown()))["verdict"] == "warn"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"permissions": ["configmaps"]}, "Invalid permission SPEC 'configmaps': no ':'"),
        ({"permissions": "get:pods"}, r"permissions=\['get:pods'\]"),
        ({"namespaces": "jobs"}, r"namespaces=\['jobs'\]"),
        ({"checks": "everything"}, "checks must be one of all, fast, rbac"),
        ({"fail_on": "never"}, "fail_on must be 'fail' or 'warn'"),
    ],
)
def test_bad_rendered_arguments_fail_before_any_request(kwargs, message):
    hook = FakeHook(granted())
    op = K8sPreflightOperator(task_id="p", **kwargs)  # __init__ accepts them: they may be templates
    with pytest.raises(AirflowFailException, match=message):
        _run(op, hook)
    assert hook.calls == []


def test_required_permissions_are_the_permissions_in_each_namespace():
    op = K8sPreflightOperator(
        task_id="p", permissions=["get:configmaps", "list:nodes"], namespaces=["a", "b"]
    )
    assert [(p.resource, p.namespace) for p in op.required_permissions] == [
        ("configmaps", "a"),
        ("configmaps", "b"),
        ("nodes", "a"),  # cluster-scoped: expand_checks checks it once, at cluster scope
        ("nodes", "b"),
    ]


def test_connection_check_is_the_fast_preflight_without_permissions():
    hook = FakeHook(granted())
    op = K8sConnectionCheckOperator(task_id="c", namespaces=["jobs"])
    assert isinstance(op, K8sPreflightOperator)
    _run(op, hook)
    assert hook.calls == [{"permissions": (), "namespaces": ("jobs",), "checks": "fast"}]
    assert op.required_permissions == ()


def test_connection_check_fails_on_warning_only_when_asked():
    assert _run(K8sConnectionCheckOperator(task_id="c"), FakeHook(_unknown()))["verdict"] == "warn"
    with pytest.raises(AirflowFailException, match=r"^WARN: "):
        _run(K8sConnectionCheckOperator(task_id="c", fail_on_warning=True), FakeHook(_unknown()))
    with pytest.raises(AirflowFailException, match="/nope does not exist"):
        _run(K8sConnectionCheckOperator(task_id="c"), FakeHook(broken()))
