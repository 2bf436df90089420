"""Turn Kubernetes review models (sync and async alike: same attribute names) into the core's observations.

Shared by :mod:`.runner` and :mod:`.runner_async` without importing either client.
"""

from __future__ import annotations

import json
from typing import Any

from airflow_k8s_reconcile.domain.connection.api.requests import Identity, RulesStatus, RuleView
from airflow_k8s_reconcile.domain.preflight.requests import DryRunAnswer

# Answers to a dry-run write that are the server's verdict on the object (authorization, admission, validation),
# not a failure to ask: 400 and 422 validation, 403 RBAC or an admission plugin/webhook.
_DRY_RUN_VERDICTS = frozenset({400, 403, 422})
# Access reviews in flight at once: below urllib3's pool size (Configuration.connection_pool_maxsize, cpu_count * 5)
# and gentle on API Priority and Fairness.
MAX_CONCURRENT_REVIEWS = 8


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


def dry_run_refusal(err: Any) -> DryRunAnswer | None:
    """Return the refusal of a dry-run write from an ``ApiException`` (sync or async); ``None`` if it is no verdict."""
    status = int(getattr(err, "status", 0) or 0)
    if status not in _DRY_RUN_VERDICTS:
        return None
    body = getattr(err, "body", None)
    try:
        parsed = json.loads(body) if body else {}
    except (TypeError, ValueError):
        parsed = {}
    parsed = parsed if isinstance(parsed, dict) else {}
    return DryRunAnswer(
        accepted=False,
        status=status,
        reason=str(parsed.get("reason") or getattr(err, "reason", "") or ""),
        message=str(parsed.get("message") or ""),
    )
