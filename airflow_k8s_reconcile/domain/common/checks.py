"""Run a plan of dependent checks: which check runs next, which are skipped and why, and what each one found.

The core decides and the hooks only perform. A :class:`Check` names a request (a plain value such as "read
``/version``" that a sync or async runner knows how to send), the checks it depends on, and a pure ``judge`` that
turns what the runner observed (a plain value, or the :class:`~airflow_k8s_reconcile.findings.Finding` of a failed
request) into the check's finding. :class:`CheckRun` hands out the checks whose prerequisites are settled, records
observations and durations, and skips a check whose prerequisite failed, naming the check that actually failed
(never a guess such as "unreachable" after the server answered 401).

A runner's whole loop is::

    run = CheckRun(plan)
    while batch := run.ready():  # all checks of a batch are independent: an async runner may gather them
        for check in batch:
            started = clock()
            run.record(check.id, perform(run.request_for(check)), clock() - started)
    return run.findings

The connection test (:mod:`~airflow_k8s_reconcile.domain.connection.connection_test`) is one plan; preflight adds
checks (proxy, DNS, TCP, TLS, readiness, RBAC, dry-run) to the same mechanism. Pure: the runners own the clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TypeAlias

from airflow_k8s_reconcile.domain.common.catalogue import CHECK_SKIPPED, finding
from airflow_k8s_reconcile.findings import Finding, Status

# What a runner feeds back: a plain value the check's request produced, or the finding of a failed request.
Observation: TypeAlias = object
# Judges see the findings of the checks already settled, keyed by check id (e.g. the identity for RBAC wording).
Judge: TypeAlias = Callable[[Observation, Mapping[str, Finding]], Finding]

# A prerequisite with one of these outcomes blocks its dependents; warnings and information do not.
_BLOCKING = frozenset({Status.FAIL, Status.SKIPPED})


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One step of a plan.

    :param id: unique within the plan, e.g. ``identity`` or ``permissions:jobs``.
    :param title: what is checked, for people: ``Credentials``, ``Permissions in namespace 'jobs'``.
    :param request: what the runner must perform (a frozen dataclass the runners dispatch on).
    :param judge: turns the observation into this check's finding; pure.
    :param needs: ids of the checks that must have neither failed nor been skipped for this one to run.
    :param derive: when the request depends on what earlier checks observed (the TCP probe needs the addresses
        DNS returned; the access reviews are only those the rules reviews could not decide), a pure function of
        the observations settled so far, by check id, returning the request; ``request`` is then unused.
    """

    id: str
    title: str
    request: object
    judge: Judge
    needs: tuple[str, ...] = ()
    derive: Callable[[Mapping[str, Observation]], object] | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutcome:
    """What one check found, and how long performing its request took (0 for a skipped check)."""

    check_id: str
    title: str
    finding: Finding
    duration_seconds: float = 0.0
    observation: Observation = None

    @property
    def blocks(self) -> bool:
        """Return whether checks that depend on this one must be skipped."""
        return self.finding.status in _BLOCKING


class CheckRun:
    """The state of one run of a plan: hands out ready checks, records what was observed, skips the blocked.

    :param plan: checks in report order; every ``needs`` entry must name an earlier check.
    :raises ValueError: on a duplicate id or a prerequisite that is not an earlier check (a programming error).
    """

    def __init__(self, plan: Sequence[Check]) -> None:
        seen: set[str] = set()
        for check in plan:
            unknown = [need for need in check.needs if need not in seen]
            if check.id in seen or unknown:
                raise ValueError(f"check {check.id!r}: duplicate id or prerequisites not earlier: {unknown}")
            seen.add(check.id)
        self._plan = tuple(plan)
        self._outcomes: dict[str, CheckOutcome] = {}
        self._handed_out: set[str] = set()
        self._requests: dict[str, object] = {}

    def ready(self) -> tuple[Check, ...]:
        """Return the checks whose prerequisites are all settled and passed; skip those with a blocked one.

        The checks returned are independent of each other. An empty tuple means the run is complete.
        """
        batch: list[Check] = []
        # One pass in plan order suffices: prerequisites come earlier, so a skip made here is seen below.
        for check in self._plan:
            if check.id in self._outcomes or check.id in self._handed_out:
                continue
            if any(need not in self._outcomes for need in check.needs):
                continue
            blocker = next((self._outcomes[n] for n in check.needs if self._outcomes[n].blocks), None)
            if blocker is not None:
                self._outcomes[check.id] = self._skipped(check, blocker)
            else:
                batch.append(check)
        self._handed_out.update(check.id for check in batch)
        return tuple(batch)

    def request_for(self, check: Check) -> object:
        """Return what the runner must perform for a handed-out ``check``: its request, or the derived one."""
        if check.derive is None:
            return check.request
        if check.id not in self._requests:
            observed = {cid: outcome.observation for cid, outcome in self._outcomes.items()}
            self._requests[check.id] = check.derive(observed)
        return self._requests[check.id]

    def record(self, check_id: str, observation: Observation, duration_seconds: float) -> Finding:
        """Judge what the runner observed for a handed-out check; return the check's finding."""
        if check_id not in self._handed_out or check_id in self._outcomes:
            raise ValueError(f"check {check_id!r} was not handed out, or was already recorded")
        check = next(c for c in self._plan if c.id == check_id)
        judged = check.judge(observation, self.findings_by_check)
        self._outcomes[check_id] = CheckOutcome(
            check_id=check_id,
            title=check.title,
            finding=judged,
            duration_seconds=duration_seconds,
            observation=observation,
        )
        return judged

    @property
    def findings_by_check(self) -> Mapping[str, Finding]:
        """Return the findings settled so far, by check id."""
        return {check_id: outcome.finding for check_id, outcome in self._outcomes.items()}

    @property
    def outcomes(self) -> tuple[CheckOutcome, ...]:
        """Return the settled outcomes in plan order."""
        return tuple(self._outcomes[c.id] for c in self._plan if c.id in self._outcomes)

    @property
    def findings(self) -> list[Finding]:
        """Return the settled findings in plan order."""
        return [outcome.finding for outcome in self.outcomes]

    def _root_failure(self, outcome: CheckOutcome) -> CheckOutcome:
        """Return the check that actually failed: a skipped blocker already names it."""
        if outcome.finding.code == CHECK_SKIPPED:
            return self._outcomes[outcome.finding.evidence["blocked_by"]]
        return outcome

    def _skipped(self, check: Check, blocker: CheckOutcome) -> CheckOutcome:
        failed = self._root_failure(blocker)
        skipped = finding(
            CHECK_SKIPPED,
            f"{check.title} not checked: blocked by the failed check {failed.title!r} "
            f"({failed.finding.code}: {failed.finding.title}).",
            f"Fix {failed.finding.code} first.",
            evidence={
                "check": check.title,
                "blocked_by": failed.check_id,
                "blocking_code": failed.finding.code,
            },
        )
        return CheckOutcome(check_id=check.id, title=check.title, finding=skipped)
