"""The reconcile report: a JSON-serialisable dict (XCom, ``reconcile --json``), its text form, and Event payloads.

Built from the :class:`~.policy.Plan` plus what the hooks learned while performing it (a final outcome when a
write failed, the uid after a create). The shape the CLI documents::

    {"objects": [{"namespace", "name", "status", "drift": {"added": [...], "removed": [...], "modified": [...]},
                  "attribution": [...], ...}],
     "summary": {...}}

Each object also carries its metadata drift, uid change, actions, content hashes (desired, live, annotated),
inputs, findings, and masked ``values`` (:mod:`.masking`): fingerprints of the live and desired value of each
drifted key, never the value itself unless explicitly allowed for a non-sensitive key. Findings and actions name
keys only. ``rewrites`` and each object's ``uid`` are what the next run feeds back as flap history and remembered
uids (:func:`previous_uids`, :func:`history`). Events follow the Kubernetes convention of a CamelCase ``reason``
(``DriftDetected`` Warning, ``DriftCorrected`` Normal) and a note of at most 1 KiB (events.k8s.io/v1).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.common.wording import clip
from airflow_k8s_reconcile.domain.reconcile.drift.diff import Change
from airflow_k8s_reconcile.domain.reconcile.drift.flap import Rewrite, rewrites, rewrites_from_dicts
from airflow_k8s_reconcile.domain.reconcile.masking import Masking
from airflow_k8s_reconcile.domain.reconcile.policy import Key, Mode, ObjectPlan, Outcome, Plan

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.reconcile.drift.diff import Drift
    from airflow_k8s_reconcile.findings import Finding

EVENT_NOTE_MAX = 1024
IN_SYNC = frozenset({Outcome.UNCHANGED, Outcome.CREATED, Outcome.UPDATED, Outcome.RESTORED, Outcome.PRUNED})


def _drift_dict(drift: Drift | None, masking: Masking) -> tuple[dict[str, Any], dict[str, Any]]:
    if drift is None:
        return {"added": [], "removed": [], "modified": []}, {}
    out: dict[str, Any] = {change.value: drift.labels_of(change) for change in Change}
    out |= {
        "missing": drift.missing,
        "metadata": [
            {"field": item.field, "key": item.key, "change": item.change.value} for item in drift.metadata
        ],
        "uid_changed": drift.uid_changed,
        "previous_uid": drift.previous_uid,
        "made_immutable": drift.made_immutable,
        "immutable_differs": drift.immutable_differs,
        "hash_mismatch": drift.hash_mismatch,
    }
    values = {
        item.label: {
            "live": masking.show(item.key, item.live),
            "desired": masking.show(item.key, item.desired),
        }
        for item in drift.keys
    }
    values |= {
        f"{item.field}/{item.key}": {
            "live": masking.show(item.key, item.live),
            "desired": masking.show(item.key, item.desired),
        }
        for item in drift.metadata
        if item.field == "annotations"
    }
    return out, values


def object_report(
    item: ObjectPlan,
    *,
    mode: Mode,
    masking: Masking,
    outcome: Outcome | None = None,
    uid: str = "",
    failures: Sequence[Finding] = (),
) -> dict[str, Any]:
    """Return the report entry of one object.

    :param item: its plan.
    :param mode: the reconcile mode (detect and dry_run write nothing).
    :param masking: how values are shown.
    :param outcome: the final outcome when it differs from the planned one (a write failed, a conflict).
    :param uid: the uid after the writes (a create gives a new one); the planned live uid when empty.
    :param failures: findings from performing the plan (API answers).
    :return: the JSON-serialisable entry.
    """
    drift, values = _drift_dict(item.drift, masking)
    spec = item.spec
    status = outcome or item.outcome
    return {
        "namespace": item.namespace,
        "name": item.name,
        "status": status.value,
        "written": mode is Mode.ENFORCE and bool(item.steps) and status in IN_SYNC,
        "uid": uid or item.live_uid,
        "drift": drift,
        "attribution": [entry.to_dict() for entry in item.attribution],
        "actions": [step.describe() for step in item.steps] + (["adopt"] if item.adopted else []),
        "hashes": {
            "desired": item.drift.desired_hash if item.drift else "",
            "live": item.drift.live_hash if item.drift else "",
            "annotation": item.drift.annotated_hash if item.drift else "",
        },
        "values": values,
        "inputs": [ref.to_dict() for ref in spec.inputs] if spec else [],
        "findings": [entry.to_dict() for entry in (*item.findings, *failures)],
    }


def build_report(
    plan: Plan,
    *,
    masking: Masking | None = None,
    outcomes: Mapping[Key, Outcome] | None = None,
    uids: Mapping[Key, str] | None = None,
    failures: Mapping[Key, Sequence[Finding]] | None = None,
    history: Sequence[Rewrite] = (),
) -> dict[str, Any]:
    """Return the whole report: objects, set-level findings, rewrites seen, and a summary.

    :param plan: the plan that was performed (or, in detect mode, only judged).
    :param masking: how values are shown; everything fingerprinted by default.
    :param outcomes: final outcomes that differ from the planned ones.
    :param uids: uids after the writes.
    :param failures: findings from performing each object's plan.
    :param history: earlier rewrites to carry forward (flap protection needs them next run).
    :return: the JSON-serialisable report.
    """
    masking = masking or Masking()
    outcomes, uids, failures = outcomes or {}, uids or {}, failures or {}
    objects = [
        object_report(
            item,
            mode=plan.mode,
            masking=masking,
            outcome=outcomes.get(item.key),
            uid=uids.get(item.key, ""),
            failures=failures.get(item.key, ()),
        )
        for item in plan.objects
    ]
    seen = {
        rewrite for item in plan.objects for rewrite in rewrites(item.namespace, item.name, item.attribution)
    }
    counts = {outcome.value: 0 for outcome in Outcome}
    for entry in objects:
        counts[entry["status"]] += 1
    drifted = sum(1 for item in plan.objects if item.drift is not None and not item.drift.in_sync)
    # Enforce ends in sync when every object reached a written state; detect and dry_run only when nothing differs.
    settled = IN_SYNC if plan.mode is Mode.ENFORCE else frozenset({Outcome.UNCHANGED})
    in_sync = not plan.findings and all(Outcome(entry["status"]) in settled for entry in objects)
    return {
        "objects": objects,
        "findings": [entry.to_dict() for entry in plan.findings],
        "rewrites": [rewrite.to_dict() for rewrite in sorted(seen | set(history))],
        "summary": {
            "mode": plan.mode.value,
            "objects": len(objects),
            **counts,
            "drifted": drifted,
            "in_sync": in_sync,
        },
    }


def previous_uids(report: Mapping[str, Any]) -> dict[Key, str]:
    """Return ``{(namespace, name): uid}`` from an earlier report (an XCom), for uid-change detection."""
    out = {}
    for entry in report.get("objects") or ():
        if isinstance(entry, Mapping) and entry.get("uid") and entry.get("status") != Outcome.PRUNED.value:
            out[(str(entry.get("namespace")), str(entry.get("name")))] = str(entry["uid"])
    return out


def history(report: Mapping[str, Any]) -> tuple[Rewrite, ...]:
    """Return the rewrites an earlier report recorded, for flap protection."""
    return rewrites_from_dicts(item for item in report.get("rewrites") or () if isinstance(item, Mapping))


def _object_line(entry: Mapping[str, Any]) -> list[str]:
    drift = entry["drift"]
    who = {item["key"]: item for item in entry["attribution"]}
    parts = []
    for change in ("added", "removed", "modified"):
        keys = []
        for key in drift[change]:
            by = who.get(key)
            guess = "probably " if by and by["inferred"] else ""
            keys.append(
                f"{key} (by {guess}{by['manager']}, {by['operation']} {by['time']})"
                if by and by["manager"]
                else key
            )
        if keys:
            parts.append(f"{change} {', '.join(keys)}")
    if drift.get("missing"):
        parts.append("deleted" if drift.get("previous_uid") else "missing")
    parts += [f"{len(drift['metadata'])} managed label/annotation change(s)"] if drift.get("metadata") else []
    parts += ["uid changed (deleted and recreated)"] if drift.get("uid_changed") else []
    parts += ["made immutable by someone else"] if drift.get("made_immutable") else []
    parts += ["content does not match its hash annotation"] if drift.get("hash_mismatch") else []
    actions = f" -> {', '.join(entry['actions'])}" if entry["actions"] else ""
    lines = [
        f"  {entry['status']:<9} {entry['namespace']}/{entry['name']}: {'; '.join(parts) or 'in sync'}{actions}"
    ]
    lines += [f"    [{item['status']}] {item['code']}: {item['cause']}" for item in entry["findings"]]
    return lines


def render(report: Mapping[str, Any]) -> str:
    """Return the report as readable text: a summary line, then one line per object that is not unchanged."""
    summary = report["summary"]
    counted = ", ".join(f"{summary[o.value]} {o.value}" for o in Outcome if summary.get(o.value))
    verdict = "in sync" if summary["in_sync"] else "NOT in sync"
    lines = [
        f"Reconcile ({summary['mode']}): {summary['objects']} ConfigMap(s), {counted or 'nothing to do'}; {verdict}."
    ]
    lines += [
        f"  [{item['status']}] {item['code']}: {item['cause']}" for item in report.get("findings") or ()
    ]
    for entry in report["objects"]:
        if entry["status"] != Outcome.UNCHANGED.value:
            lines += _object_line(entry)
    return "\n".join(lines)


def event(entry: Mapping[str, Any], *, mode: Mode) -> dict[str, Any] | None:
    """Return the Kubernetes Event payload for one object's report entry, or ``None`` when nothing drifted.

    ``DriftCorrected`` (Normal) when enforce mode restored it, else ``DriftDetected`` (Warning). The note names
    keys and managers, never values. The hooks add ``involvedObject``'s resourceVersion, timestamps and the source.

    :param entry: one item of ``report["objects"]``.
    :param mode: the reconcile mode.
    :return: ``{"reason", "type", "action", "note", "regarding"}`` or ``None``.
    """
    if entry["status"] != Outcome.RESTORED.value and not (
        entry["status"] in {Outcome.FAILED.value, Outcome.CONFLICT.value} and entry["attribution"]
    ):
        return None
    corrected = mode is Mode.ENFORCE and entry["status"] == Outcome.RESTORED.value and entry["written"]
    text = _object_line(entry)[0].strip()
    return {
        "reason": "DriftCorrected" if corrected else "DriftDetected",
        "type": "Normal" if corrected else "Warning",
        "action": "Restore" if corrected else "Detect",
        "note": clip(text, EVENT_NOTE_MAX),
        "regarding": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "namespace": entry["namespace"],
            "name": entry["name"],
            "uid": entry["uid"],
        },
    }
