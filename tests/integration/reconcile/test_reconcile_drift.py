"""Every drift class on a real API server: found, attributed, restored, and in sync afterwards."""

from __future__ import annotations

import pytest
from kubernetes import client as k8s
from reconcile_it import codes, entry, policy, raw, spec, statuses

from airflow_k8s_reconcile.domain.reconcile.desired.markers import HASH_ANNOTATION


def _settle(hook, specs, **kwargs):
    """Reconcile, then check a second run finds everything unchanged."""
    result = hook.reconcile(specs, policy(**kwargs.pop("policy", {})), **kwargs)
    again = hook.reconcile(specs, policy(), previous_report=result.report).report
    assert set(statuses(again).values()) == {"unchanged"}, again
    return result.report


def test_deleted_object_is_restored_and_called_deleted(hook, core, k8s_namespace):
    specs = [spec(k8s_namespace)]
    first = hook.reconcile(specs, policy()).report
    core.delete_namespaced_config_map("app", k8s_namespace)
    report = _settle(hook, specs, previous_report=first)
    assert statuses(report) == {"app": "restored"}
    assert entry(report, "app")["drift"]["missing"] is True
    assert raw(core, k8s_namespace, "app")["data"] == {"a": "1", "b": "2"}


def test_key_added_by_someone_else_is_removed_and_attributed(hook, core, k8s_namespace):
    specs = [spec(k8s_namespace)]
    hook.reconcile(specs, policy())
    core.patch_namespaced_config_map(
        "app", k8s_namespace, {"data": {"evil": "x"}}, field_manager="kubectl-edit"
    )
    report = _settle(hook, specs)
    item = entry(report, "app")
    assert item["status"] == "restored"
    assert item["drift"]["added"] == ["evil"]
    assert item["attribution"][0]["manager"] == "kubectl-edit"
    assert item["attribution"][0]["operation"] == "Update"
    assert any(action.startswith("remove-keys:/data/evil") for action in item["actions"])
    assert "x" not in str(item["values"])  # masked: a fingerprint, never the value
    assert raw(core, k8s_namespace, "app")["data"] == {"a": "1", "b": "2"}


def test_removed_and_modified_keys_are_restored(hook, core, k8s_namespace):
    specs = [spec(k8s_namespace)]
    hook.reconcile(specs, policy())
    core.patch_namespaced_config_map(
        "app",
        k8s_namespace,
        [{"op": "remove", "path": "/data/a"}, {"op": "replace", "path": "/data/b", "value": "9"}],
    )
    report = _settle(hook, specs)
    item = entry(report, "app")
    assert (item["drift"]["removed"], item["drift"]["modified"]) == (["a"], ["b"])
    assert "RECONCILE_HASH_MISMATCH" in codes(report, "app")
    assert raw(core, k8s_namespace, "app")["data"] == {"a": "1", "b": "2"}


def test_managed_labels_and_annotations_are_restored_others_kept(hook, core, k8s_namespace):
    specs = [spec(k8s_namespace, labels={"tier": "web"}, annotations={"note": "ours"})]
    hook.reconcile(specs, policy())
    patch = {"metadata": {"labels": {"tier": "db", "extra": "theirs"}, "annotations": {"note": None}}}
    core.patch_namespaced_config_map("app", k8s_namespace, patch, field_manager="meddler")
    report = _settle(hook, specs)
    changed = {(m["field"], m["key"]) for m in entry(report, "app")["drift"]["metadata"]}
    assert changed == {("labels", "tier"), ("annotations", "note")}
    meta = raw(core, k8s_namespace, "app")["metadata"]
    assert (meta["labels"]["tier"], meta["labels"]["extra"], meta["annotations"]["note"]) == (
        "web",
        "theirs",
        "ours",
    )


def test_uid_change_is_reported(hook, core, k8s_namespace):
    specs = [spec(k8s_namespace)]
    first = hook.reconcile(specs, policy()).report
    copy = raw(core, k8s_namespace, "app")
    core.delete_namespaced_config_map("app", k8s_namespace)
    meta = copy["metadata"]
    body = {
        "metadata": {"name": "app", "labels": meta["labels"], "annotations": meta["annotations"]},
        "data": copy["data"],
    }
    core.create_namespaced_config_map(k8s_namespace, body)
    report = hook.reconcile(specs, policy(), previous_report=first).report
    assert entry(report, "app")["drift"]["uid_changed"] is True
    assert "RECONCILE_UID_CHANGED" in codes(report, "app")


@pytest.mark.parametrize("recreate", [False, True])
def test_made_immutable_blocks_or_recreates(hook, core, k8s_namespace, recreate):
    specs = [spec(k8s_namespace)]
    hook.reconcile(specs, policy())
    before = raw(core, k8s_namespace, "app")["metadata"]["uid"]
    core.patch_namespaced_config_map("app", k8s_namespace, {"immutable": True, "data": {"a": "0"}})
    report = hook.reconcile(specs, policy(recreate_immutable=recreate)).report
    item = entry(report, "app")
    assert item["drift"]["made_immutable"] is True
    live = raw(core, k8s_namespace, "app")
    if recreate:
        assert item["status"] == "restored"
        assert (live.get("immutable"), live["data"]) == (None, {"a": "1", "b": "2"})
        assert live["metadata"]["uid"] != before
    else:
        assert item["status"] == "conflict"
        assert "RECONCILE_IMMUTABLE_BLOCKED" in codes(report, "app")
        assert live["immutable"] is True


def test_a_tampered_hash_annotation_is_restored(hook, core, k8s_namespace):
    specs = [spec(k8s_namespace)]
    hook.reconcile(specs, policy())
    patch = {"metadata": {"annotations": {HASH_ANNOTATION: "0" * 64}}}
    core.patch_namespaced_config_map("app", k8s_namespace, patch)
    report = _settle(hook, specs)
    assert entry(report, "app")["drift"]["hash_mismatch"] is True
    assert raw(core, k8s_namespace, "app")["metadata"]["annotations"][HASH_ANNOTATION] != "0" * 64


def test_drift_events_are_posted(hook, k8s_admin, core, k8s_namespace):
    specs = [spec(k8s_namespace)]
    hook.reconcile(specs, policy())
    core.patch_namespaced_config_map("app", k8s_namespace, {"data": {"a": "0"}}, field_manager="kubectl-edit")
    report = hook.reconcile(specs, policy()).report
    assert report["events"] == {"emitted": 1, "refused": None}
    events = k8s.EventsV1Api(k8s_admin).list_namespaced_event(k8s_namespace).items
    (event,) = [e for e in events if e.regarding.name == "app"]
    assert (event.reason, event.type, event.reporting_controller) == (
        "DriftCorrected",
        "Normal",
        "airflow-k8s-reconcile",
    )
    assert "kubectl-edit" in event.note
    assert "0" not in event.note.split("modified")[1].split("(")[0].strip()  # the key is named, not its value


def test_detect_mode_posts_drift_detected_naming_keys_and_managers_never_values(
    hook, k8s_admin, core, k8s_namespace
):
    specs = [spec(k8s_namespace, data={"a": "1", "password": "desired-s3cret"})]
    hook.reconcile(specs, policy())
    tamper = {"data": {"password": "tampered-s3cret", "evil": "injected-v4lue"}}
    core.patch_namespaced_config_map("app", k8s_namespace, tamper, field_manager="kubectl-edit")
    report = hook.reconcile(specs, policy(mode="detect")).report
    assert report["events"] == {"emitted": 1, "refused": None}
    assert raw(core, k8s_namespace, "app")["data"]["evil"] == "injected-v4lue"  # detect writes nothing
    events = k8s.EventsV1Api(k8s_admin).list_namespaced_event(k8s_namespace).items
    (event,) = [e for e in events if e.regarding.name == "app"]
    assert (event.reason, event.type, event.action, event.reporting_controller) == (
        "DriftDetected",
        "Warning",
        "Detect",
        "airflow-k8s-reconcile",
    )
    assert event.regarding.kind == "ConfigMap"
    assert event.regarding.uid == raw(core, k8s_namespace, "app")["metadata"]["uid"]
    assert "evil" in event.note
    assert "password" in event.note
    assert "kubectl-edit" in event.note
    for value in ("desired-s3cret", "tampered-s3cret", "injected-v4lue"):
        assert value not in event.note
