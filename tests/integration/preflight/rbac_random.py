"""Random RBAC rules and access requests over a small shared vocabulary, for the differential test.

The vocabulary is small on purpose: requests and rules must collide often (about half the requests allowed) and
hit every matching rule: ``*`` verbs, groups and resources, ``*/subresource``, ``resource/*`` (no wildcard
meaning), exact subresources, ``resourceNames`` against named and unnamed requests, core vs named groups,
non-resource URLs with and without a trailing ``*``.
"""

from __future__ import annotations

import random
from typing import Any

from airflow_k8s_reconcile.domain.preflight.permissions import PermissionCheck

VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "use", "escalate"]
GROUPS = ["", "apps", "batch", "example.com", "rbac.authorization.k8s.io"]
RESOURCES = ["pods", "configmaps", "secrets", "deployments", "jobs", "widgets", "nodes", "roles"]
SUBRESOURCES = ["log", "exec", "status", "scale"]
NAMES = ["alpha", "beta", "gamma"]
URLS = ["/metrics", "/custom", "/custom/a", "/custom/a/b", "/logs", "/logsx", "/healthz", "/apis/x", "/other"]
URL_RULES = ["/metrics", "/custom/*", "/logs*", "/healthz", "/other", "/apis/x"]
URL_VERBS = ["get", "post", "put", "delete", "head"]

Rule = dict[str, list[str]]


def _some(rng: random.Random, items: list[str], most: int) -> list[str]:
    return rng.sample(items, rng.randint(1, most))


# Rule shapes every run must contain, so each matching rule is exercised whatever the seed.
SHAPES = ("*", "*/sub", "res/*", "res/sub", "named", "all-groups", "all-verbs")


def _resource_entry(rng: random.Random, shape: str = "") -> str:
    roll = {"*": 0.0, "*/sub": 0.1, "res/*": 0.17, "res/sub": 0.3}.get(shape, rng.random())
    if roll < 0.05:
        return "*"
    if roll < 0.15:
        return f"*/{rng.choice(SUBRESOURCES)}"
    if roll < 0.20:
        return f"{rng.choice(RESOURCES)}/*"
    if roll < 0.40:
        return f"{rng.choice(RESOURCES)}/{rng.choice(SUBRESOURCES)}"
    return rng.choice(RESOURCES)


def resource_rule(rng: random.Random, shape: str = "") -> Rule:
    """Return a random resource ``PolicyRule`` (wildcards included, ``resourceNames`` sometimes).

    :param shape: one of :data:`SHAPES` to force that feature, else all features are random.
    """
    entries = [_resource_entry(rng, shape)] + [_resource_entry(rng) for _ in range(rng.randint(0, 2))]
    rule: Rule = {
        "apiGroups": ["*"] if shape == "all-groups" or rng.random() < 0.1 else _some(rng, GROUPS, 2),
        "resources": list(dict.fromkeys(entries)),
        "verbs": ["*"] if shape == "all-verbs" or rng.random() < 0.1 else _some(rng, VERBS, 3),
    }
    if shape == "named" or rng.random() < 0.3:
        rule["resourceNames"] = _some(rng, NAMES, 2)
    return rule


def non_resource_rule(rng: random.Random, *, every_url: bool = False) -> Rule:
    """Return a random non-resource ``PolicyRule`` (ClusterRoles only), for all of :data:`URL_RULES` if asked."""
    return {
        "nonResourceURLs": list(URL_RULES) if every_url else _some(rng, URL_RULES, 2),
        "verbs": ["*"] if rng.random() < 0.1 else _some(rng, URL_VERBS, 2),
    }


def _concrete(rng: random.Random, value: str, pool: list[str]) -> str:
    return rng.choice(pool) if value == "*" else value


def request_near(rng: random.Random, rule: Rule, namespace: str) -> PermissionCheck:
    """Return a request built from ``rule``'s own values (wildcards made concrete), then perturbed a little."""
    if "nonResourceURLs" in rule:
        url = rng.choice(rule["nonResourceURLs"])
        url = url.rstrip("/*") if rng.random() < 0.2 else url.replace("*", rng.choice(["", "a", "/a", "x/y"]))
        return PermissionCheck(verb=_concrete(rng, rng.choice(rule["verbs"]), URL_VERBS), url=url or "/")
    entry = rng.choice(rule["resources"])
    resource, _, subresource = entry.partition("/")
    resource = _concrete(rng, resource, RESOURCES)
    if subresource == "*" and rng.random() < 0.7:
        subresource = rng.choice(SUBRESOURCES)
    names = rule.get("resourceNames") or [""]
    check = PermissionCheck(
        verb=_concrete(rng, rng.choice(rule["verbs"]), VERBS),
        group=_concrete(rng, rng.choice(rule["apiGroups"]), GROUPS),
        resource=resource,
        subresource=subresource,
        namespace=namespace,
        name=rng.choice([*names, ""]) if rng.random() < 0.8 else rng.choice(NAMES),
    )
    roll = rng.random()  # one perturbation in three: a near miss on one field
    if roll < 0.1:
        return _replace(check, verb=rng.choice(VERBS))
    if roll < 0.2:
        return _replace(check, group=rng.choice(GROUPS))
    if roll < 0.3:
        return _replace(check, subresource=rng.choice(["", *SUBRESOURCES]))
    return check


def _replace(check: PermissionCheck, **changes: Any) -> PermissionCheck:
    fields = {
        "verb": check.verb,
        "group": check.group,
        "resource": check.resource,
        "subresource": check.subresource,
        "namespace": check.namespace,
        "name": check.name,
        "url": check.url,
    }
    return PermissionCheck(**{**fields, **changes})


def random_request(rng: random.Random, namespace: str) -> PermissionCheck:
    """Return a request drawn from the whole vocabulary (mostly denied), sometimes with wildcard values."""
    if rng.random() < 0.1:
        return PermissionCheck(verb=rng.choice(URL_VERBS), url=rng.choice(URLS))
    return PermissionCheck(
        verb=rng.choice([*VERBS, "*"]) if rng.random() < 0.05 else rng.choice(VERBS),
        group=rng.choice(GROUPS),
        resource="*" if rng.random() < 0.03 else rng.choice(RESOURCES),
        subresource=rng.choice(["", "", *SUBRESOURCES]),
        namespace=namespace,
        name=rng.choice(["", "", *NAMES]),
    )
