"""Kubernetes RBAC rule matching, reimplemented exactly, and the SelfSubjectRulesReview it runs on.

The matchers mirror k8s.io/kubernetes ``pkg/apis/rbac/v1/evaluation_helpers.go`` (``VerbMatches``,
``APIGroupMatches``, ``ResourceMatches``, ``ResourceNameMatches``, ``NonResourceURLMatches``) and
``plugin/pkg/auth/authorizer/rbac/rbac.go`` (``RuleAllows``) line for line, because a preflight that is more
generous or stricter than the API server is worse than none. The rules that surprise people:

- ``*`` as a resource matches everything, subresources included; ``*/scale`` matches the ``scale`` subresource
  of any resource; ``pods`` does not match ``pods/log``; ``pods/*`` is no wildcard (it matches only a request for
  the literal subresource ``*``).
- An empty ``resourceNames`` matches every name; a non-empty one matches only a request carrying exactly one of
  those names. ``list``, ``watch`` (without a name selector) and ``create`` requests carry no name, so a named
  rule never grants them.
- The core group is ``""``; only ``*`` in ``apiGroups`` matches every group.
- A non-resource URL rule is ``*``, an exact path, or a prefix ending in ``*`` (``/apis/*`` matches ``/apis/``
  and below, not ``/apis``).

Tested against the API server itself by ``tests/integration/preflight/test_rbac_differential.py``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.preflight.permissions import PermissionCheck

_ALL = "*"  # rbacv1.VerbAll, APIGroupAll, ResourceAll, NonResourceAll


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ResourceRule:
    """A ``resourceRules`` entry of a SelfSubjectRulesReview (the resource half of a ``PolicyRule``)."""

    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NonResourceRule:
    """A ``nonResourceRules`` entry of a SelfSubjectRulesReview."""

    verbs: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RulesReview:
    """The ``status`` of one SelfSubjectRulesReview: the rules the identity holds in ``namespace``.

    The rules are those of the ClusterRoleBindings plus the RoleBindings of ``namespace`` (the API server
    refuses an empty namespace with "no namespace on request"). They are additive: a rule that is listed is held,
    even when the list is ``incomplete`` (a webhook or Node authorizer that cannot list rules) or an
    ``evaluation_error`` says some bindings could not be resolved; only an absence is then inconclusive.
    """

    namespace: str
    resource_rules: tuple[ResourceRule, ...] = ()
    non_resource_rules: tuple[NonResourceRule, ...] = ()
    incomplete: bool = False
    evaluation_error: str = ""

    @property
    def complete(self) -> bool:
        """Return whether an absent rule proves a denial (no incompleteness, no evaluation error)."""
        return not self.incomplete and not self.evaluation_error


def _strings(value: Any) -> tuple[str, ...]:
    """Return the strings of a JSON list; anything else (``None``, a missing key) is the empty tuple."""
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def parse_rules_review(status: Mapping[str, Any], namespace: str) -> RulesReview:
    """Return the :class:`RulesReview` for the JSON ``status`` of a SelfSubjectRulesReview.

    Field names as in k8s.io/api/authorization/v1 ``SubjectRulesReviewStatus``. Missing lists (Go omits empty
    ``resourceNames``) read as empty; entries of the wrong type are ignored rather than guessed at, which can
    only make the evaluation more cautious.

    :param status: the response's ``status`` object.
    :param namespace: the namespace the review was made for.
    :return: the parsed review.
    """
    resource_rules = tuple(
        ResourceRule(
            verbs=_strings(rule.get("verbs")),
            api_groups=_strings(rule.get("apiGroups")),
            resources=_strings(rule.get("resources")),
            resource_names=_strings(rule.get("resourceNames")),
        )
        for rule in status.get("resourceRules") or ()
        if isinstance(rule, Mapping)
    )
    non_resource_rules = tuple(
        NonResourceRule(verbs=_strings(rule.get("verbs")), urls=_strings(rule.get("nonResourceURLs")))
        for rule in status.get("nonResourceRules") or ()
        if isinstance(rule, Mapping)
    )
    error = status.get("evaluationError")
    return RulesReview(
        namespace=namespace,
        resource_rules=resource_rules,
        non_resource_rules=non_resource_rules,
        incomplete=status.get("incomplete") is True,
        evaluation_error=error if isinstance(error, str) else "",
    )


def verb_matches(verbs: tuple[str, ...], requested: str) -> bool:
    """``VerbMatches``: ``*`` or the exact verb."""
    return any(verb in (_ALL, requested) for verb in verbs)


def api_group_matches(groups: tuple[str, ...], requested: str) -> bool:
    """``APIGroupMatches``: ``*`` or the exact group (the core group is ``""``)."""
    return any(group in (_ALL, requested) for group in groups)


def resource_matches(resources: tuple[str, ...], combined: str, subresource: str) -> bool:
    """``ResourceMatches``: ``*``, the exact ``resource[/subresource]``, or ``*/<subresource>``.

    :param resources: the rule's resources.
    :param combined: the request's ``resource`` or ``resource/subresource``.
    :param subresource: the request's subresource, ``""`` if none.
    """
    for resource in resources:
        if resource in (_ALL, combined):
            return True
        # Go: len(rule) == len(sub)+2 && HasPrefix(rule, "*/") && HasSuffix(rule, sub), i.e. rule == "*/"+sub.
        if subresource and resource == f"*/{subresource}":
            return True
    return False


def resource_name_matches(names: tuple[str, ...], requested: str) -> bool:
    """``ResourceNameMatches``: an empty list matches every name, otherwise only an exact name."""
    return not names or requested in names


def non_resource_url_matches(urls: tuple[str, ...], requested: str) -> bool:
    """``NonResourceURLMatches``: ``*``, the exact path, or a prefix when the rule ends in ``*``."""
    for url in urls:
        if url in (_ALL, requested):
            return True
        # Go trims every trailing '*' (strings.TrimRight), so "/apis**" is the prefix "/apis" too.
        if url.endswith("*") and requested.startswith(url.rstrip("*")):
            return True
    return False


def resource_rule_allows(rule: ResourceRule, check: PermissionCheck) -> bool:
    """``RuleAllows`` for a resource request: verb, group, resource and name must all match."""
    return (
        verb_matches(rule.verbs, check.verb)
        and api_group_matches(rule.api_groups, check.group)
        and resource_matches(rule.resources, check.resource_path, check.subresource)
        and resource_name_matches(rule.resource_names, check.name)
    )


def non_resource_rule_allows(rule: NonResourceRule, check: PermissionCheck) -> bool:
    """``RuleAllows`` for a non-resource request: verb and URL."""
    return verb_matches(rule.verbs, check.verb) and non_resource_url_matches(rule.urls, check.url)


def rules_grant(review: RulesReview, check: PermissionCheck) -> bool:
    """Return whether any listed rule allows ``check`` (``RulesAllow``): a proof, since rules are additive."""
    if check.is_resource:
        return any(resource_rule_allows(rule, check) for rule in review.resource_rules)
    return any(non_resource_rule_allows(rule, check) for rule in review.non_resource_rules)
