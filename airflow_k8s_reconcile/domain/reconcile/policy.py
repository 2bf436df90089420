"""The vocabulary of a reconcile plan: modes, the foreign-object policy, steps, outcomes, per-object decisions.

Value types only, so the hooks, operators and report can name them without the decision logic of :mod:`.plan`.
:class:`Outcome` widens controller-runtime's ``OperationResult`` (``unchanged``/``created``/``updated``) with what
a drift-aware reconcile must tell apart: ``restored`` (someone else changed it) from ``updated`` (the spec
changed), and ``pruned``, ``skipped``, ``conflict``, ``failed``.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec
    from airflow_k8s_reconcile.domain.reconcile.drift.attribution import Attribution
    from airflow_k8s_reconcile.domain.reconcile.drift.diff import Drift
    from airflow_k8s_reconcile.findings import Finding

Key = tuple[str, str]


class Mode(enum.StrEnum):
    """How far a reconcile goes."""

    ENFORCE = "enforce"
    DETECT = "detect"
    DRY_RUN = "dry_run"


class OnForeign(enum.StrEnum):
    """What to do with a live object of a desired name that carries no ownership marker."""

    FAIL = "fail"
    ADOPT = "adopt"
    SKIP = "skip"


class Action(enum.StrEnum):
    """One request the hooks send, in plan order."""

    APPLY = "apply"
    """Server-side apply of :attr:`Step.body` (creates a missing object too)."""
    REMOVE_KEYS = "remove-keys"
    """RFC 6902 patch of :attr:`Step.body`, guarded by the resourceVersion read."""
    DELETE = "delete"
    """Delete with :attr:`Step.body` as ``DeleteOptions`` (recreate of an immutable object, or prune)."""


class Outcome(enum.StrEnum):
    """The per-object status in the report (controller-runtime's ``OperationResult``, widened)."""

    CREATED = "created"
    UPDATED = "updated"
    RESTORED = "restored"
    UNCHANGED = "unchanged"
    PRUNED = "pruned"
    SKIPPED = "skipped"
    CONFLICT = "conflict"
    FAILED = "failed"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """The knobs of one reconcile.

    :param owner: our owner id (default ``<dag_id>/<task_id>``, see :func:`~.markers.default_owner`).
    :param mode: enforce, detect or dry_run.
    :param on_foreign: fail (default), adopt or skip an unmarked live object.
    :param force: send applies with ``force=true``: take fields back from managers that changed them (they are
        named in the attribution either way); without it the hooks report a ``FieldManagerConflict``.
    :param prune: delete ConfigMaps we own that are no longer desired.
    :param allow_empty_prune: allow prune to run on an empty desired set (which would delete everything).
    :param recreate_immutable: delete and recreate an immutable object whose content must change.
    :param keep_last: rotations (hash-suffixed names) to keep per base name, the current one included.
    :param flap_threshold: rewrites by one foreign manager tolerated per object within ``flap_window``.
    :param flap_window: how far back rewrites count.
    """

    owner: str
    mode: Mode = Mode.ENFORCE
    on_foreign: OnForeign = OnForeign.FAIL
    force: bool = True
    prune: bool = False
    allow_empty_prune: bool = False
    recreate_immutable: bool = False
    keep_last: int = 3
    flap_threshold: int = 3
    flap_window: timedelta = timedelta(hours=1)


@dataclasses.dataclass(frozen=True, slots=True)
class Step:
    """One request: its kind and its body (apply object, JSON patch list, or ``DeleteOptions``)."""

    action: Action
    body: Any
    force: bool = False

    def describe(self) -> str:
        """Return the step as it appears in the report's ``actions`` (keys named, values never)."""
        if self.action is Action.REMOVE_KEYS:
            return "remove-keys:" + ",".join(op["path"] for op in self.body if op["op"] == "remove")
        if self.action is Action.APPLY:
            return "apply(force)" if self.force else "apply"
        return self.action.value


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ObjectPlan:
    """The decision for one ConfigMap."""

    namespace: str
    name: str
    outcome: Outcome
    steps: tuple[Step, ...] = ()
    spec: ConfigMapSpec | None = None
    drift: Drift | None = None
    attribution: tuple[Attribution, ...] = ()
    findings: tuple[Finding, ...] = ()
    live_uid: str = ""
    adopted: bool = False

    @property
    def key(self) -> Key:
        """Return ``(namespace, name)``."""
        return (self.namespace, self.name)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """The decisions for a whole desired set; :attr:`findings` holds set-level findings (validation, prune)."""

    mode: Mode
    objects: tuple[ObjectPlan, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def writes(self) -> bool:
        """Return whether the hooks should send any request (never in detect mode)."""
        return self.mode is not Mode.DETECT and any(item.steps for item in self.objects)

    def counts(self) -> dict[str, int]:
        """Return ``{outcome: count}`` over every outcome (zeros included), for the summary and the XCom."""
        out = {outcome.value: 0 for outcome in Outcome}
        for item in self.objects:
            out[item.outcome.value] += 1
        return out
