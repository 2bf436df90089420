"""Errors raised by this provider, and the finding each one carries.

Every failure a user can meet is one of these classes, never a raw ``ConfigException``, YAML error or
``ApiException``. Errors about configuration carry a :class:`Finding`: a stable ``code`` that docs and tests key on,
a one-sentence ``cause`` naming the concrete value (the missing path, the unknown context), the ``fix``, and
evidence that has already been redacted. Errors from the API server map status codes to classes (401/403
permission, 404 not found, 409 conflict, 422 invalid spec; only 429/500/502/503/504 and no response at all are
transient), keeping ``status``, ``reason`` and ``message``; the client library's original exception is chained as
``__cause__``.

This module is the lowest layer with :mod:`~airflow_k8s_reconcile.findings`: standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding


class ReconcileError(Exception):
    """Base class of every error this provider raises."""


class ConnectionConfigError(ReconcileError):
    """The connection cannot be resolved into working client settings.

    ``finding`` is the decisive failure; ``findings`` holds every finding gathered on the way (for example each
    credential source that was tried and why it was rejected), so nothing is swallowed.
    """

    def __init__(self, finding: Finding, findings: Sequence[Finding] = ()) -> None:
        super().__init__(finding.render())
        self.finding = finding
        self.findings: tuple[Finding, ...] = tuple(findings) or (finding,)

    @property
    def code(self) -> str:
        """Return the stable code of the decisive finding."""
        return self.finding.code


# Statuses worth sending the same request again for (after a wait): throttling and server-side trouble. Everything
# else the API server answers is a verdict on the request: 400/422 a bad object, 401/403 credentials or RBAC, 404 a
# missing object, 409 AlreadyExists (resending cannot help) or a stale resourceVersion (re-read and re-plan instead,
# never resend), 410 an expired watch resourceVersion (re-list instead).
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


class ClusterAccessError(ReconcileError):
    """The API server could not be reached or answered with an error.

    ``transient`` tells whether the same request may succeed if sent again later: true for 429, 500, 502, 503,
    504 and for failures with no response at all (DNS, TCP, TLS, timeouts), false for every other status. The
    retry policy and the reconcile and watch loops branch on it.

    :param message: what happened, already redacted.
    :param status: HTTP status, or ``None`` when no response arrived (DNS, TCP, TLS, timeout).
    :param reason: the Kubernetes ``Status.reason`` (``Forbidden``, ``AlreadyExists``, ``Conflict``, ...).
    :param audit_id: the ``Audit-Id`` response header, for finding the request in the audit log.
    :param finding: the diagnosis, when one was made.
    """

    # Subclasses whose condition no resend can change, whatever the status.
    _permanent: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
        audit_id: str = "",
        finding: Finding | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason
        self.audit_id = audit_id
        self.finding = finding
        self.transient = not self._permanent and (status is None or status in TRANSIENT_STATUSES)


class PermissionDeniedError(ClusterAccessError):
    """401 (credentials rejected) or 403 (identity lacks a permission). Not transient."""

    _permanent = True


class NotFoundError(ClusterAccessError):
    """404: the object or API does not exist. Not transient."""

    _permanent = True


class ConflictError(ClusterAccessError):
    """409: ``reason`` tells ``AlreadyExists`` (create) from ``Conflict`` (stale resourceVersion, SSA conflict).

    Not transient: resending the same request cannot succeed. On ``Conflict``, re-read the object and plan again.
    """

    _permanent = True


class InvalidSpecError(ClusterAccessError):
    """422 or a spec rejected before it was sent. Not transient."""

    _permanent = True


class PreflightFailedError(ReconcileError):
    """A preflight check failed; ``findings`` holds the failing findings."""

    def __init__(self, message: str, findings: Sequence[Finding]) -> None:
        super().__init__(message)
        self.findings = tuple(findings)


__all__ = [
    "ClusterAccessError",
    "ConflictError",
    "ConnectionConfigError",
    "InvalidSpecError",
    "NotFoundError",
    "PermissionDeniedError",
    "PreflightFailedError",
    "ReconcileError",
]
