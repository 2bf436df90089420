"""Modes, the ownership guard, validation before any request, RBAC denials, prune safety, rotation."""

from __future__ import annotations

import time

import pytest
from reconcile_it import codes, entry, hook_for, policy, raw, spec, statuses, versions

from airflow_k8s_reconcile.domain.reconcile.desired.markers import (
    ADOPTED_ANNOTATION,
    OWNER_ANNOTATION,
    with_hash_suffix,
)
from airflow_k8s_reconcile.exceptions import PermissionDeniedError
from airflow_k8s_reconcile.testing.metrics import of_verbs


def _tamper(core, namespace):
    core.patch_namespaced_config_map(
        "app", namespace, {"data": {"a": "0", "evil": "x"}}, field_manager="kubectl-edit"
    )


def test_detect_mode_reports_and_writes_nothing(hook, core, k8s_namespace, api_counts):
    specs = [spec(k8s_namespace), spec(k8s_namespace, "absent")]
    hook.reconcile(specs[:1], policy())
    _tamper(core, k8s_namespace)
    before, counted = versions(core, k8s_namespace), api_counts()
    report = hook.reconcile(specs, policy(mode="detect"), emit_events=False).report
    assert of_verbs(api_counts() - counted, "PATCH", "APPLY") == 0
    assert versions(core, k8s_namespace) == before
    assert report["summary"]["in_sync"] is False
    assert "RECONCILE_DRIFT_DETECTED" in codes(report, "app")
    assert entry(report, "app")["written"] is False
    assert entry(report, "absent")["drift"]["missing"] is True


def test_dry_run_sends_writes_the_server_does_not_persist(hook, core, k8s_namespace, api_counts):
    specs = [spec(k8s_namespace), spec(k8s_namespace, "new")]
    hook.reconcile(specs[:1], policy())
    _tamper(core, k8s_namespace)
    before, counted = versions(core, k8s_namespace), api_counts()
    report = hook.reconcile(specs, policy(mode="dry_run")).report
    assert versions(core, k8s_namespace) == before
    assert statuses(report) == {"app": "restored", "new": "created"}
    assert report["requests"]["apply"] == 2
    assert report["requests"]["json-patch"] == 1
    assert (
        of_verbs(api_counts() - counted, "PATCH", "APPLY") == 3
    )  # with dryRun=All: validated, persisted nowhere
    assert report["events"]["emitted"] == 0


def _foreign(core, namespace, name="app", labels=None):
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": name, "labels": labels or {}}, "data": {"x": "theirs"}}
    )


def test_foreign_object_fails_by_default_and_is_untouched(hook, core, k8s_namespace):
    _foreign(core, k8s_namespace)
    before = versions(core, k8s_namespace)
    report = hook.reconcile([spec(k8s_namespace)], policy()).report
    assert statuses(report) == {"app": "failed"}
    assert "RECONCILE_FOREIGN_OBJECT" in codes(report, "app")
    assert versions(core, k8s_namespace) == before


def test_foreign_object_adopted_explicitly_and_recorded(hook, core, k8s_namespace):
    _foreign(core, k8s_namespace)
    report = hook.reconcile([spec(k8s_namespace)], policy(on_foreign="adopt")).report
    assert "adopt" in entry(report, "app")["actions"]
    live = raw(core, k8s_namespace, "app")
    assert live["data"] == {"a": "1", "b": "2"}
    assert ADOPTED_ANNOTATION in live["metadata"]["annotations"]
    assert live["metadata"]["annotations"][OWNER_ANNOTATION] == "dag/task"


def test_foreign_object_skipped(hook, core, k8s_namespace):
    _foreign(core, k8s_namespace)
    report = hook.reconcile([spec(k8s_namespace)], policy(on_foreign="skip")).report
    assert statuses(report) == {"app": "skipped"}
    assert raw(core, k8s_namespace, "app")["data"] == {"x": "theirs"}


def test_object_of_another_owner_always_fails(hook, core, k8s_namespace):
    hook.reconcile([spec(k8s_namespace)], policy(owner="other/task"))
    before = versions(core, k8s_namespace)
    report = hook.reconcile([spec(k8s_namespace)], policy(on_foreign="adopt")).report
    assert statuses(report) == {"app": "failed"}
    assert "RECONCILE_OWNED_BY_OTHER" in codes(report, "app")
    assert "other/task" in entry(report, "app")["findings"][0]["cause"]
    assert versions(core, k8s_namespace) == before


def test_invalid_specs_are_all_named_and_nothing_is_sent(hook, core, k8s_namespace, api_counts):
    hook.reconcile([spec(k8s_namespace)], policy())
    before, counted = versions(core, k8s_namespace), api_counts()
    bad = [
        spec(k8s_namespace, "Bad_Name"),
        spec(k8s_namespace, data={"bad/key": "v"}),
        spec(k8s_namespace, "x", data={"n": 1}),
    ]
    report = hook.reconcile(bad, policy()).report
    sent = api_counts() - counted
    assert {"RECONCILE_BAD_NAME", "RECONCILE_BAD_KEY", "RECONCILE_BAD_VALUE"} <= codes(report)
    assert report["objects"] == []
    assert report["requests"] == {}
    assert versions(core, k8s_namespace) == before
    assert of_verbs(sent, "GET", "PATCH", "APPLY") == 0


READ = [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]
WRITE = [
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "create", "patch", "delete"]}
]


def test_rbac_without_list_fails_naming_the_permission(k8s_identity, k8s_namespace):
    identity = k8s_identity(rules=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}])
    with pytest.raises(PermissionDeniedError) as caught:
        hook_for(identity.kubeconfig_path).reconcile([spec(k8s_namespace)], policy())
    assert caught.value.finding.code == "RBAC_FORBIDDEN"
    assert "list" in caught.value.finding.cause
    assert "configmaps" in caught.value.finding.cause


def test_rbac_without_patch_fails_the_object_naming_the_permission(k8s_identity, core, k8s_namespace):
    identity = k8s_identity(rules=READ)
    report = hook_for(identity.kubeconfig_path).reconcile([spec(k8s_namespace)], policy()).report
    assert statuses(report) == {"app": "failed"}
    (found,) = entry(report, "app")["findings"]
    assert found["code"] == "RBAC_FORBIDDEN"
    assert "patch" in found["cause"]
    assert versions(core, k8s_namespace) == {}


def test_events_denied_by_rbac_do_not_fail_the_reconcile(k8s_identity, hook, core, k8s_namespace):
    specs = [spec(k8s_namespace)]
    hook.reconcile(specs, policy())
    _tamper(core, k8s_namespace)
    identity = k8s_identity(rules=WRITE)
    result = hook_for(identity.kubeconfig_path).reconcile(specs, policy())
    assert result.report["summary"]["in_sync"] is True
    assert result.report["events"]["emitted"] == 0
    assert result.report["events"]["refused"]["code"] == "RBAC_FORBIDDEN"
    assert "events" in result.report["events"]["refused"]["cause"]


def test_prune_deletes_only_our_undesired_objects(hook, core, k8s_namespace):
    hook.reconcile([spec(k8s_namespace, "keep"), spec(k8s_namespace, "old")], policy())
    hook.reconcile([spec(k8s_namespace, "someone-elses")], policy(owner="other/task"))
    _foreign(core, k8s_namespace, "foreign")
    report = hook.reconcile([spec(k8s_namespace, "keep")], policy(prune=True)).report
    assert statuses(report) == {"keep": "unchanged", "old": "pruned"}
    assert set(versions(core, k8s_namespace)) == {"keep", "someone-elses", "foreign"}


def test_empty_prune_is_refused_unless_allowed(hook, core, k8s_namespace):
    hook.reconcile([spec(k8s_namespace, "a"), spec(k8s_namespace, "b")], policy())
    refused = hook.reconcile([], policy(prune=True), namespaces=[k8s_namespace]).report
    assert "RECONCILE_PRUNE_REFUSED" in codes(refused)
    assert set(versions(core, k8s_namespace)) == {"a", "b"}
    allowed = hook.reconcile(
        [], policy(prune=True, allow_empty_prune=True), namespaces=[k8s_namespace]
    ).report
    assert statuses(allowed) == {"a": "pruned", "b": "pruned"}
    assert versions(core, k8s_namespace) == {}


def test_immutable_rotation_keeps_the_last_n(hook, core, k8s_namespace):
    names = []
    for version in range(4):
        rotated = with_hash_suffix(spec(k8s_namespace, "settings", data={"v": str(version)}, immutable=True))
        names.append(rotated.name)
        hook.reconcile([rotated], policy(keep_last=2))
        core.read_namespaced_config_map(rotated.name, k8s_namespace)  # exists
        time.sleep(1.1)  # creationTimestamp has whole seconds: "newest" needs distinct ones
    assert set(versions(core, k8s_namespace)) == {names[-1], names[-2]}
    assert raw(core, k8s_namespace, names[-1])["immutable"] is True
