from __future__ import annotations

import base64

import pytest
from reconcile_builders import OWNER, body, make_live, tamper

from airflow_k8s_reconcile.domain.reconcile.desired.markers import HASH_ANNOTATION, spec_hash
from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec, InputRef
from airflow_k8s_reconcile.domain.reconcile.drift.attribution import FieldOwner, attribute, owners_of
from airflow_k8s_reconcile.domain.reconcile.drift.diff import Change, diff, live_content_hash

SPEC = ConfigMapSpec(
    name="app",
    namespace="ns",
    data={"a": "1", "b": "2"},
    binary_data={"bin": b"\x00\x01"},
    labels={"tier": "web"},
    annotations={"example.com/note": "n"},
)
WIDGET = InputRef(
    group="ex.com", version="v1", plural="widgets", kind="Widget", namespace="ns", name="w", uid="u1"
)


def _edit(change):
    live = make_live(SPEC)
    change(live)
    return live


def _set(path, value):
    def change(live):
        *parents, leaf = path
        node = live
        for step in parents:
            node = node.setdefault(step, {})
        if value is None:
            node.pop(leaf)
        else:
            node[leaf] = value

    return change


CASES = {
    "in sync": (lambda live: None, {}),
    "data key added": (_set(("data", "evil"), "x"), {"added": ["evil"], "hash_mismatch": True}),
    "data key removed": (_set(("data", "b"), None), {"removed": ["b"], "hash_mismatch": True}),
    "data key modified": (_set(("data", "a"), "9"), {"modified": ["a"], "hash_mismatch": True}),
    "binary key added": (
        _set(("binaryData", "x"), "AA=="),
        {"added": ["binaryData/x"], "hash_mismatch": True},
    ),
    "binary key modified": (
        _set(("binaryData", "bin"), "AAI="),
        {"modified": ["binaryData/bin"], "hash_mismatch": True},
    ),
    "binary key removed": (
        _set(("binaryData", "bin"), None),
        {"removed": ["binaryData/bin"], "hash_mismatch": True},
    ),
    "managed label changed": (
        _set(("metadata", "labels", "tier"), "db"),
        {"metadata": [("labels", "tier", "modified")]},
    ),
    "managed-by label removed": (
        _set(("metadata", "labels", "app.kubernetes.io/managed-by"), None),
        {"metadata": [("labels", "app.kubernetes.io/managed-by", "removed")]},
    ),
    "managed annotation removed": (
        _set(("metadata", "annotations", "example.com/note"), None),
        {"metadata": [("annotations", "example.com/note", "removed")]},
    ),
    "foreign label and annotation are not drift": (
        lambda live: (
            live["metadata"]["labels"].update(x="y") or live["metadata"]["annotations"].update(z="w")
        ),
        {},
    ),
    "made immutable": (_set(("immutable",), True), {"made_immutable": True, "hash_mismatch": True}),
    "hash annotation forged": (
        _set(("metadata", "annotations", HASH_ANNOTATION), "0" * 64),
        {"hash_mismatch": True},
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_drift_classes(name):
    change, expected = CASES[name]
    drift = diff(SPEC, _edit(change), owner=OWNER)
    for kind in Change:
        assert drift.labels_of(kind) == expected.get(kind.value, []), kind
    assert [(m.field, m.key, m.change.value) for m in drift.metadata] == expected.get("metadata", [])
    assert drift.made_immutable is expected.get("made_immutable", False)
    assert drift.hash_mismatch is expected.get("hash_mismatch", False)
    assert drift.in_sync is (not expected)
    assert drift.tampered is bool(expected)
    assert drift.spec_changed is (name == "hash annotation forged")


def test_missing_object_is_deleted_only_when_we_saw_it_before():
    fresh = diff(SPEC, None, owner=OWNER)
    assert (fresh.missing, fresh.tampered, fresh.in_sync) == (True, False, False)
    deleted = diff(SPEC, None, owner=OWNER, previous_uid="uid-1")
    assert (deleted.missing, deleted.tampered) == (True, True)


def test_uid_change_means_deleted_and_recreated():
    live = make_live(SPEC, uid="uid-2")
    drift = diff(SPEC, live, owner=OWNER, previous_uid="uid-1")
    assert drift.uid_changed
    assert drift.tampered
    assert not drift.in_sync
    assert not diff(SPEC, live, owner=OWNER, previous_uid="uid-2").uid_changed
    assert not diff(SPEC, live, owner=OWNER).uid_changed


def test_spec_change_is_an_update_not_a_tamper():
    old = ConfigMapSpec(
        name="app",
        namespace="ns",
        data={"a": "0", "gone": "x"},
        binary_data=SPEC.binary_data,
        labels=SPEC.labels,
        annotations=SPEC.annotations,
    )
    drift = diff(SPEC, make_live(old), owner=OWNER)
    assert (
        drift.labels_of(Change.ADDED),
        drift.labels_of(Change.REMOVED),
        drift.labels_of(Change.MODIFIED),
    ) == (["gone"], ["b"], ["a"])
    assert drift.spec_changed
    assert not drift.tampered
    assert not drift.hash_mismatch


def test_hashes_of_live_and_desired_agree_when_in_sync():
    live = make_live(SPEC)
    assert live_content_hash(live) == spec_hash(SPEC) == live["metadata"]["annotations"][HASH_ANNOTATION]
    assert live["binaryData"]["bin"] == base64.b64encode(b"\x00\x01").decode()


def test_owner_reference_drift():
    spec = ConfigMapSpec(name="app", namespace="ns", data={"a": "1"}, controlled_by=WIDGET)
    live = make_live(spec)
    assert diff(spec, live, owner=OWNER).in_sync
    live["metadata"]["ownerReferences"] = []
    assert [(m.field, m.change) for m in diff(spec, live, owner=OWNER).metadata] == [
        ("ownerReferences", Change.REMOVED)
    ]


def test_attribution_on_the_real_1_20_2_apply_response():
    # ssa_force_200.json: manager "other" (Apply) took data.a from "curl" (Update, left with an empty f:data).
    live = body("ssa_force_200.json")
    assert owners_of(live, "data", "a") == (FieldOwner("other", "Apply", "2026-11-21T19:44:29Z"),)
    spec = ConfigMapSpec(name="g1", namespace="default", data={"a": "1"})
    found = attribute(diff(spec, live, owner=OWNER), live)
    [item] = [entry for entry in found if entry.field == "data"]
    assert (item.key, item.change, item.manager, item.inferred) == ("a", Change.MODIFIED, "other", False)
    # Our markers are missing from this foreign object; nobody owns them, so they are removals with a guess.
    assert {entry.label for entry in found if entry.field != "data"} == {
        "labels/app.kubernetes.io/managed-by",
        "annotations/airflow-k8s-reconcile/owner",
    }


def test_attribution_names_manager_operation_and_time_per_key():
    live = tamper(make_live(SPEC), "kubectl-edit", "2026-11-21T19:30:00Z", a="9", evil="x")
    tamper(live, "mallory", "2026-11-21T19:40:00Z", b=None)
    found = {item.label: item for item in attribute(diff(SPEC, live, owner=OWNER), live)}
    assert found["a"].owners == (FieldOwner("kubectl-edit", "Update", "2026-11-21T19:30:00Z"),)
    assert found["evil"].to_dict() == {
        "key": "evil",
        "change": "added",
        "manager": "kubectl-edit",
        "operation": "Update",
        "time": "2026-11-21T19:30:00Z",
        "inferred": False,
        "managers": ["kubectl-edit"],
    }
    # Nobody owns a removed key: the newest other writer of data is a guess, and says so.
    assert (found["b"].manager, found["b"].inferred) == ("mallory", True)


def test_attribution_of_labels_and_deleted_objects():
    live = make_live(SPEC)
    live["metadata"]["labels"]["tier"] = "db"
    live["metadata"]["managedFields"].append(
        {
            "manager": "kubectl-label",
            "operation": "Update",
            "time": "2026-11-21T19:50:00Z",
            "fieldsV1": {"f:metadata": {"f:labels": {"f:tier": {}}}},
        }
    )
    [item] = attribute(diff(SPEC, live, owner=OWNER), live)
    assert (item.label, item.manager) == ("labels/tier", "kubectl-label")
    assert attribute(diff(SPEC, None, owner=OWNER), None) == ()


def test_malformed_managed_fields_are_tolerated():
    live = make_live(SPEC)
    live["data"]["evil"] = "x"
    live["metadata"]["managedFields"] = ["junk", {"manager": "m", "fieldsV1": "junk"}]
    [item] = attribute(diff(SPEC, live, owner=OWNER), live)
    assert item.owners == ()
