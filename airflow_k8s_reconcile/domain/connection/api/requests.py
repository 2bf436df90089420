"""The API requests a check may ask a runner to perform, and the plain observations the runners feed back.

A check in a plan (:mod:`~airflow_k8s_reconcile.domain.common.checks`) names one of these requests; the sync runner
(``kubernetes``) and the async runner (``kubernetes_asyncio``) in ``hooks`` each know how to send every one of them
and return the matching observation, or the finding of the failure. Nothing here sends anything: these are values,
so the decisions stay in the core and both runners stay the same shape. A new check kind (preflight's DNS, TCP, TLS,
readiness, dry-run) adds its request here or next to its plan, and a branch to each runner.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReadVersion:
    """``GET /version``; observed as the server's ``gitVersion`` (a ``str``).

    Readable anonymously (``system:public-info-viewer``, KEP-789 kept it so), so it proves the server answers,
    not that the credentials work.
    """

    @property
    def action(self) -> str:
        """Return what the request does, for failure messages."""
        return "read /version"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReviewAccess:
    """Create a SelfSubjectAccessReview; observed as whether it is allowed (a ``bool``).

    Every authenticated user may create one (``system:basic-user``), so its success proves the credentials were
    accepted whatever the answer; an anonymous request gets 403 and a rejected credential 401.
    """

    namespace: str
    verb: str
    resource: str
    group: str = ""

    @property
    def action(self) -> str:
        """Return what the request does, for failure messages."""
        return f"create a SelfSubjectAccessReview ({self.verb} {self.resource} in {self.namespace})"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReviewSelf:
    """Create a SelfSubjectReview (``authentication.k8s.io/v1``); observed as :class:`Identity`.

    Served from Kubernetes 1.28 (KEP-3325); older servers answer 404.
    """

    @property
    def action(self) -> str:
        """Return what the request does, for failure messages."""
        return "create a SelfSubjectReview"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReviewRules:
    """Create a SelfSubjectRulesReview in ``namespace``; observed as :class:`RulesStatus`."""

    namespace: str

    @property
    def action(self) -> str:
        """Return what the request does, for failure messages."""
        return f"list own permissions in {self.namespace}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """Who the API server says the credentials belong to."""

    username: str
    groups: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RuleView:
    """One resource rule from a SelfSubjectRulesReview."""

    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RulesStatus:
    """A SelfSubjectRulesReview's status: the resource rules, and whether the list is incomplete.

    ``incomplete`` is set when an authorizer other than RBAC (a webhook, for instance) cannot enumerate its rules.
    """

    rules: tuple[RuleView, ...] = ()
    incomplete: bool = False
