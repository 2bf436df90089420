"""Differential test: the local RBAC verdict agrees with the API server's SelfSubjectAccessReview.

Random Roles, ClusterRoles (one aggregated through ``aggregationRule``) and bindings (ServiceAccount, User and
Group subjects; RoleBindings to Roles and to ClusterRoles; ClusterRoleBindings) are bound to one identity. Then
for thousands of random requests the verdict computed locally from ONE SelfSubjectRulesReview per namespace
(made as the identity) is compared with the SelfSubjectAccessReview the API server answers (as the identity).

Namespaced requests go through ``evaluate`` (the production path). Cluster-scope requests are compared through
the matchers on the rules review of a namespace where the identity has no RoleBinding (so it holds cluster rules
only); ``evaluate`` itself must then say "denied" or "unknown", never a wrong "allowed".

``RBAC_DIFF_SEED`` picks the seed (printed either way), ``RBAC_DIFF_REQUESTS`` the request count.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import random
import time
from typing import TYPE_CHECKING

import pytest
import rbac_random as rr  # next to this file (pytest's rootdir-less prepend import mode)
from kubernetes import client as k8s

from airflow_k8s_reconcile.domain.preflight.rbac_evaluation import (
    access_review_request,
    evaluate,
    judge_access_review,
    rules_review_request,
)
from airflow_k8s_reconcile.domain.preflight.rbac_rules import RulesReview, parse_rules_review, rules_grant
from airflow_k8s_reconcile.testing.identity import create_namespace, delete_namespace

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.preflight.permissions import PermissionCheck

SEED = int(os.environ.get("RBAC_DIFF_SEED", "20260607"))
REQUESTS = int(os.environ.get("RBAC_DIFF_REQUESTS", "2400"))
WORKERS = 8
RBAC_GROUP = "rbac.authorization.k8s.io"


def _identity_client(cluster, token: str):
    config = k8s.Configuration()
    config.host = cluster.server
    config.ssl_ca_cert = str(cluster.ca_cert_path)
    config.api_key = {"authorization": f"Bearer {token}"}
    config.connection_pool_maxsize = WORKERS
    return k8s.ApiClient(config)


def _meta(name: str, labels: dict[str, str], namespace: str | None = None) -> dict:
    meta: dict = {"name": name, "labels": dict(labels)}
    if namespace:
        meta["namespace"] = namespace
    return meta


class Grants:
    """Creates the random RBAC objects through the admin client and remembers the cluster-scoped ones."""

    def __init__(self, admin, labels: dict[str, str], run: str) -> None:
        self.rbac = k8s.RbacAuthorizationV1Api(admin)
        self.labels = labels
        self.run = run
        self.cluster_objects: list[tuple[str, str]] = []
        self.count = 0

    def name(self, kind: str) -> str:
        self.count += 1
        return f"diff-{self.run}-{kind}-{self.count}"

    def role(self, namespace: str, rules: list) -> str:
        name = self.name("role")
        self.rbac.create_namespaced_role(
            namespace, {"metadata": _meta(name, self.labels, namespace), "rules": rules}
        )
        return name

    def cluster_role(
        self, rules: list | None, extra_labels: dict | None = None, aggregate: dict | None = None
    ):
        name = self.name("clusterrole")
        body: dict = {"metadata": _meta(name, {**self.labels, **(extra_labels or {})})}
        if aggregate:
            body["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": aggregate}]}
        else:
            body["rules"] = rules
        self.rbac.create_cluster_role(body)
        self.cluster_objects.append(("clusterrole", name))
        return name

    def role_binding(self, namespace: str, kind: str, role: str, subject: dict) -> None:
        self.rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": _meta(self.name("rb"), self.labels, namespace),
                "roleRef": {"apiGroup": RBAC_GROUP, "kind": kind, "name": role},
                "subjects": [subject],
            },
        )

    def cluster_role_binding(self, role: str, subject: dict) -> None:
        name = self.name("crb")
        self.rbac.create_cluster_role_binding(
            {
                "metadata": _meta(name, self.labels),
                "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
                "subjects": [subject],
            }
        )
        self.cluster_objects.append(("clusterrolebinding", name))

    def cleanup(self) -> None:
        for kind, name in reversed(self.cluster_objects):
            try:
                if kind == "clusterrolebinding":
                    self.rbac.delete_cluster_role_binding(name)
                else:
                    self.rbac.delete_cluster_role(name)
            except k8s.exceptions.ApiException as err:
                if err.status != 404:
                    raise


def _subjects(identity) -> list[dict]:
    """The same identity named three ways: ServiceAccount, User and its namespace's service-account Group."""
    return [
        {"kind": "ServiceAccount", "name": identity.name, "namespace": identity.namespace},
        {"kind": "User", "apiGroup": RBAC_GROUP, "name": identity.username},
        {"kind": "Group", "apiGroup": RBAC_GROUP, "name": f"system:serviceaccounts:{identity.namespace}"},
    ]


def _grant_randomly(
    rng: random.Random, grants: Grants, identity, namespaces: list[str]
) -> list[tuple[str, dict]]:
    """Create the random grants; return every granted rule with the namespace it applies to ("" = everywhere)."""
    subjects = _subjects(identity)
    granted: list[tuple[str, dict]] = []
    for namespace in namespaces:
        shaped = [rr.resource_rule(rng, shape) for shape in rr.SHAPES]  # every rule shape, in every namespace
        grants.role_binding(namespace, "Role", grants.role(namespace, shaped), rng.choice(subjects))
        granted += [(namespace, rule) for rule in shaped]
        for _ in range(3):  # Roles bound by RoleBindings
            rules = [rr.resource_rule(rng) for _ in range(rng.randint(1, 3))]
            grants.role_binding(namespace, "Role", grants.role(namespace, rules), rng.choice(subjects))
            granted += [(namespace, rule) for rule in rules]
        rules = [rr.resource_rule(rng) for _ in range(2)]  # a ClusterRole bound in one namespace only
        grants.role_binding(namespace, "ClusterRole", grants.cluster_role(rules), rng.choice(subjects))
        granted += [(namespace, rule) for rule in rules]
    shaped = [rr.resource_rule(rng, shape) for shape in ("*/sub", "res/*", "named")]
    shaped.append(rr.non_resource_rule(rng, every_url=True))
    grants.cluster_role_binding(grants.cluster_role(shaped), rng.choice(subjects))
    granted += [("", rule) for rule in shaped]
    for _ in range(2):  # cluster-wide grants, non-resource URLs included
        rules = [rr.resource_rule(rng), rr.non_resource_rule(rng)]
        grants.cluster_role_binding(grants.cluster_role(rules), rng.choice(subjects))
        granted += [("", rule) for rule in rules]
    selector = {f"diff-{grants.run}-aggregate": "true"}  # aggregated: rules copied in by the controller
    aggregated = grants.cluster_role(None, aggregate=selector)
    for _ in range(2):
        rules = [rr.resource_rule(rng)]
        grants.cluster_role(rules, extra_labels=selector)
        granted += [("", rule) for rule in rules]
    grants.cluster_role_binding(aggregated, rng.choice(subjects))
    return granted


def _rules_reviews(api, namespaces: list[str]) -> dict[str, RulesReview]:
    reviews = {}
    for namespace in namespaces:
        response = api.create_self_subject_rules_review(
            rules_review_request(namespace), _preload_content=False
        )
        reviews[namespace] = parse_rules_review(json.loads(response.data)["status"], namespace)
    return reviews


def _same(one: RulesReview, other: RulesReview) -> bool:
    return sorted(map(repr, one.resource_rules)) == sorted(map(repr, other.resource_rules)) and sorted(
        map(repr, one.non_resource_rules)
    ) == sorted(map(repr, other.non_resource_rules))


def _settled_reviews(api, namespaces: list[str], minimum: dict[str, int]) -> dict[str, RulesReview]:
    """Wait until the authorizer's caches hold every binding: rule counts reached and two reviews alike."""
    deadline = time.monotonic() + 30
    previous = None
    while time.monotonic() < deadline:
        reviews = _rules_reviews(api, namespaces)
        enough = all(len(reviews[ns].resource_rules) >= minimum[ns] for ns in namespaces)
        # The server lists bindings in no fixed order: compare the rule sets.
        if enough and previous is not None and all(_same(reviews[ns], previous[ns]) for ns in namespaces):
            return reviews
        previous = reviews
        time.sleep(0.5)
    counts = {ns: (len(previous[ns].resource_rules) if previous else 0, minimum[ns]) for ns in namespaces}
    pytest.fail(f"RBAC caches did not settle within 30 s (seed {SEED}); rules held vs expected: {counts}")


def _access_review(api, check: PermissionCheck) -> bool | None:
    response = api.create_self_subject_access_review(access_review_request(check), _preload_content=False)
    return judge_access_review(check, json.loads(response.data)["status"]).allowed


def test_local_rbac_verdicts_agree_with_the_api_server(k8s_cluster, k8s_admin, k8s_namespace, k8s_identity):
    print(f"RBAC differential test: seed {SEED} (set RBAC_DIFF_SEED to replay), {REQUESTS} requests")
    started = time.monotonic()
    rng = random.Random(SEED)  # noqa: S311 - reproducible test data, not cryptography
    identity = k8s_identity(rules=[])
    extra = [create_namespace(k8s_admin, k8s_cluster, "diff") for _ in range(2)]
    granted_namespaces = [k8s_namespace, extra[0]]
    bare = extra[1]  # no RoleBinding for the identity here: its review holds the cluster rules only
    grants = Grants(k8s_admin, k8s_cluster.labels, k8s_cluster.run_id)
    try:
        granted = _grant_randomly(rng, grants, identity, granted_namespaces)
        api = k8s.AuthorizationV1Api(_identity_client(k8s_cluster, identity.token))
        namespaces = [*granted_namespaces, bare]
        cluster_rules = sum(1 for ns, rule in granted if ns == "" and "resources" in rule)
        minimum = {ns: cluster_rules + sum(1 for g, _ in granted if g == ns) for ns in namespaces}
        reviews = _settled_reviews(api, namespaces, minimum)

        requests: list[PermissionCheck] = []
        for _ in range(REQUESTS):
            namespace = rng.choice([*namespaces, ""])
            if rng.random() < 0.6:
                rule_ns, rule = rng.choice(granted)
                home = namespace if rule_ns == "" or rng.random() < 0.15 else rule_ns
                requests.append(rr.request_near(rng, rule, home))
            else:
                requests.append(rr.random_request(rng, namespace))
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            server = list(pool.map(lambda check: _access_review(api, check), requests))
    finally:
        grants.cleanup()
        for namespace in extra:
            delete_namespace(k8s_admin, k8s_cluster, namespace)

    disagreements, wrong_cluster_allows, unknown = [], [], 0
    for check, answer in zip(requests, server, strict=True):
        if check.namespace:
            local = evaluate(check, reviews)
        else:  # cluster scope: the bare namespace's review holds exactly the cluster rules
            local = rules_grant(reviews[bare], check)
            via_evaluate = evaluate(check, reviews)
            unknown += via_evaluate is None
            if via_evaluate is not None and via_evaluate != answer:
                wrong_cluster_allows.append((check, via_evaluate, answer))
        if local != answer:
            disagreements.append((check, local, answer))

    allowed = sum(answer is True for answer in server)
    elapsed = time.monotonic() - started
    print(
        f"{len(requests)} requests: {allowed} allowed, {len(requests) - allowed} denied by the API server; "
        f"{unknown} cluster-scope requests left to access reviews by evaluate(); {elapsed:.1f} s"
    )
    details = "\n".join(
        f"  {c.describe()} {c!r}: local={mine} server={theirs}" for c, mine, theirs in disagreements[:10]
    )
    assert not disagreements, f"seed {SEED}: {len(disagreements)} disagreements, first ones:\n{details}"
    assert not wrong_cluster_allows, (
        f"seed {SEED}: evaluate() wrong at cluster scope: {wrong_cluster_allows[:5]}"
    )
    assert len(requests) >= 2000
    assert None not in server, "every access review must give a definite answer on an RBAC-only server"
    assert 0.25 < allowed / len(requests) < 0.75, (
        f"seed {SEED}: too one-sided to test much ({allowed} allowed)"
    )
