"""Errors raised by this provider, and the finding each one carries.

Every failure a user can meet is one of these classes, never a raw ``ConfigException``, YAML error or
``ApiException``. Errors about configuration carry a :class:`Finding`: a stable ``code`` that docs and tests key on,
a one-sentence ``cause`` naming the concrete value (the missing path, the unknown context), the ``fix``, and
evidence that has already been redacted. Errors from the API server map status codes to classes (401/403
permission, 404 not found, 409 conflict, 422 invalid spec, 429/5xx transient), keeping ``status``, ``reason`` and
``message``; the client library's original exception is chained as ``__cause__``.

This module is the lowest layer with :mod:`~airflow_k8s_reconcile.findings`: standard library only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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


class ClusterAccessError(ReconcileError):
    """The API server could not be reached or answered with an error.

    :param message: what happened, already redacted.
    :param status: HTTP status, or ``None`` when no response arrived (DNS, TCP, TLS, timeout).
    :param reason: the Kubernetes ``Status.reason`` (``Forbidden``, ``AlreadyExists``, ``Conflict``, ...).
    :param audit_id: the ``Audit-Id`` response header, for finding the request in the audit log.
    :param finding: the diagnosis, when one was made.
    """

    transient: bool = True

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


class PermissionDeniedError(ClusterAccessError):
    """401 (credentials rejected) or 403 (identity lacks a permission). Not transient."""

    transient = False


class NotFoundError(ClusterAccessError):
    """404: the object or API does not exist."""

    transient = False


class ConflictError(ClusterAccessError):
    """409: ``reason`` tells ``AlreadyExists`` (create) from ``Conflict`` (stale resourceVersion, SSA conflict)."""

    transient = False


class InvalidSpecError(ClusterAccessError):
    """422 or a spec rejected before it was sent. Not transient."""

    transient = False


class PreflightFailedError(ReconcileError):
    """A preflight check failed; ``findings`` holds the failing findings."""

    def __init__(self, message: str, findings: Sequence[Finding]) -> None:
        super().__init__(message)
        self.findings = tuple(findings)
