"""The check runners' non-transport paths: a bug propagates as itself, and the outermost boundaries report it.

Only API and transport errors are observations; anything else (here: a wrong object where an ``ApiClient`` belongs,
a genuine programming error) must surface with its traceback. ``test_connection`` and ``doctor`` are the outermost
boundaries: they log the traceback and report ``INTERNAL_ERROR``, never a network finding.
"""

from __future__ import annotations

import asyncio

import pytest

from airflow_k8s_reconcile.cli.main import main
from airflow_k8s_reconcile.domain.connection.connection_test import connection_test_plan
from airflow_k8s_reconcile.hooks import preflight
from airflow_k8s_reconcile.hooks._checks.runner import perform, run_checks
from airflow_k8s_reconcile.hooks._checks.runner_async import aperform, arun_checks
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

PLAN = connection_test_plan(
    server="https://api.example.com:6443", namespace="jobs", namespaces=("jobs",), credential_summary={}
)


class NotAClient:
    """What a caller might pass by mistake: it has none of ``ApiClient``'s methods."""


def test_sync_runner_lets_a_programming_error_through():
    """Regression: the probe's broad except turned this AttributeError into NET_REQUEST_FAILED."""
    with pytest.raises(AttributeError):
        run_checks(NotAClient(), PLAN, server="https://api.example.com:6443")


def test_async_runner_lets_a_programming_error_through():
    with pytest.raises(AttributeError):
        asyncio.run(arun_checks(NotAClient(), PLAN, server="https://api.example.com:6443"))


def test_runners_refuse_a_request_they_do_not_know():
    with pytest.raises(TypeError, match="cannot perform str"):
        perform(NotAClient(), "resolve DNS")
    with pytest.raises(TypeError, match="cannot perform str"):
        asyncio.run(aperform(NotAClient(), "resolve DNS"))


def _broken_diagnose(*_args, **_kwargs):
    raise AttributeError("'NoneType' object has no attribute 'items'")


def test_test_connection_reports_a_bug_as_internal_error_with_the_traceback_logged(monkeypatch, capsys):
    monkeypatch.setattr("airflow_k8s_reconcile.hooks.kubernetes.diagnose", _broken_diagnose)
    ok, message = K8sReconcileHook(environ={"HOME": "/nonexistent-home"}).test_connection()
    assert ok is False
    assert message.startswith("FAIL: Internal error in airflow-k8s-reconcile [INTERNAL_ERROR]: ")
    assert "INTERNAL_ERROR" in message
    assert "AttributeError" in message
    assert "NET_" not in message
    logged = "".join(capsys.readouterr())  # the task SDK's structlog writes the hook's log to the console
    assert "The connection test stopped on an unexpected error" in logged
    assert "Traceback (most recent call last)" in logged
    assert "AttributeError: 'NoneType' object has no attribute 'items'" in logged


def test_doctor_reports_a_bug_as_internal_error_exit_1_with_the_traceback_on_stderr(
    monkeypatch, tmp_path, capsys
):
    # doctor runs the preflight (the fast checks without --require).
    monkeypatch.setattr(preflight, "preflight", _broken_diagnose)
    assert main(["doctor", "--kubeconfig", str(tmp_path / "config")]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("FAIL: Internal error in airflow-k8s-reconcile")
    assert "[  !!] INTERNAL_ERROR:" in out
    assert "Traceback (most recent call last)" in err
    assert "AttributeError" in err
