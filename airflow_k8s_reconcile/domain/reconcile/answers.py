"""How to branch on the API server's answer to a reconcile request; the hooks perform, this decides.

The status code alone is not enough: 409 means ``AlreadyExists`` on a create, ``Conflict`` on a stale
resourceVersion or a failed delete precondition, and also ``Conflict`` with ``FieldManagerConflict`` causes on a
server-side apply without ``force`` (bodies observed on kube-apiserver 1.20.2). The cncf provider's
``generic_api_retry`` retries every 409 as transient; controller-runtime re-reads and re-queues on a conflict.
Here:

- ``AlreadyExists`` -> read the object and continue with it (someone created it first; the ownership guard
  decides what that means);
- ``Conflict`` with ``FieldManagerConflict`` causes -> report the managers and fields, never resend;
- other ``Conflict``, a 422 on our resourceVersion-guarded JSON patch (its ``test`` failed, or a key to remove
  vanished: the state moved since we read it), a 422 saying the object became immutable, 410 -> re-read and
  re-plan, a bounded number of times;
- 404 on delete -> done (already gone); on a JSON patch -> re-read; on apply -> fail (the namespace is missing);
- 429 and 500/502/503/504 -> retry with the hooks' one retry policy (``Retry-After``, backoff);
- anything else (400, 401, 403, other 422) -> fail: it cannot succeed by retrying.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from airflow_k8s_reconcile.domain.common.catalogue import (
    RECONCILE_FIELD_MANAGER_CONFLICT,
    RECONCILE_RETRIES_EXHAUSTED,
    finding,
)

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding

TRANSIENT = frozenset({429, 500, 502, 503, 504})
_MANAGER = re.compile(r'conflicts? with "([^"]+)"')


class Request(enum.StrEnum):
    """The kind of request that was answered."""

    GET = "get"
    APPLY = "apply"
    JSON_PATCH = "json-patch"
    DELETE = "delete"


class Next(enum.StrEnum):
    """What the hook does next."""

    DONE = "done"
    ABSENT = "absent"
    """The object does not exist (a 404 on get): diff it as missing."""
    READ_AND_CONTINUE = "read-and-continue"
    REREAD = "reread"
    """Re-read the object and re-plan it; never resend the same request."""
    RETRY = "retry"
    """Transient: the hooks' retry policy sends the same request again after a delay."""
    REPORT_CONFLICT = "report-conflict"
    FAIL = "fail"


class Cause(NamedTuple):
    """One ``details.causes`` item of a ``Status`` body."""

    reason: str
    message: str
    field: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ApiAnswer:
    """The facts of a non-2xx answer the decision needs (the hooks extract them from ``ApiException``)."""

    code: int
    reason: str = ""
    message: str = ""
    causes: tuple[Cause, ...] = ()

    @classmethod
    def from_status(cls, body: Mapping[str, Any], *, code: int | None = None) -> ApiAnswer:
        """Return the answer held by a Kubernetes ``Status`` body (``kind: Status``), as parsed JSON."""
        details = body.get("details") or {}
        causes = tuple(
            Cause(str(item.get("reason", "")), str(item.get("message", "")), str(item.get("field", "")))
            for item in details.get("causes") or ()
            if isinstance(item, Mapping)
        )
        status = code if code is not None else int(body.get("code") or 0)
        return cls(
            code=status,
            reason=str(body.get("reason", "")),
            message=str(body.get("message", "")),
            causes=causes,
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What to do next, and for a field-manager conflict, who holds which fields."""

    next: Next
    managers: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    finding: Finding | None = None


def conflicting_managers(answer: ApiAnswer) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the managers and fields named by an SSA conflict (``conflict with "kubectl-edit" using v1``)."""
    conflicts = [cause for cause in answer.causes if cause.reason == "FieldManagerConflict"]
    managers = {match for cause in conflicts for match in _MANAGER.findall(cause.message)}
    managers |= set(_MANAGER.findall(answer.message)) if conflicts else set()
    return tuple(sorted(managers)), tuple(sorted({cause.field for cause in conflicts if cause.field}))


def _reread(attempt: int, max_attempts: int, answer: ApiAnswer, name: str) -> Decision:
    if attempt < max_attempts:
        return Decision(next=Next.REREAD)
    cause = f"ConfigMap {name} changed under us {attempt} times in a row; the last answer was {answer.code} {answer.reason}."
    fix = "Another writer is busy with it: find it in the attribution, or run the reconcile again later."
    return Decision(next=Next.FAIL, finding=finding(RECONCILE_RETRIES_EXHAUSTED, cause, fix))


def decide(
    request: Request, answer: ApiAnswer, *, name: str = "", attempt: int = 1, max_attempts: int = 3
) -> Decision:
    """Decide what follows an API answer to one reconcile request.

    :param request: what was sent.
    :param answer: the answer (2xx included).
    :param name: ``namespace/name`` of the object, for the findings.
    :param attempt: how many times this object was planned so far (1 on the first try).
    :param max_attempts: re-reads allowed before giving up.
    :return: the decision.
    """
    code, reason = answer.code, answer.reason
    if 200 <= code < 300:
        return Decision(next=Next.DONE)
    if code in TRANSIENT:
        return Decision(next=Next.RETRY)
    if code == 404:
        if request is Request.JSON_PATCH:
            return _reread(attempt, max_attempts, answer, name)
        return Decision(next={Request.GET: Next.ABSENT, Request.DELETE: Next.DONE}.get(request, Next.FAIL))
    if code == 409 and reason == "AlreadyExists":
        return Decision(next=Next.READ_AND_CONTINUE)
    if code == 409:
        managers, fields = conflicting_managers(answer)
        if managers or fields:
            cause = (
                f"Server-side apply of ConfigMap {name} conflicts with {', '.join(managers) or 'another manager'} "
                f"on {', '.join(fields) or 'some fields'}."
            )
            fix = (
                "Let that manager stop writing these fields, or reconcile with force=True to take them back."
            )
            item = finding(
                RECONCILE_FIELD_MANAGER_CONFLICT, cause, fix, evidence={"managers": ", ".join(managers)}
            )
            return Decision(next=Next.REPORT_CONFLICT, managers=managers, fields=fields, finding=item)
        return _reread(attempt, max_attempts, answer, name)
    if code == 410 or (
        code == 422 and (request is Request.JSON_PATCH or "field is immutable" in answer.message)
    ):
        return _reread(attempt, max_attempts, answer, name)
    return Decision(next=Next.FAIL)
