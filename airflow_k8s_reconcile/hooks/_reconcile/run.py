"""Perform a reconcile: read the live state, let the core plan, send the plan's requests, follow the core's answers.

Nothing is decided here. Reads are one paginated list per namespace by the core's label selector
(:func:`~airflow_k8s_reconcile.domain.reconcile.desired.markers.selector`), plus a get for each desired name the list did
not return (not labelled yet, or absent). Only items the plan can use are kept: desired objects whole, and, when
prune or rotation may delete them, objects carrying our label trimmed to their metadata; so memory follows the page
size and the desired set, not the namespace.

Writes are the plan's steps, each object's in order, objects in parallel on a small thread pool (the API server's
priority and fairness queues would only throttle a large burst from one client). After every answer the core's
:func:`~airflow_k8s_reconcile.domain.reconcile.answers.decide` says what follows: re-read and re-plan (a stale
resourceVersion, a failed ``test``, an object made immutable meanwhile), read and continue (``AlreadyExists``),
report a field-manager conflict, or fail with the API's diagnosis (a 403 names the missing permission). 429 and 5xx
were already retried by the client's retry policy; one still failing marks the object failed and the run
``transient``, so Airflow's own retry runs the (idempotent) reconcile again.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_k8s_reconcile.domain.reconcile.answers import Next, Request, decide
from airflow_k8s_reconcile.domain.reconcile.desired.markers import (
    BASE_NAME_ANNOTATION,
    Ownership,
    ownership,
    selector,
)
from airflow_k8s_reconcile.domain.reconcile.desired.spec import FIELD_MANAGER
from airflow_k8s_reconcile.domain.reconcile.desired.validation import validate_specs
from airflow_k8s_reconcile.domain.reconcile.patch import (
    APPLY_CONTENT_TYPE,
    JSON_PATCH_CONTENT_TYPE,
    delete_options,
)
from airflow_k8s_reconcile.domain.reconcile.plan import plan, plan_object
from airflow_k8s_reconcile.domain.reconcile.policy import Action, Key, Mode, ObjectPlan, Outcome, Step
from airflow_k8s_reconcile.domain.reconcile.report import build_report, history, previous_uids
from airflow_k8s_reconcile.hooks._errors import failure_finding, is_api_exception
from airflow_k8s_reconcile.hooks._reconcile.rest import DEFAULT_PAGE_SIZE, answer_of, pages, segment, send
from airflow_k8s_reconcile.hooks._transport.retry import safe_to_retry

if TYPE_CHECKING:
    from datetime import datetime

    from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec
    from airflow_k8s_reconcile.domain.reconcile.masking import Masking
    from airflow_k8s_reconcile.domain.reconcile.policy import Policy
    from airflow_k8s_reconcile.findings import Finding

MAX_WORKERS = 4
MAX_ATTEMPTS = 3
_REQUEST = {
    Action.APPLY: Request.APPLY,
    Action.REMOVE_KEYS: Request.JSON_PATCH,
    Action.DELETE: Request.DELETE,
}
_VERB = {Action.APPLY: "patch", Action.REMOVE_KEYS: "patch", Action.DELETE: "delete"}
_METADATA_KEPT = (
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "labels",
    "annotations",
    "ownerReferences",
    "creationTimestamp",
    "deletionTimestamp",
)


def configmap_path(namespace: str, name: str = "") -> str:
    """Return the URL path of a namespace's ConfigMaps, or of one of them."""
    path = f"/api/v1/namespaces/{segment(namespace)}/configmaps"
    return f"{path}/{segment(name)}" if name else path


def get_configmap(api: Any, namespace: str, name: str) -> dict[str, Any] | None:
    """Return one live ConfigMap as a raw dict, or ``None`` when it does not exist (404)."""
    try:
        return send(api, "GET", configmap_path(namespace, name))
    except Exception as err:
        if is_api_exception(err) and decide(Request.GET, answer_of(err)).next is Next.ABSENT:
            return None
        raise


class Outcomes(NamedTuple):
    """What performing one object's plan ended in."""

    item: ObjectPlan
    outcome: Outcome | None = None
    uid: str = ""
    failures: tuple[Finding, ...] = ()
    transient: bool = False


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """The report, plus what the caller must know to choose between failing and retrying."""

    report: dict[str, Any]
    transient: bool
    """A request still failed with 429/5xx or a reset after the retry policy gave up: a later run may succeed."""


@dataclasses.dataclass(kw_only=True)
class Run:
    """One reconcile of a desired set; built and used once by the hook.

    :param api: the hook's ``ApiClient``.
    :param policy: the core's policy.
    :param now: the time the plan is made at.
    :param server: the API server URL, for findings.
    :param previous: an earlier report of the same owner (uids and flap history), or ``None``.
    :param page_size: items per list page.
    :param max_workers: concurrent writes.
    :param namespaces: namespaces to list besides the specs' (where prune looks when the desired set is empty).
    """

    api: Any
    policy: Policy
    now: datetime
    server: str = ""
    previous: Mapping[str, Any] | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    max_workers: int = MAX_WORKERS
    namespaces: tuple[str, ...] = ()
    requests: Counter[str] = dataclasses.field(default_factory=Counter)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    def count(self, kind: str) -> None:
        """Count one request of ``kind`` (the report's ``requests``); called from the pool's threads."""
        with self._lock:
            self.requests[kind] += 1

    # --- reading -------------------------------------------------------------------------------------------
    def read(self, specs: Sequence[ConfigMapSpec]) -> list[dict[str, Any]]:
        """Return the live objects the plan needs: one list per namespace, then gets for unlisted desired names."""
        desired = {spec.key for spec in specs}
        keep_ours = self.policy.prune or any(BASE_NAME_ANNOTATION in spec.annotations for spec in specs)
        live: dict[Key, dict[str, Any]] = {}
        for namespace in sorted({spec.namespace for spec in specs} | set(self.namespaces)):
            query = [("labelSelector", selector())]
            for page in pages(self.api, configmap_path(namespace), query=query, limit=self.page_size):
                self.count("list")
                for item in page.items:
                    meta = item.get("metadata") or {}
                    key = (str(meta.get("namespace", namespace)), str(meta.get("name", "")))
                    if key in desired:
                        live[key] = item
                    elif keep_ours:
                        live[key] = _trimmed(item)
        missing = sorted(desired - set(live))
        for key, item in zip(missing, self._parallel(lambda key: self._get(*key), missing), strict=True):
            if item is not None:
                live[key] = item
        return list(live.values())

    def _get(self, namespace: str, name: str) -> dict[str, Any] | None:
        self.count("get")
        return get_configmap(self.api, namespace, name)

    # --- the whole run -------------------------------------------------------------------------------------
    def reconcile(self, specs: Sequence[ConfigMapSpec], masking: Masking | None) -> Result:
        """Validate (before any request), read, plan, perform (unless detect), and report."""
        previous = self.previous or {}
        uids, seen = previous_uids(previous), history(previous)
        invalid = validate_specs(specs, owner=self.policy.owner)
        if invalid:
            decided = plan(specs, (), self.policy, now=self.now)
            return Result(report=self._report(decided, masking, {}, seen), transient=False)
        decided = plan(specs, self.read(specs), self.policy, now=self.now, previous_uids=uids, history=seen)
        results: dict[Key, Outcomes] = {}
        if decided.writes:
            todo = [item for item in decided.objects if item.steps]
            for done in self._parallel(lambda item: self._perform(item, uids, seen), todo):
                results[done.item.key] = done
        objects = tuple(results[item.key].item if item.key in results else item for item in decided.objects)
        final = dataclasses.replace(decided, objects=objects)
        report = self._report(final, masking, results, seen)
        return Result(report=report, transient=any(done.transient for done in results.values()))

    def _report(
        self, decided: Any, masking: Masking | None, results: Mapping[Key, Outcomes], seen: Iterable[Any]
    ) -> dict[str, Any]:
        report = build_report(
            decided,
            masking=masking,
            outcomes={key: done.outcome for key, done in results.items() if done.outcome is not None},
            uids={key: done.uid for key, done in results.items() if done.uid},
            failures={key: done.failures for key, done in results.items() if done.failures},
            history=tuple(seen),
        )
        report["requests"] = dict(self.requests)
        return report

    def _parallel(self, work: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if len(items) <= 1 or self.max_workers <= 1:
            return [work(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(items))) as pool:
            return list(pool.map(work, items))

    # --- writing -------------------------------------------------------------------------------------------
    def _perform(self, item: ObjectPlan, uids: Mapping[Key, str], seen: Sequence[Any]) -> Outcomes:
        attempt = 1
        current = item
        while True:
            uid, redo = "", False
            for index, step in enumerate(current.steps):
                if (
                    self.policy.mode is Mode.DRY_RUN
                    and index
                    and current.steps[index - 1].action is Action.DELETE
                ):
                    break  # a dry-run delete persisted nothing: the apply after it would only meet the old object
                try:
                    answer = self._send(current, step)
                except Exception as err:
                    if not is_api_exception(err):
                        raise
                    name = f"{current.namespace}/{current.name}"
                    decision = decide(_REQUEST[step.action], answer_of(err), name=name, attempt=attempt,
                                      max_attempts=MAX_ATTEMPTS)  # fmt: skip
                    if decision.next is Next.DONE:
                        continue
                    if decision.next in {Next.REREAD, Next.READ_AND_CONTINUE}:
                        current, redo = self._replan(current, uids, seen), True
                        attempt += 1
                        break
                    if decision.next is Next.REPORT_CONFLICT and decision.finding is not None:
                        return Outcomes(current, Outcome.CONFLICT, failures=(decision.finding,))
                    found = decision.finding or self._diagnose(err, step, current)
                    return Outcomes(current, Outcome.FAILED, failures=(found,),
                                    transient=decision.next is Next.RETRY)  # fmt: skip
                uid = str((answer.get("metadata") or {}).get("uid", "")) or uid
            if not redo:
                return Outcomes(current, uid=uid if step_applied(current) else "")

    def _send(self, item: ObjectPlan, step: Step) -> dict[str, Any]:
        path = configmap_path(item.namespace, item.name)
        dry = ("dryRun", "All") if self.policy.mode is Mode.DRY_RUN else ("dryRun", None)
        self.count(_REQUEST[step.action].value)
        # Each of these is safe to send twice: an apply is declarative, the JSON patch is guarded by its
        # resourceVersion test, the delete by its preconditions.
        with safe_to_retry():
            if step.action is Action.APPLY:
                query = [("fieldManager", FIELD_MANAGER), ("force", "true" if step.force else None), dry]
                return send(
                    self.api, "PATCH", path, query=query, body=step.body, content_type=APPLY_CONTENT_TYPE
                )
            if step.action is Action.REMOVE_KEYS:
                return send(
                    self.api, "PATCH", path, query=[dry], body=step.body, content_type=JSON_PATCH_CONTENT_TYPE
                )
            return send(self.api, "DELETE", path, query=[dry], body=step.body)

    def _replan(self, item: ObjectPlan, uids: Mapping[Key, str], seen: Sequence[Any]) -> ObjectPlan:
        live = self._get(item.namespace, item.name)
        if item.spec is not None:
            return plan_object(item.spec, live, self.policy, now=self.now,
                               previous_uid=uids.get(item.key, ""), history=seen)  # fmt: skip
        # A prune: delete the object as it is now, if it is still ours; gone already is as good as pruned.
        if live is None or ownership(live, self.policy.owner) is not Ownership.OURS:
            return dataclasses.replace(
                item, steps=(), outcome=Outcome.PRUNED if live is None else Outcome.SKIPPED
            )
        return dataclasses.replace(item, steps=(Step(Action.DELETE, delete_options(live)),))

    def _diagnose(self, err: BaseException, step: Step, item: ObjectPlan) -> Finding:
        action = f"{_VERB[step.action]} configmaps in namespace {item.namespace}"
        return failure_finding(err, server=self.server, action=action)


def step_applied(item: ObjectPlan) -> bool:
    """Return whether the object's last step creates or updates it (so the answer's uid is the live one)."""
    return bool(item.steps) and item.steps[-1].action is Action.APPLY


def _trimmed(item: Mapping[str, Any]) -> dict[str, Any]:
    """Return only the metadata prune and rotation decide on; data and managedFields are dropped."""
    meta = item.get("metadata") or {}
    return {"metadata": {key: meta[key] for key in _METADATA_KEPT if key in meta}}
