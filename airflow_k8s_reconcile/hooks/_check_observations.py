"""Turn Kubernetes review models (sync and async alike: same attribute names) into the core's observations.

Shared by :mod:`._check_runner` and :mod:`._check_runner_async` without importing either client.
"""

from __future__ import annotations

from typing import Any

from airflow_k8s_reconcile.domain.connection.api_requests import Identity, RulesStatus, RuleView


def action_of(request: object) -> str:
    """Return what a request does, for failure messages (``read /version``)."""
    return str(getattr(request, "action", type(request).__name__))


def identity_of(user_info: Any) -> Identity:
    """Return the identity in a SelfSubjectReview's ``status.userInfo`` (sync and async models alike)."""
    return Identity(username=str(user_info.username or ""), groups=tuple(user_info.groups or ()))


def rules_status_of(status: Any) -> RulesStatus:
    """Return the resource rules of a SelfSubjectRulesReview's ``status`` (sync and async models alike)."""
    rules = tuple(
        RuleView(
            api_groups=tuple(rule.api_groups or ()),
            resources=tuple(rule.resources or ()),
            verbs=tuple(rule.verbs or ()),
        )
        for rule in status.resource_rules or ()
    )
    return RulesStatus(rules=rules, incomplete=bool(status.incomplete))
