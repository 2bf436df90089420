"""The plan: for each desired or prunable ConfigMap, what to do, as decisions only.

Shaped after controller-runtime's ``CreateOrUpdate`` (an ``OperationResult`` per object, level-based, idempotent:
a second reconcile of an unchanged cluster plans nothing), with what it lacks for ConfigMaps:

- **Ownership guard** (Helm's "invalid ownership metadata", controller-runtime's ``AlreadyOwnedError``): a live
  object without our marker is failed (default), adopted (explicit; recorded in an annotation and the report) or
  skipped, per ``on_foreign``; one owned by another owner id, another tool or another controller always fails.
- **Strict content**: SSA restores what we own but leaves keys other managers added, so those are removed by a
  JSON patch guarded by the resourceVersion we read (:mod:`.patch`), *before* the apply, so a key moving between
  ``data`` and ``binaryData`` is never in both.
- **Immutable objects** cannot change content: recreate (delete with preconditions, then apply) only when the
  policy allows, else a conflict that says to rotate names with :func:`~.markers.with_hash_suffix`; rotations
  keep the last ``keep_last`` and prune older ones we own.
- **Prune** (opt-in, Argo CD's ``prune``/``allowEmpty``, Flux's "only objects still labelled as ours"): deletes
  objects carrying our owner marker that are no longer desired; an empty desired set prunes nothing unless
  ``allow_empty_prune``.
- **Flap protection** (:mod:`.flap`). **Modes**: ``enforce`` writes, ``dry_run`` sends the same writes with
  ``dryRun=All``, ``detect`` writes nothing and reports.

Nothing is planned when validation fails: the plan then holds only the findings. Called by the reconcile hooks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.common.catalogue import (
    RECONCILE_ADOPTED,
    RECONCILE_DRIFT_DETECTED,
    RECONCILE_FLAPPING,
    RECONCILE_FOREIGN_OBJECT,
    RECONCILE_FOREIGN_SKIPPED,
    RECONCILE_HASH_MISMATCH,
    RECONCILE_IMMUTABLE_BLOCKED,
    RECONCILE_OWNED_BY_OTHER,
    RECONCILE_PRUNE_REFUSED,
    RECONCILE_UID_CHANGED,
    finding,
)
from airflow_k8s_reconcile.domain.common.wording import iso
from airflow_k8s_reconcile.domain.reconcile.desired.markers import (
    BASE_NAME_ANNOTATION,
    Ownership,
    owner_of,
    ownership,
    select_rotation,
)
from airflow_k8s_reconcile.domain.reconcile.desired.validation import validate_specs
from airflow_k8s_reconcile.domain.reconcile.drift.attribution import Attribution, attribute
from airflow_k8s_reconcile.domain.reconcile.drift.diff import Change, Drift, diff
from airflow_k8s_reconcile.domain.reconcile.drift.flap import Rewrite, flapping, rewrites
from airflow_k8s_reconcile.domain.reconcile.patch import apply_body, delete_options, removal_patch
from airflow_k8s_reconcile.domain.reconcile.policy import (
    Action,
    Key,
    Mode,
    ObjectPlan,
    OnForeign,
    Outcome,
    Plan,
    Policy,
    Step,
)

if TYPE_CHECKING:
    from datetime import datetime

    from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec
    from airflow_k8s_reconcile.findings import Finding


def _by_key(live_objects: Iterable[Mapping[str, Any]]) -> dict[Key, Mapping[str, Any]]:
    out = {}
    for live in live_objects:
        meta = live.get("metadata") or {}
        out[(str(meta.get("namespace", "")), str(meta.get("name", "")))] = live
    return out


def _guard(spec: ConfigMapSpec, live: Mapping[str, Any], policy: Policy) -> ObjectPlan | None:
    """Return the plan that ends here because the object is not ours, or ``None`` to go on."""
    where = f"ConfigMap {spec.namespace}/{spec.name}"
    uid = str((live.get("metadata") or {}).get("uid", ""))
    found = ownership(live, policy.owner, spec.controlled_by)
    if found is Ownership.OTHER_OWNER:
        cause = f"{where} belongs to {owner_of(live)}, not to {policy.owner!r}."
        fix = "Pick another name, or have its owner release it; ownership is never taken over silently."
        item = finding(RECONCILE_OWNED_BY_OTHER, cause, fix)
        return ObjectPlan(
            namespace=spec.namespace,
            name=spec.name,
            outcome=Outcome.FAILED,
            spec=spec,
            findings=(item,),
            live_uid=uid,
        )
    if found is Ownership.UNMARKED and policy.on_foreign is OnForeign.FAIL:
        cause = f"{where} exists and carries no airflow-k8s-reconcile ownership marker."
        fix = "Pass on_foreign='adopt' to take it over (recorded), on_foreign='skip' to leave it, or rename."
        return ObjectPlan(
            namespace=spec.namespace,
            name=spec.name,
            outcome=Outcome.FAILED,
            spec=spec,
            findings=(finding(RECONCILE_FOREIGN_OBJECT, cause, fix),),
            live_uid=uid,
        )
    if found is Ownership.UNMARKED and policy.on_foreign is OnForeign.SKIP:
        cause = f"{where} exists without our ownership marker and was left alone (on_foreign='skip')."
        return ObjectPlan(
            namespace=spec.namespace,
            name=spec.name,
            outcome=Outcome.SKIPPED,
            spec=spec,
            findings=(finding(RECONCILE_FOREIGN_SKIPPED, cause, "Adopt it or rename the spec."),),
            live_uid=uid,
        )
    return None


def _drift_findings(
    spec: ConfigMapSpec, drift: Drift, attribution: Sequence[Attribution], mode: Mode
) -> list[Finding]:
    where = f"ConfigMap {spec.namespace}/{spec.name}"
    managers = sorted({item.manager for item in attribution if item.manager and not item.inferred})
    by = f" (written by {', '.join(managers)})" if managers else ""
    out = []
    if drift.hash_mismatch:
        cause = f"The content of {where} no longer matches the hash we stamped on it{by}."
        out.append(
            finding(RECONCILE_HASH_MISMATCH, cause, "Find who edits it; restrict update on configmaps.")
        )
    if drift.uid_changed:
        cause = f"{where} has uid {drift.live_uid}, not {drift.previous_uid}: it was deleted and recreated."
        out.append(finding(RECONCILE_UID_CHANGED, cause, "Check the audit log for the delete."))
    if mode is Mode.DETECT and not drift.in_sync:
        parts = [f"{change.value} {drift.labels_of(change)}" for change in Change if drift.labels_of(change)]
        parts += ["missing"] if drift.missing else []
        parts += [f"{len(drift.metadata)} managed metadata change(s)"] if drift.metadata else []
        cause = f"{where} drifted: {'; '.join(parts) or 'immutable flag differs'}{by}."
        out.append(finding(RECONCILE_DRIFT_DETECTED, cause, "Run in enforce mode to restore it."))
    return out


def _plan_live(
    spec: ConfigMapSpec, live: Mapping[str, Any], policy: Policy, drift: Drift, adopted_at: str
) -> tuple[Outcome, list[Step], list[Finding]]:
    meta = live.get("metadata") or {}
    live_immutable = live.get("immutable") is True
    apply = Step(Action.APPLY, apply_body(spec, owner=policy.owner, adopted_at=adopted_at), policy.force)
    changed = Outcome.RESTORED if drift.tampered and not adopted_at else Outcome.UPDATED
    if live_immutable and drift.content_differs:
        if policy.recreate_immutable:
            return changed, [Step(Action.DELETE, delete_options(live)), apply], []
        cause = (
            f"ConfigMap {spec.namespace}/{spec.name} is immutable"
            f"{' (made so by someone else)' if drift.made_immutable else ''} and its content would have to change."
        )
        fix = "Rotate names (with_hash_suffix), or allow recreate_immutable=True to delete and recreate it."
        return Outcome.CONFLICT, [], [finding(RECONCILE_IMMUTABLE_BLOCKED, cause, fix)]
    steps = []
    added = [(item.section, item.key) for item in drift.keys if item.change is Change.ADDED]
    if added:
        steps.append(Step(Action.REMOVE_KEYS, removal_patch(str(meta.get("resourceVersion", "")), added)))
    needs_apply = (
        any(item.change is not Change.ADDED for item in drift.keys)
        or drift.metadata
        or drift.immutable_differs
        or drift.annotated_hash != drift.desired_hash
        or adopted_at
    )
    if needs_apply:
        steps.append(apply)
    return changed, steps, []


def plan_object(
    spec: ConfigMapSpec,
    live: Mapping[str, Any] | None,
    policy: Policy,
    *,
    now: datetime,
    previous_uid: str = "",
    history: Iterable[Rewrite] = (),
) -> ObjectPlan:
    """Decide what to do about one desired ConfigMap.

    :param spec: the desired state (validated).
    :param live: its live object dict, or ``None`` when it does not exist.
    :param policy: the reconcile policy.
    :param now: the current time (adoption annotation, flap window).
    :param previous_uid: the uid seen by the previous reconcile, to tell "deleted" and "recreated by someone".
    :param history: rewrites observed by earlier runs, for flap protection.
    :return: the decision.
    """
    base = ObjectPlan(namespace=spec.namespace, name=spec.name, outcome=Outcome.UNCHANGED, spec=spec)
    if live is None:
        drift = diff(spec, None, owner=policy.owner, previous_uid=previous_uid)
        outcome = Outcome.RESTORED if previous_uid else Outcome.CREATED
        step = Step(Action.APPLY, apply_body(spec, owner=policy.owner), policy.force)
        return dataclasses.replace(
            base,
            outcome=outcome,
            steps=(step,),
            drift=drift,
            findings=tuple(_drift_findings(spec, drift, (), policy.mode)),
        )
    guarded = _guard(spec, live, policy)
    if guarded is not None:
        return guarded
    adopted = ownership(live, policy.owner, spec.controlled_by) is Ownership.UNMARKED
    drift = diff(spec, live, owner=policy.owner, previous_uid=previous_uid)
    attribution = attribute(drift, live)
    uid = drift.live_uid
    found = _drift_findings(spec, drift, attribution, policy.mode)
    if adopted:
        cause = f"ConfigMap {spec.namespace}/{spec.name} had no ownership marker and is adopted by {policy.owner!r}."
        found.insert(
            0, finding(RECONCILE_ADOPTED, cause, "Nothing to do; the adoption time is in an annotation.")
        )
    elif drift.in_sync:
        return dataclasses.replace(base, outcome=Outcome.UNCHANGED, drift=drift, live_uid=uid)
    observed = rewrites(spec.namespace, spec.name, attribution)
    flaps = flapping(
        (*history, *observed), now=now, window=policy.flap_window, threshold=policy.flap_threshold
    )
    flap = flaps.get(spec.key)
    if flap is not None and drift.tampered:
        cause = (
            f"{flap.manager!r} rewrote ConfigMap {spec.namespace}/{spec.name} {flap.times} times within "
            f"{policy.flap_window}; restoring it again would only continue the fight."
        )
        fix = f"Stop {flap.manager!r} from writing these keys, or stop declaring them here."
        found.append(finding(RECONCILE_FLAPPING, cause, fix))
        return dataclasses.replace(
            base,
            outcome=Outcome.FAILED,
            drift=drift,
            attribution=attribution,
            findings=tuple(found),
            live_uid=uid,
        )
    outcome, steps, blocked = _plan_live(spec, live, policy, drift, iso(now) if adopted else "")
    return dataclasses.replace(
        base,
        outcome=outcome,
        steps=tuple(steps),
        drift=drift,
        attribution=attribution,
        findings=tuple(found + blocked),
        live_uid=uid,
        adopted=adopted,
    )


def _prunes(
    specs: Sequence[ConfigMapSpec], by_key: Mapping[Key, Mapping[str, Any]], policy: Policy
) -> tuple[list[ObjectPlan], list[Finding]]:
    desired = {spec.key for spec in specs}
    kept: set[Key] = set()
    doomed: dict[Key, str] = {}
    for spec in specs:
        base = spec.annotations.get(BASE_NAME_ANNOTATION)
        if base is None:
            continue
        family = [live for key, live in by_key.items() if key[0] == spec.namespace]
        rotation = select_rotation(
            family, base_name=base, current=spec.name, owner=policy.owner, keep_last=policy.keep_last
        )
        kept |= {(spec.namespace, name) for name in rotation.keep}
        doomed |= {(spec.namespace, name): "rotation" for name in rotation.prune}
    findings: list[Finding] = []
    if policy.prune and not specs and not policy.allow_empty_prune:
        cause = "The desired set is empty, so prune would delete every ConfigMap this owner manages."
        findings.append(
            finding(RECONCILE_PRUNE_REFUSED, cause, "Pass allow_empty_prune=True if that is meant.")
        )
    elif policy.prune:
        for key, live in by_key.items():
            if key not in desired and key not in kept and ownership(live, policy.owner) is Ownership.OURS:
                doomed.setdefault(key, "prune")
    plans = []
    for key in sorted(set(doomed) - desired):
        live = by_key[key]
        if (live.get("metadata") or {}).get("deletionTimestamp"):
            continue  # already being deleted: a second delete would only race the garbage collector.
        step = Step(Action.DELETE, delete_options(live))
        uid = str((live.get("metadata") or {}).get("uid", ""))
        plans.append(
            ObjectPlan(namespace=key[0], name=key[1], outcome=Outcome.PRUNED, steps=(step,), live_uid=uid)
        )
    return plans, findings


def plan(
    specs: Sequence[ConfigMapSpec],
    live_objects: Iterable[Mapping[str, Any]],
    policy: Policy,
    *,
    now: datetime,
    previous_uids: Mapping[Key, str] | None = None,
    history: Iterable[Rewrite] = (),
) -> Plan:
    """Decide what to do for a whole desired set against what the hooks listed.

    :param specs: the desired ConfigMaps (hash-suffixed already when rotating).
    :param live_objects: the live ConfigMap dicts listed (our label selector) plus those fetched by desired name.
    :param policy: the reconcile policy.
    :param now: the current time (aware).
    :param previous_uids: ``{(namespace, name): uid}`` from the previous report (:func:`~.report.previous_uids`).
    :param history: rewrites observed by earlier runs, for flap protection.
    :return: the plan; with validation findings only (and no objects) when a spec is invalid.
    """
    invalid = validate_specs(specs, owner=policy.owner)
    if invalid:
        return Plan(mode=policy.mode, findings=invalid)
    by_key = _by_key(live_objects)
    history = tuple(history)
    uids = previous_uids or {}
    objects = [
        plan_object(
            spec, by_key.get(spec.key), policy, now=now, previous_uid=uids.get(spec.key, ""), history=history
        )
        for spec in specs
    ]
    prunes, findings = _prunes(specs, by_key, policy)
    return Plan(mode=policy.mode, objects=(*objects, *prunes), findings=tuple(findings))
