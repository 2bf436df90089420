"""The connection test (``test_connection``, ``doctor``): its plan of checks, and how each observation is judged.

Four checks, in dependency order: the API server answers ``/version``; an authenticated request (a
SelfSubjectAccessReview) succeeds; the identity (SelfSubjectReview where served, Kubernetes 1.28+, else the token's
claims or the client certificate's subject); the rules the identity holds in each namespace (one
SelfSubjectRulesReview per namespace). The key rule: reaching ``/version`` proves nothing about credentials (it is
readable anonymously, KEP-789), so a test only passes once an authenticated call succeeded, and an identity with no
permissions at all is a warning, not a plain success.

:func:`connection_test_plan` decides; the runners in ``hooks`` perform the requests it names
(:mod:`~airflow_k8s_reconcile.domain.connection.api.requests`) and feed back observations; the judges here turn
them into findings. Pure: no I/O, no client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from airflow_k8s_reconcile.domain.common.catalogue import (
    API_NOT_FOUND,
    API_REACHABLE,
    AUTH_ACCEPTED,
    AUTH_IDENTITY,
    CONN_CONNECTION_NOT_FOUND,
    CONN_RESOLVED,
    INTERNAL_ERROR,
    RBAC_FORBIDDEN,
    RBAC_NO_PERMISSIONS,
    RBAC_PERMISSIONS,
    RBAC_RULES_INCOMPLETE,
    finding,
)
from airflow_k8s_reconcile.domain.common.checks import Check, Judge, Observation
from airflow_k8s_reconcile.domain.connection.api.errors import subject_flag
from airflow_k8s_reconcile.domain.connection.api.requests import (
    Identity,
    ReadVersion,
    ReviewAccess,
    ReviewRules,
    ReviewSelf,
    RulesStatus,
    RuleView,
)
from airflow_k8s_reconcile.domain.connection.network.hops import Health, ReadHealth, judge_readiness
from airflow_k8s_reconcile.findings import Finding, Status

# Granted to every authenticated user by system:basic-user; they say nothing about what the identity may do.
_SELF_REVIEWS = frozenset({"selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews"})
_NO_SELF_REVIEW = "this server does not serve SelfSubjectReview (Kubernetes < 1.28)"
# Answers to a SelfSubjectReview that mean "not available here", not "these credentials are bad": 404 before 1.28,
# 403 where an admin removed it from system:basic-user. The identity then comes from the credential itself.
_SELF_REVIEW_UNAVAILABLE = frozenset({API_NOT_FOUND, RBAC_FORBIDDEN})

REACHABILITY, CREDENTIALS, IDENTITY = "reachability", "credentials", "identity"


def _finding(
    code: str, cause: str, fix: str = "", *, status: Status | None = None, **evidence: str
) -> Finding:
    return finding(code, cause, fix, status=status, evidence={k: v for k, v in evidence.items() if v})


def permissions_check_id(namespace: str) -> str:
    """Return the id of the permissions check for ``namespace``."""
    return f"permissions:{namespace}"


def connection_test_plan(
    *,
    server: str,
    namespace: str,
    namespaces: Sequence[str],
    credential_summary: Mapping[str, object],
    network: Sequence[Check] = (),
    readiness: bool = False,
) -> tuple[Check, ...]:
    """Return the connection test's checks in report order.

    :param server: the API server URL, for the reachability finding.
    :param namespace: the connection's namespace, where the authenticated request is made.
    :param namespaces: where to list the identity's permissions (one check each, duplicates dropped).
    :param credential_summary: the secret-free credential description, for the identity on servers without
        SelfSubjectReview.
    :param network: checks to run first (proxy, DNS, TCP, TLS: :mod:`.network_plan`); reachability needs them.
    :param readiness: read ``/readyz`` (and the ``Date`` header) besides ``/version``.
    """

    def judge_reachability(observed: Observation, _: Mapping[str, Finding]) -> Finding:
        if isinstance(observed, Health):
            return judge_readiness(observed, reachable(server, observed.version))
        return observed if isinstance(observed, Finding) else reachable(server, str(observed))

    def judge_credentials(observed: Observation, _: Mapping[str, Finding]) -> Finding:
        # Allowed or not, a SelfSubjectAccessReview that got an answer proves the server authenticated us.
        return observed if isinstance(observed, Finding) else authenticated(namespace)

    def judge_identity(observed: Observation, _: Mapping[str, Finding]) -> Finding:
        if isinstance(observed, Identity):
            return identified(observed, "SelfSubjectReview")
        if isinstance(observed, Finding) and observed.code not in _SELF_REVIEW_UNAVAILABLE:
            return observed
        return identified(*local_identity(credential_summary))

    checks: list[Check] = [
        *network,
        Check(
            id=REACHABILITY,
            title="API server",
            request=ReadHealth() if readiness else ReadVersion(),
            judge=judge_reachability,
            needs=tuple(check.id for check in network),
        ),
        Check(
            id=CREDENTIALS,
            title="Credentials",
            request=ReviewAccess(namespace=namespace, verb="get", resource="configmaps"),
            judge=judge_credentials,
            needs=(REACHABILITY,),
        ),
        Check(
            id=IDENTITY, title="Identity", request=ReviewSelf(), judge=judge_identity, needs=(CREDENTIALS,)
        ),
    ]
    checks += [
        Check(
            id=permissions_check_id(target),
            title=f"Permissions in namespace {target!r}",
            request=ReviewRules(namespace=target),
            judge=_rules_judge(target),
            needs=(CREDENTIALS, IDENTITY),
        )
        for target in dict.fromkeys(namespaces)
    ]
    return tuple(checks)


def _rules_judge(namespace: str) -> Judge:
    def judge(observed: Observation, earlier: Mapping[str, Finding]) -> Finding:
        if isinstance(observed, Finding):
            return observed
        if not isinstance(observed, RulesStatus):
            raise TypeError(f"a runner fed back {type(observed).__name__} for a SelfSubjectRulesReview")
        username = earlier[IDENTITY].evidence.get("user", "") if IDENTITY in earlier else ""
        return assess_rules(namespace, username, observed.rules, incomplete=observed.incomplete)

    return judge


def connection_not_found(conn_id: str) -> Finding:
    """Return the finding for a connection id Airflow does not know."""
    env = "AIRFLOW_CONN_" + conn_id.upper().replace("-", "_")
    return _finding(
        CONN_CONNECTION_NOT_FOUND,
        f"Airflow has no connection with id {conn_id!r}.",
        f"Create it (Admin > Connections, type 'Kubernetes (reconcile)'), or set the environment variable {env} "
        "to its JSON form, or pass the id of an existing connection.",
        conn_id=conn_id,
    )


def resolved(summary: str) -> Finding:
    """Return the passing finding for a connection that resolved to client settings."""
    return _finding(CONN_RESOLVED, summary)


def reachable(server: str, version: str) -> Finding:
    """Return the passing finding for a server that answered ``/version`` over verified TLS."""
    return _finding(
        API_REACHABLE,
        f"{server} answered /version over TLS: Kubernetes {version}.",
        server=server,
        version=version,
    )


def authenticated(namespace: str) -> Finding:
    """Return the passing finding for credentials the server accepted (an authenticated request succeeded)."""
    return _finding(
        AUTH_ACCEPTED,
        f"An authenticated request (a SelfSubjectAccessReview in namespace {namespace!r}) succeeded.",
        namespace=namespace,
    )


def identified(identity: Identity, how: str) -> Finding:
    """Return the finding naming who the credentials belong to, and how that is known."""
    if not identity.username:
        return _finding(
            AUTH_IDENTITY,
            f"The identity could not be determined: {how}.",
            status=Status.INFO,
        )
    groups = f" (groups: {', '.join(identity.groups)})" if identity.groups else ""
    return _finding(
        AUTH_IDENTITY,
        f"The credentials belong to {identity.username}{groups}; from {how}.",
        user=identity.username,
        groups=",".join(identity.groups),
    )


def local_identity(credential_summary: Mapping[str, object]) -> tuple[Identity, str]:
    """Return who the credential says it is, for servers without SelfSubjectReview.

    That is the token's ``sub`` claim, or the client certificate's common name (Kubernetes maps CN to the username
    and O to the groups).
    """
    claims = credential_summary.get("claims")
    if isinstance(claims, Mapping) and isinstance(claims.get("sub"), str):
        return Identity(username=claims["sub"]), f"the token's claims ({_NO_SELF_REVIEW})"
    common_name = credential_summary.get("common_name") or credential_summary.get("subject")
    if common_name:
        organizations = credential_summary.get("organizations")
        groups = tuple(str(o) for o in organizations) if isinstance(organizations, list | tuple) else ()
        return (
            Identity(username=str(common_name), groups=groups),
            f"the client certificate's subject ({_NO_SELF_REVIEW})",
        )
    return Identity(username=""), f"{_NO_SELF_REVIEW} and the token is not a JWT"


def _grants(rules: Iterable[RuleView]) -> list[str]:
    """Render each rule readably; ``*`` becomes "all resources", "all API groups", "all verbs"."""
    lines = []
    for rule in rules:
        resources = [r for r in rule.resources if r not in _SELF_REVIEWS]
        if resources:
            every = ("*" in resources, "*" in rule.api_groups, "*" in rule.verbs)
            what = "all resources" if every[0] else "/".join(sorted(resources))
            groups = ",".join(g or "core" for g in rule.api_groups) or "core"
            where = "in all API groups" if every[1] else f"[{groups}]"
            verbs = "all verbs" if every[2] else ", ".join(sorted(rule.verbs))
            lines.append(f"{what} {where}: {verbs}" + (" (cluster-admin-like)" if all(every) else ""))
    return sorted(set(lines))


def assess_rules(namespace: str, username: str, rules: Sequence[RuleView], *, incomplete: bool) -> Finding:
    """Say whether the identity holds any permission in ``namespace`` beyond the self-review defaults."""
    grants = _grants(rules)
    who = username or "this identity"
    if grants:
        shown = "; ".join(grants[:8]) + (f"; and {len(grants) - 8} more" if len(grants) > 8 else "")
        return _finding(
            RBAC_PERMISSIONS,
            f"{who} may, in namespace {namespace!r}: {shown}.",
            namespace=namespace,
        )
    if incomplete:
        return _finding(
            RBAC_RULES_INCOMPLETE,
            f"The API server could not list every rule of {who} in namespace {namespace!r} (an authorizer other "
            "than RBAC is in use).",
            "Check the needed verbs one by one with `kubectl auth can-i --as`.",
            namespace=namespace,
        )
    return _finding(
        RBAC_NO_PERMISSIONS,
        f"{who} is authenticated but holds no permission in namespace {namespace!r} beyond reviewing its own "
        "access, so the first real call will be refused with 403.",
        f"Bind a Role granting what the tasks need in {namespace!r} to this identity: kubectl create rolebinding "
        f"<name> -n {namespace} --role=<role> {subject_flag(username) if username else '--serviceaccount=<ns>:<name>'}"
        "; or use the namespace the identity is meant for.",
        namespace=namespace,
        user=username,
    )


def pass_summary(findings: Sequence[Finding]) -> str:
    """Return what a passing connection test proved: where it connected, as whom, what it may do."""
    by_code = {f.code: f for f in findings}
    parts = []
    if API_REACHABLE in by_code:
        evidence = by_code[API_REACHABLE].evidence
        parts.append(f"connected to {evidence.get('server')} (Kubernetes {evidence.get('version')})")
    if AUTH_ACCEPTED in by_code:
        user = by_code[AUTH_IDENTITY].evidence.get("user") if AUTH_IDENTITY in by_code else None
        parts.append(f"authenticated as {user}" if user else "authenticated (the identity is not known)")
    if RBAC_PERMISSIONS in by_code:
        parts.append(by_code[RBAC_PERMISSIONS].cause.rstrip("."))
    return "; ".join(parts) + "." if parts else ""


def internal_error(exception_type: str) -> Finding:
    """Return the finding for a bug met while testing a connection: named as ours, never as the cluster's.

    Only the exception's type is shown: its message may quote local values, and the traceback is logged instead.
    """
    return _finding(
        INTERNAL_ERROR,
        f"The connection test stopped on an unexpected {exception_type}: a defect in airflow-k8s-reconcile, not "
        "a problem of the cluster, the network or the connection.",
        "Report it with the traceback logged next to this message; the checks after it did not run.",
        exception=exception_type,
    )
