"""The API requests the preflight's RBAC and admission checks ask the runners to perform, and what comes back.

Values only, like :mod:`~airflow_k8s_reconcile.domain.connection.api.requests`: the sync and async runners in
``hooks`` send them and feed back plain observations (the review ``status`` as the API server's JSON, never a
client model), so every decision stays here and both runners stay the same shape. The request bodies themselves
are built by :mod:`~airflow_k8s_reconcile.domain.preflight.rbac_evaluation` (``rules_review_request``,
``access_review_request``); the runners send them verbatim.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.preflight.permissions import PermissionCheck
    from airflow_k8s_reconcile.domain.preflight.rbac_evaluation import Allowed
    from airflow_k8s_reconcile.findings import Finding


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReadRulesReview:
    """Create ONE SelfSubjectRulesReview in ``namespace``; observed as its ``status`` JSON (a ``dict``).

    One per namespace is the whole cost of the common case: every rule the identity holds there (ClusterRole
    bindings included) comes back at once and is evaluated locally (connection-and-preflight facts §5.4).
    """

    namespace: str

    @property
    def action(self) -> str:
        """Return what the request does, for failure messages."""
        return f"create a SelfSubjectRulesReview in {self.namespace}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReviewAccessBatch:
    """Create one SelfSubjectAccessReview per check, concurrently; observed as :class:`AccessAnswers`.

    Derived from the rules reviews: only what they could not prove, plus local denials to confirm
    (:func:`~airflow_k8s_reconcile.domain.preflight.rbac_evaluation.access_reviews_needed`). Often empty: then
    nothing is sent.

    :param checks: the checks to ask about, in order.
    :param local: every check's local verdict, for the judge (the runner ignores it).
    """

    checks: tuple[PermissionCheck, ...]
    local: tuple[tuple[PermissionCheck, Allowed], ...] = ()

    @property
    def action(self) -> str:
        """Return what the request does, for failure messages."""
        return f"create {len(self.checks)} SelfSubjectAccessReviews"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AccessAnswers:
    """What the access reviews of a :class:`ReviewAccessBatch` answered.

    :param request: the batch that was sent.
    :param answers: per check, the review's ``status`` JSON, or the finding of a failed request.
    """

    request: ReviewAccessBatch
    answers: tuple[tuple[PermissionCheck, Mapping[str, Any] | Finding], ...] = ()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DryRunCreate:
    """Create ``manifest`` in ``namespace`` with ``dryRun=All``; observed as :class:`DryRunAnswer`.

    The server runs authorization, every admission plugin and webhook (PodSecurity, ResourceQuota, LimitRange,
    policy engines) and validation, then stores nothing (KEP-576, ``dryRun=All``), so a write the task will do is
    tried for real without effect.
    """

    namespace: str
    manifest: Mapping[str, Any]

    @property
    def action(self) -> str:
        """Return what the request does, for failure messages."""
        kind = self.manifest.get("kind", "object")
        return f"dry-run create a {kind} in {self.namespace}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DryRunAnswer:
    """The API server's answer to a dry-run create.

    :param accepted: the write would have been stored.
    :param status: the HTTP status of a refusal (0 when accepted).
    :param reason: the ``Status`` reason of a refusal (``Forbidden``, ``Invalid``...).
    :param message: the ``Status`` message of a refusal (names the admission plugin or webhook).
    """

    accepted: bool
    status: int = 0
    reason: str = ""
    message: str = ""


__all__ = ["AccessAnswers", "DryRunAnswer", "DryRunCreate", "ReadRulesReview", "ReviewAccessBatch"]
