from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from reconcile_builders import NOW, OWNER, make_live, tamper

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.reconcile.desired.markers import (
    MANAGED_BY_LABEL,
    OWNER_ANNOTATION,
    with_hash_suffix,
)
from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec
from airflow_k8s_reconcile.domain.reconcile.drift.flap import Rewrite, flapping
from airflow_k8s_reconcile.domain.reconcile.plan import plan, plan_object
from airflow_k8s_reconcile.domain.reconcile.policy import Action, Mode, OnForeign, Outcome, Policy

SPEC = ConfigMapSpec(name="app", namespace="ns", data={"a": "1", "b": "2"})
POLICY = Policy(owner=OWNER)


def actions(item):
    return [step.action for step in item.steps]


def foreign(spec=SPEC, **meta):
    live = make_live(spec)
    live["metadata"]["labels"].pop(MANAGED_BY_LABEL)
    live["metadata"]["annotations"].pop(OWNER_ANNOTATION)
    for key, value in meta.items():
        live["metadata"][key] = value
    return live


def test_missing_is_created_by_apply_then_second_run_is_all_noop():
    first = plan([SPEC], [], POLICY, now=NOW)
    [item] = first.objects
    assert (item.outcome, actions(item), item.steps[0].force) == (Outcome.CREATED, [Action.APPLY], True)
    # The live object the apply leaves behind plans nothing (controller-runtime's "second reconcile is NOOP").
    second = plan([SPEC], [make_live(SPEC)], POLICY, now=NOW)
    assert [o.outcome for o in second.objects] == [Outcome.UNCHANGED]
    assert not second.writes


def test_deleted_object_is_restored():
    [item] = plan([SPEC], [], POLICY, now=NOW, previous_uids={("ns", "app"): "uid-1"}).objects
    assert item.outcome is Outcome.RESTORED
    assert actions(item) == [Action.APPLY]


def test_added_keys_are_removed_by_guarded_patch_before_the_apply():
    live = tamper(make_live(SPEC, rv="777"), "kubectl-edit", "2026-11-21T19:30:00Z", evil="x", a="9")
    item = plan_object(SPEC, live, POLICY, now=NOW)
    assert item.outcome is Outcome.RESTORED
    assert actions(item) == [Action.REMOVE_KEYS, Action.APPLY]
    assert item.steps[0].body == [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "777"},
        {"op": "remove", "path": "/data/evil"},
    ]
    assert [f.code for f in item.findings] == [codes.RECONCILE_HASH_MISMATCH]
    assert "kubectl-edit" in item.findings[0].cause


def test_only_added_keys_need_no_apply():
    live = tamper(make_live(SPEC), "mallory", "2026-11-21T19:30:00Z", evil="x")
    assert actions(plan_object(SPEC, live, POLICY, now=NOW)) == [Action.REMOVE_KEYS]


def test_spec_change_is_an_update():
    new = dataclasses.replace(SPEC, data={"a": "1", "c": "3"})
    item = plan_object(new, make_live(SPEC), POLICY, now=NOW)
    assert item.outcome is Outcome.UPDATED
    assert actions(item) == [Action.REMOVE_KEYS, Action.APPLY]
    assert item.findings == ()


@pytest.mark.parametrize(
    ("on_foreign", "outcome", "code", "steps"),
    [
        (OnForeign.FAIL, Outcome.FAILED, codes.RECONCILE_FOREIGN_OBJECT, []),
        (OnForeign.SKIP, Outcome.SKIPPED, codes.RECONCILE_FOREIGN_SKIPPED, []),
        (OnForeign.ADOPT, Outcome.UPDATED, codes.RECONCILE_ADOPTED, [Action.REMOVE_KEYS, Action.APPLY]),
    ],
)
def test_ownership_guard_for_unmarked_objects(on_foreign, outcome, code, steps):
    live = foreign()
    live["data"]["extra"] = "x"
    item = plan_object(SPEC, live, Policy(owner=OWNER, on_foreign=on_foreign), now=NOW)
    assert (item.outcome, item.findings[0].code, actions(item)) == (outcome, code, steps)
    if on_foreign is OnForeign.ADOPT:
        assert item.adopted
        assert (
            item.steps[-1].body["metadata"]["annotations"]["airflow-k8s-reconcile/adopted-at"]
            == "2026-11-21T20:00:00Z"
        )


def test_adopting_an_identical_object_still_stamps_markers():
    item = plan_object(SPEC, foreign(), Policy(owner=OWNER, on_foreign=OnForeign.ADOPT), now=NOW)
    assert item.adopted
    assert actions(item) == [Action.APPLY]


@pytest.mark.parametrize("on_foreign", list(OnForeign))
@pytest.mark.parametrize(
    "live",
    [
        make_live(SPEC, owner="other-dag/task"),
        foreign(labels={MANAGED_BY_LABEL: "Helm"}),
        foreign(
            ownerReferences=[
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d", "uid": "x", "controller": True}
            ]
        ),
    ],
    ids=["other owner id", "other tool", "other controller"],
)
def test_objects_owned_by_others_always_fail(live, on_foreign):
    item = plan_object(SPEC, live, Policy(owner=OWNER, on_foreign=on_foreign), now=NOW)
    assert item.outcome is Outcome.FAILED
    assert item.steps == ()
    assert [f.code for f in item.findings] == [codes.RECONCILE_OWNED_BY_OTHER]


@pytest.mark.parametrize(
    ("mode", "writes", "drift_finding"),
    [(Mode.ENFORCE, True, False), (Mode.DRY_RUN, True, False), (Mode.DETECT, False, True)],
)
def test_modes(mode, writes, drift_finding):
    live = tamper(make_live(SPEC), "kubectl-edit", "2026-11-21T19:30:00Z", a="9")
    result = plan([SPEC], [live], Policy(owner=OWNER, mode=mode), now=NOW)
    [item] = result.objects
    assert result.mode is mode
    assert result.writes is writes
    assert item.outcome is Outcome.RESTORED
    assert actions(item) == [Action.APPLY]
    codes_found = [f.code for f in item.findings]
    assert (codes.RECONCILE_DRIFT_DETECTED in codes_found) is drift_finding
    if drift_finding:
        assert "modified ['a']" in item.findings[-1].cause
        assert "kubectl-edit" in item.findings[-1].cause


def test_force_follows_policy():
    [item] = plan([SPEC], [], Policy(owner=OWNER, force=False), now=NOW).objects
    assert item.steps[0].force is False
    assert item.steps[0].describe() == "apply"


@pytest.mark.parametrize(
    ("allowed", "outcome", "steps"),
    [(False, Outcome.CONFLICT, []), (True, Outcome.RESTORED, [Action.DELETE, Action.APPLY])],
)
def test_made_immutable_by_someone_else(allowed, outcome, steps):
    live = make_live(SPEC)
    live["immutable"] = True
    item = plan_object(SPEC, live, Policy(owner=OWNER, recreate_immutable=allowed), now=NOW)
    assert (item.outcome, actions(item)) == (outcome, steps)
    if not allowed:
        assert item.findings[-1].code == codes.RECONCILE_IMMUTABLE_BLOCKED
        assert "made so by someone else" in item.findings[-1].cause
    else:
        assert item.steps[0].body["preconditions"] == {"uid": "uid-1", "resourceVersion": "100"}


def test_immutable_object_metadata_stays_mutable():
    spec = dataclasses.replace(SPEC, immutable=True)
    live = make_live(spec)
    live["metadata"]["labels"].pop(MANAGED_BY_LABEL)
    live["metadata"]["labels"]["x"] = "y"
    live["metadata"]["labels"][MANAGED_BY_LABEL] = "airflow-k8s-reconcile"
    live["metadata"]["annotations"]["airflow-k8s-reconcile/content-sha256"] = "f" * 64
    item = plan_object(spec, live, POLICY, now=NOW)
    assert actions(item) == [Action.APPLY]


def owned(name, created="2026-11-21T10:00:00Z", **extra):
    return make_live(ConfigMapSpec(name=name, namespace="ns", **extra), created=created, uid=f"uid-{name}")


def test_prune_deletes_only_our_objects_no_longer_desired():
    live = [
        make_live(SPEC),
        owned("old"),
        owned("theirs") | {},
        foreign(ConfigMapSpec(name="manual", namespace="ns")),
    ]
    live[2]["metadata"]["annotations"][OWNER_ANNOTATION] = "other/task"
    result = plan([SPEC], live, Policy(owner=OWNER, prune=True), now=NOW)
    assert [(o.name, o.outcome) for o in result.objects] == [
        ("app", Outcome.UNCHANGED),
        ("old", Outcome.PRUNED),
    ]
    assert result.objects[1].steps[0].body["preconditions"]["uid"] == "uid-old"
    assert [o.name for o in plan([SPEC], live, POLICY, now=NOW).objects] == ["app"]  # prune is opt-in


def test_prune_refuses_an_empty_desired_set():
    live = [owned("a"), owned("b")]
    refused = plan([], live, Policy(owner=OWNER, prune=True), now=NOW)
    assert refused.objects == ()
    assert [f.code for f in refused.findings] == [codes.RECONCILE_PRUNE_REFUSED]
    allowed = plan([], live, Policy(owner=OWNER, prune=True, allow_empty_prune=True), now=NOW)
    assert [o.name for o in allowed.objects] == ["a", "b"]
    assert allowed.findings == ()


def test_prune_skips_objects_already_being_deleted():
    doomed = owned("old")
    doomed["metadata"]["deletionTimestamp"] = "2026-11-21T19:59:00Z"
    assert [o.name for o in plan([SPEC], [doomed], Policy(owner=OWNER, prune=True), now=NOW).objects] == [
        "app"
    ]


def test_immutable_rotation_creates_the_new_name_and_keeps_the_last_n():
    versions = [
        with_hash_suffix(ConfigMapSpec(name="cfg", namespace="ns", data={"v": str(i)}, immutable=True))
        for i in range(4)
    ]
    live = [
        make_live(spec, created=f"2026-11-2{i}T00:00:00Z", uid=f"u{i}") for i, spec in enumerate(versions[:3])
    ]
    result = plan([versions[3]], live, Policy(owner=OWNER, keep_last=2), now=NOW)
    assert (result.objects[0].name, result.objects[0].outcome) == (versions[3].name, Outcome.CREATED)
    # Newest kept (versions[2]); the two oldest pruned.
    assert {(o.name, o.outcome) for o in result.objects[1:]} == {
        (versions[0].name, Outcome.PRUNED),
        (versions[1].name, Outcome.PRUNED),
    }
    # With prune on, the kept rotation member is not pruned as "no longer desired".
    pruning = plan([versions[3]], live, Policy(owner=OWNER, keep_last=2, prune=True), now=NOW)
    assert versions[2].name not in [o.name for o in pruning.objects]


def test_invalid_specs_plan_nothing():
    bad = ConfigMapSpec(name="Bad", namespace="ns", data={"k/": "v"})
    result = plan([bad, SPEC], [], POLICY, now=NOW)
    assert result.objects == ()
    assert not result.writes
    assert {f.code for f in result.findings} == {codes.RECONCILE_BAD_NAME, codes.RECONCILE_BAD_KEY}


def test_uid_change_is_reported_and_restored():
    live = tamper(make_live(SPEC, uid="uid-2"), "kubectl-create", "2026-11-21T19:30:00Z", a="x")
    item = plan_object(SPEC, live, POLICY, now=NOW, previous_uid="uid-1")
    assert codes.RECONCILE_UID_CHANGED in [f.code for f in item.findings]
    assert item.outcome is Outcome.RESTORED


def history(manager, minutes):
    return [Rewrite("ns", "app", manager, f"2026-11-21T19:{m:02d}:00Z") for m in minutes]


@pytest.mark.parametrize(
    ("earlier", "flaps"),
    [
        (history("fighter", [10, 20]), False),  # 2 earlier + this run's = 3, not more than 3
        (history("fighter", [10, 20, 25]), True),  # 4 within the hour
        (history("fighter", [10, 20]) * 3, False),  # duplicates count once
        (
            history("fighter", [10])
            + [Rewrite("ns", "app", "fighter", "2026-11-21T18:00:00Z")] * 1
            + [Rewrite("ns", "app", "fighter", "2026-11-21T17:00:00Z")],
            False,
        ),  # outside the window
        (history("someone", [10, 20, 25]), False),  # different managers are counted apart
        ([Rewrite("ns", "other", "fighter", f"2026-11-21T19:{m}:00Z") for m in (10, 20, 25)], False),
    ],
)
def test_flap_protection_stops_and_names_the_manager(earlier, flaps):
    live = tamper(make_live(SPEC), "fighter", "2026-11-21T19:45:00Z", a="9")
    item = plan_object(SPEC, live, POLICY, now=NOW, history=earlier)
    if flaps:
        assert item.outcome is Outcome.FAILED
        assert item.steps == ()
        assert item.findings[-1].code == codes.RECONCILE_FLAPPING
        assert "'fighter' rewrote" in item.findings[-1].cause
    else:
        assert item.outcome is Outcome.RESTORED
        assert item.steps


def test_flapping_ignores_unparseable_times_and_picks_the_busiest_manager():
    found = flapping(
        [*history("a", [1, 2, 3]), *history("b", [1, 2]), Rewrite("ns", "app", "a", "yesterday")],
        now=NOW,
        window=timedelta(hours=1),
        threshold=1,
    )
    assert found == {("ns", "app"): ("a", 3)}
