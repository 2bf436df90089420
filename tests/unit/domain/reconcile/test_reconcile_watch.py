"""The watch judgement and the drift tracker, on plain dicts: what fires, once, and what the baseline becomes."""

from __future__ import annotations

import json

import pytest

from airflow_k8s_reconcile.domain.reconcile.desired.markers import HASH_ANNOTATION, content_hash
from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec
from airflow_k8s_reconcile.domain.reconcile.drift.diff import Change
from airflow_k8s_reconcile.domain.reconcile.drift.tracker import DriftTracker, InputExpectation, event_payload
from airflow_k8s_reconcile.domain.reconcile.drift.watch import (
    Expectation,
    expectation_from_spec,
    expectations_from_report,
    judge,
)

DATA = {"level": "info", "password": "s3cret"}


def live(
    data: dict[str, str] | None = None, *, uid: str = "u1", annotated: dict[str, str] | None = None
) -> dict:
    data = DATA if data is None else data
    hashed = content_hash(DATA if annotated is None else annotated, {}, False)
    meta = {"namespace": "ns", "name": "cm", "uid": uid, "annotations": {HASH_ANNOTATION: hashed}}
    return {"metadata": meta, "data": dict(data)}


EXPECT = expectation_from_spec(ConfigMapSpec(name="cm", namespace="ns", data=DATA))


@pytest.mark.parametrize(
    ("state", "added", "removed", "modified"),
    [
        (live({**DATA, "evil": "x"}), ["evil"], [], []),
        (live({"level": "info"}), [], ["password"], []),
        (live({**DATA, "level": "debug"}), [], [], ["level"]),
    ],
)
def test_key_drift_is_named_from_fingerprints(state, added, removed, modified) -> None:
    drift = judge(EXPECT, state)
    assert drift.labels_of(Change.ADDED) == added
    assert drift.labels_of(Change.REMOVED) == removed
    assert drift.labels_of(Change.MODIFIED) == modified
    assert drift.hash_mismatch  # the content no longer matches the annotation written with it


def test_forged_annotation_is_caught_by_the_recorded_hash_only() -> None:
    forged = {**DATA, "level": "debug"}
    drift = judge(EXPECT, live(forged, annotated=forged))
    assert not drift.hash_mismatch
    assert drift.live_hash != drift.desired_hash
    bare = judge(Expectation(namespace="ns", name="cm"), live(forged, annotated=forged))
    assert bare.live_hash == bare.desired_hash  # without a recorded hash there is nothing to catch it with


def test_tracker_reports_a_drifted_state_once_and_again_after_it_was_fixed() -> None:
    tracker = DriftTracker([EXPECT])
    assert tracker.configmap("ns", "cm", live()) is None
    tampered = live({**DATA, "evil": "x"})
    assert tracker.configmap("ns", "cm", tampered)["added"] == ["evil"]
    assert tracker.configmap("ns", "cm", tampered) is None  # the same state after a re-list is not news
    assert tracker.configmap("ns", "cm", live()) is None
    assert tracker.configmap("ns", "cm", tampered) is not None


def test_uid_baseline_is_the_first_seen_and_moves_after_a_reported_delete_only_when_watching_on() -> None:
    once, forever = DriftTracker([EXPECT]), DriftTracker([EXPECT], keep_watching=True)
    for tracker in (once, forever):
        tracker.configmap("ns", "cm", live(uid="u1"))
        assert tracker.configmap("ns", "cm", None)["previous_uid"] == "u1"
    assert once.configmap("ns", "cm", live(uid="u2"))["uid_changed"] is True
    assert forever.configmap("ns", "cm", live(uid="u2")) is None  # the restore recreated it
    assert forever.configmap("ns", "cm", live(uid="u3"))["uid_changed"] is True


def test_listed_reports_expected_configmaps_missing_from_the_list_in_scope_only() -> None:
    tracker = DriftTracker([EXPECT, Expectation(namespace="ns", name="other")])
    assert [r["name"] for r in tracker.configmaps_listed("ns", [], covered=["cm"])] == ["cm"]
    assert [r["name"] for r in tracker.configmaps_listed("ns", ["cm"])] == ["other"]


def test_label_selector_mode_adopts_unknown_objects_against_their_own_annotation() -> None:
    tracker = DriftTracker(adopt_unknown=True)
    assert tracker.configmap("ns", "new", live()) is None
    assert tracker.configmap("ns", "new", live({"level": "x"}))["hash_mismatch"] is True
    assert DriftTracker().configmap("ns", "new", live({"level": "x"})) is None


def test_input_generation_fires_once_per_change_and_rebaselines_when_watching_on() -> None:
    ref = ("g", "widgets", "ns", "w")
    expect = InputExpectation(
        group="g", version="v1", plural="widgets", namespace="ns", name="w", generation=1
    )
    widget = {"metadata": {"uid": "w1", "generation": 1}}
    moved = {"metadata": {"uid": "w1", "generation": 2}}
    once, forever = DriftTracker(inputs=[expect]), DriftTracker(inputs=[expect], keep_watching=True)
    for tracker in (once, forever):
        assert tracker.input(ref, widget) is None
        assert tracker.input(ref, moved)["change"] == "generation"
    assert once.input(ref, moved) is None
    assert forever.input(ref, moved) is None
    assert forever.input(ref, {"metadata": {"uid": "w1", "generation": 3}})["previous_generation"] == 2
    assert once.input(ref, None)["change"] == "deleted"


def test_inputs_accept_a_reconcile_reports_input_entries() -> None:
    entry = {"apiVersion": "drift.example.com/v1", "kind": "Widget", "plural": "widgets", "namespace": "ns",
             "name": "w", "uid": "u", "resourceVersion": "7", "generation": 3}  # fmt: skip
    parsed = InputExpectation.from_dict(entry)
    assert (parsed.group, parsed.version, parsed.generation) == ("drift.example.com", "v1", 3)
    assert InputExpectation.from_dict(parsed.to_dict()) == parsed


def test_expectations_from_a_report_skip_what_was_not_promised() -> None:
    report = {"objects": [
        {"namespace": "ns", "name": "a", "status": "created", "uid": "u", "hashes": {"desired": "h"}},
        {"namespace": "ns", "name": "b", "status": "failed", "uid": "", "hashes": {"desired": "h"}},
    ]}  # fmt: skip
    assert expectations_from_report(report) == [
        Expectation(namespace="ns", name="a", content_sha256="h", uid="u")
    ]


def test_payload_is_json_and_names_keys_never_values() -> None:
    tracker = DriftTracker([EXPECT])
    report = tracker.configmap("ns", "cm", live({**DATA, "password": "other-secret"}))
    payload = event_payload([report], resource_version="9", source="watch")
    text = json.dumps(payload)
    assert "s3cret" not in text
    assert "other-secret" not in text
    assert payload["objects"][0]["modified"] == ["password"]
    assert (
        payload["message"]
        == "ConfigMap ns/cm: keys modified: password; content does not match its hash annotation"
    )
