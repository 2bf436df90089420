"""Conflicts and fights: a stale resourceVersion, a competing server-side apply manager, flap protection."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from reconcile_it import codes, entry, policy, raw, spec, statuses

from airflow_k8s_reconcile.hooks._reconcile.run import Run


def test_stale_resource_version_rereads_and_replans(hook, core, k8s_namespace):
    specs = [spec(k8s_namespace)]
    hook.reconcile(specs, policy())
    core.patch_namespaced_config_map("app", k8s_namespace, {"data": {"evil": "1"}}, field_manager="first")
    stale = Run(api=hook.get_conn(), policy=policy(), now=datetime.now(UTC)).read(specs)
    core.patch_namespaced_config_map("app", k8s_namespace, {"data": {"evil2": "2"}}, field_manager="second")

    class StaleRun(Run):
        def read(self, specs):
            return stale  # what we saw before "second" wrote: its resourceVersion is out of date now

    result = StaleRun(api=hook.get_conn(), policy=policy(), now=datetime.now(UTC)).reconcile(specs, None)
    assert statuses(result.report) == {"app": "restored"}
    assert result.report["requests"]["json-patch"] == 2  # the guarded patch failed its test, then succeeded
    assert result.report["requests"]["get"] == 1  # the re-read
    assert raw(core, k8s_namespace, "app")["data"] == {"a": "1", "b": "2"}


def _ssa(core, namespace, data, manager):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}, "data": data}
    core.patch_namespaced_config_map(
        "app",
        namespace,
        body,
        field_manager=manager,
        force=True,
        _content_type="application/apply-patch+yaml",
    )


def test_competing_ssa_manager_is_reported_without_force_and_overridden_with_it(hook, core, k8s_namespace):
    specs = [spec(k8s_namespace)]
    hook.reconcile(specs, policy())
    _ssa(core, k8s_namespace, {"a": "theirs"}, "other-applier")
    report = hook.reconcile(specs, policy(force=False)).report
    assert statuses(report) == {"app": "conflict"}
    assert "RECONCILE_FIELD_MANAGER_CONFLICT" in codes(report, "app")
    assert "other-applier" in str(entry(report, "app")["findings"])
    assert raw(core, k8s_namespace, "app")["data"]["a"] == "theirs"
    assert statuses(hook.reconcile(specs, policy()).report) == {"app": "restored"}
    assert raw(core, k8s_namespace, "app")["data"]["a"] == "1"


def test_flap_protection_stops_restoring_and_names_the_fighter(hook, core, k8s_namespace):
    specs = [spec(k8s_namespace)]
    report = hook.reconcile(specs, policy()).report
    outcomes = []
    for round_ in range(3):
        time.sleep(1.1)  # managedFields times have whole seconds: each rewrite must be a distinct observation
        core.patch_namespaced_config_map(
            "app", k8s_namespace, {"data": {"a": f"fight-{round_}"}}, field_manager="fighter"
        )
        report = hook.reconcile(specs, policy(flap_threshold=2), previous_report=report).report
        outcomes.append(statuses(report)["app"])
    assert outcomes == ["restored", "restored", "failed"]
    (flap,) = [f for f in entry(report, "app")["findings"] if f["code"] == "RECONCILE_FLAPPING"]
    assert "'fighter' rewrote" in flap["cause"]
    assert raw(core, k8s_namespace, "app")["data"]["a"] == "fight-2"  # left as the fighter wrote it
