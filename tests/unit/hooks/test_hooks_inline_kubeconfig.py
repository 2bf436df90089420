"""Both hooks read our type's inline kubeconfig from the password field; the legacy extra works but warns."""

from __future__ import annotations

import asyncio
import json

import pytest

from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook

EMPTY_ENV = {"HOME": "/nonexistent-home", "PATH": "/usr/bin"}
TOKEN = "PLANTEDINLINETOKEN-0123456789"
KUBECONFIG = json.dumps(
    {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "https://api.example.com:6443"}}],
        "users": [{"name": "u", "user": {"token": TOKEN}}],
        "contexts": [{"name": "dev", "context": {"cluster": "c", "user": "u", "namespace": "jobs"}}],
        "current-context": "dev",
    },
    indent=2,
)


def _define(monkeypatch, conn_id: str, **connection) -> str:
    body = {"conn_type": "k8s_reconcile", **connection}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(body))
    return conn_id


def _both(conn_id: str):
    sync = K8sReconcileHook(conn_id, environ=EMPTY_ENV).resolve()
    async_ = asyncio.run(AsyncK8sReconcileHook(conn_id, environ=EMPTY_ENV).resolve())
    return sync, async_


def test_the_password_field_holds_the_inline_kubeconfig(monkeypatch):
    conn_id = _define(monkeypatch, "inline_pw", password=KUBECONFIG)
    for resolution in _both(conn_id):
        assert resolution.source.mode.value == "kubeconfig_inline"
        assert resolution.source.server == "https://api.example.com:6443"
        assert resolution.namespace == "jobs"
        assert not [w for w in resolution.warnings if w.code == "CONN_INLINE_KUBECONFIG_EXPOSED"]


def test_json_that_lost_its_line_breaks_still_resolves(monkeypatch):
    """The form's password input is one line: browsers drop the line breaks of pasted text; JSON survives it."""
    conn_id = _define(monkeypatch, "inline_pw_flat", password=KUBECONFIG.replace("\n", ""))
    sync, _ = _both(conn_id)
    assert sync.namespace == "jobs"


def test_the_legacy_extra_still_works_and_warns_with_the_way_out(monkeypatch, caplog, capsys):
    conn_id = _define(monkeypatch, "inline_extra", extra={"kube_config": KUBECONFIG})
    for resolution in _both(conn_id):
        assert resolution.source.server == "https://api.example.com:6443"
        (warning,) = [w for w in resolution.warnings if w.code == "CONN_INLINE_KUBECONFIG_EXPOSED"]
        assert "Kubeconfig (inline)" in warning.fix
    # Airflow 3.3 logs hooks through structlog (captured output); 3.0 also through stdlib logging (caplog) and its
    # console handler, so the same line can be in both: count where it was logged, not the sum.
    captured = "".join(capsys.readouterr())
    logged = caplog.text + captured
    assert (
        max(
            caplog.text.count("[CONN_INLINE_KUBECONFIG_EXPOSED]"),
            captured.count("[CONN_INLINE_KUBECONFIG_EXPOSED]"),
        )
        == 2
    )
    assert TOKEN not in logged


def test_no_warning_when_the_deployment_hides_the_extra(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES", "comment, kube_config")
    conn_id = _define(
        monkeypatch, "inline_extra_hidden", conn_type="kubernetes", extra={"kube_config": KUBECONFIG}
    )
    for resolution in _both(conn_id):
        assert resolution.namespace == "jobs"
        assert not [w for w in resolution.warnings if w.code == "CONN_INLINE_KUBECONFIG_EXPOSED"]


@pytest.mark.parametrize("conn_type", ["k8s_reconcile", "kubernetes"])
def test_hiding_switched_off_means_exposed_again(monkeypatch, conn_type):
    monkeypatch.setenv("AIRFLOW__CORE__SENSITIVE_VAR_CONN_NAMES", "kube_config")
    monkeypatch.setenv("AIRFLOW__CORE__HIDE_SENSITIVE_VAR_CONN_FIELDS", "False")
    conn_id = _define(
        monkeypatch, "inline_extra_shown", conn_type=conn_type, extra={"kube_config": KUBECONFIG}
    )
    sync, _ = _both(conn_id)
    assert [w.code for w in sync.warnings].count("CONN_INLINE_KUBECONFIG_EXPOSED") == 1
