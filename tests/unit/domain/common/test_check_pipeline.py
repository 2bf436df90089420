"""The check pipeline: order, prerequisites, skips that name the check that failed, durations, misuse."""

from __future__ import annotations

import pytest

from airflow_k8s_reconcile.domain.common.catalogue import CHECK_SKIPPED, RBAC_NO_PERMISSIONS, finding
from airflow_k8s_reconcile.domain.common.checks import Check, CheckRun
from airflow_k8s_reconcile.findings import Finding, Status


def _echo(observed, _earlier) -> Finding:
    """Judge an observation that is already the finding."""
    return observed


def _check(check_id: str, *needs: str) -> Check:
    return Check(id=check_id, title=check_id.upper(), request=check_id, judge=_echo, needs=needs)


def _pass(code: str = "API_REACHABLE") -> Finding:
    return finding(code, "ok.")


def _fail(code: str = "NET_CONNECTION_REFUSED") -> Finding:
    return finding(code, "broken.")


def _drive(plan, observations: dict[str, Finding]) -> tuple[CheckRun, list[tuple[str, ...]]]:
    run = CheckRun(plan)
    batches = []
    while batch := run.ready():
        batches.append(tuple(check.id for check in batch))
        for check in batch:
            run.record(check.id, observations[check.id], 0.25)
    return run, batches


def test_independent_checks_come_in_one_batch_after_their_prerequisite():
    plan = [_check("a"), _check("b", "a"), _check("c", "a"), _check("d", "b", "c")]
    run, batches = _drive(plan, {name: _pass() for name in "abcd"})
    assert batches == [("a",), ("b", "c"), ("d",)]
    assert [o.check_id for o in run.outcomes] == ["a", "b", "c", "d"]
    assert [o.duration_seconds for o in run.outcomes] == [0.25] * 4


def test_a_failure_skips_every_dependent_naming_the_check_that_failed():
    plan = [_check("a"), _check("b", "a"), _check("c", "b"), _check("d")]
    run, batches = _drive(plan, {"a": _fail("AUTH_CREDENTIALS_REJECTED"), "d": _pass()})
    assert batches == [("a", "d")]
    skipped = {o.check_id: o.finding for o in run.outcomes if o.finding.code == CHECK_SKIPPED}
    assert set(skipped) == {"b", "c"}
    for item in skipped.values():
        assert item.status is Status.SKIPPED
        # The transitive skip (c, blocked by the skipped b) names the root failure, not "b".
        assert item.evidence["blocked_by"] == "a"
        assert item.evidence["blocking_code"] == "AUTH_CREDENTIALS_REJECTED"
        assert "'A'" in item.cause
        assert "Credentials rejected" in item.cause
    assert skipped["c"].cause.startswith("C not checked")
    assert [o.duration_seconds for o in run.outcomes if o.check_id in skipped] == [0.0, 0.0]


def test_a_warning_does_not_block_dependents():
    plan = [_check("a"), _check("b", "a")]
    run, _ = _drive(plan, {"a": finding(RBAC_NO_PERMISSIONS, "none."), "b": _pass()})
    assert [f.code for f in run.findings] == [RBAC_NO_PERMISSIONS, "API_REACHABLE"]


def test_judges_see_the_findings_settled_before_them():
    seen = {}

    def remember(observed, earlier):
        seen.update(earlier)
        return observed

    plan = [_check("a"), Check(id="b", title="B", request="b", judge=remember, needs=("a",))]
    _drive(plan, {"a": _pass(), "b": _pass()})
    assert list(seen) == ["a"]


@pytest.mark.parametrize(
    "plan",
    [
        pytest.param([_check("a"), _check("a")], id="duplicate-id"),
        pytest.param([_check("b", "a"), _check("a")], id="prerequisite-after-dependent"),
        pytest.param([_check("a", "nowhere")], id="unknown-prerequisite"),
    ],
)
def test_a_malformed_plan_is_refused(plan):
    with pytest.raises(ValueError, match="prerequisites not earlier"):
        CheckRun(plan)


def test_recording_a_check_not_handed_out_or_twice_is_refused():
    run = CheckRun([_check("a"), _check("b", "a")])
    with pytest.raises(ValueError, match="not handed out"):
        run.record("b", _pass(), 0.0)
    run.ready()
    run.record("a", _pass(), 0.0)
    with pytest.raises(ValueError, match="already recorded"):
        run.record("a", _pass(), 0.0)
