"""Perform a plan of checks with the sync ``kubernetes`` client: send what each check asks, feed back what came.

The plan, the order, the skips and the judgement are the core's
(:mod:`~airflow_k8s_reconcile.domain.common.checks`); this runner only sends requests and measures them. Only
errors from the API server or the network become observations (their findings, via
:mod:`~airflow_k8s_reconcile.hooks._errors`); anything else is a bug and propagates with its traceback. Its async
twin is :mod:`~airflow_k8s_reconcile.hooks._checks.runner_async`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from airflow_k8s_reconcile.domain.common.checks import Check, CheckOutcome, CheckRun, Observation
from airflow_k8s_reconcile.domain.connection.api.requests import (
    ReadVersion,
    ReviewAccess,
    ReviewRules,
    ReviewSelf,
)
from airflow_k8s_reconcile.domain.connection.network.hops import (
    ConnectTcp,
    Health,
    InspectProxy,
    ReadHealth,
    ResolveName,
)
from airflow_k8s_reconcile.domain.connection.network.tls_diagnosis import TlsHandshake
from airflow_k8s_reconcile.domain.preflight.rbac_evaluation import access_review_request, rules_review_request
from airflow_k8s_reconcile.domain.preflight.requests import (
    AccessAnswers,
    DryRunAnswer,
    DryRunCreate,
    ReadRulesReview,
    ReviewAccessBatch,
)
from airflow_k8s_reconcile.hooks._checks.network_probes import connect, handshake, resolve
from airflow_k8s_reconcile.hooks._checks.observations import (
    MAX_CONCURRENT_REVIEWS,
    action_of,
    dry_run_refusal,
    identity_of,
    rules_status_of,
)
from airflow_k8s_reconcile.hooks._errors import NETWORK_ERRORS, failure_finding, header_of

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding

# What the sync client raises for an error response or a failed transport; everything else is a bug.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (ApiException, HTTPError, *NETWORK_ERRORS)


def run_checks(
    api: Any, plan: Sequence[Check], *, server: str, proxy: str | None = None
) -> tuple[CheckOutcome, ...]:
    """Run ``plan`` against the API server behind ``api`` (a sync ``ApiClient``); return the outcomes in plan order.

    :param server: the API server URL, for network findings.
    :param proxy: the proxy in use, already redacted, for network findings.
    """
    run = CheckRun(plan)
    while batch := run.ready():
        for check in batch:
            request = run.request_for(check)
            started = time.monotonic()
            try:
                observation = perform(api, request, server=server, proxy=proxy)
            except TRANSPORT_ERRORS as err:
                observation = failure_finding(err, server=server, action=action_of(request), proxy=proxy)
            run.record(check.id, observation, time.monotonic() - started)
    return run.outcomes


def _access_answers(api: Any, batch: ReviewAccessBatch, *, server: str, proxy: str | None) -> AccessAnswers:
    """Send the batch's access reviews concurrently; a failed one is answered by its finding."""
    authorization = k8s.AuthorizationV1Api(api)

    def review(check: Any) -> Mapping[str, Any] | Finding:
        try:
            answer = authorization.create_self_subject_access_review(access_review_request(check))
        except TRANSPORT_ERRORS as err:
            return failure_finding(
                err, server=server, action=f"review access: {check.describe()}", proxy=proxy
            )
        return dict(api.sanitize_for_serialization(answer.status) or {})

    if not batch.checks:
        return AccessAnswers(request=batch)
    with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT_REVIEWS, len(batch.checks))) as pool:
        answers = tuple(zip(batch.checks, pool.map(review, batch.checks), strict=True))
    return AccessAnswers(request=batch, answers=answers)


def _health(api: Any) -> Health:
    """Read ``/readyz`` (a 5xx is an answer: not ready) and ``/version``, keeping the ``Date`` header."""
    try:
        api.call_api("/readyz", "GET", auth_settings=["BearerToken"], response_types_map={200: "str"})
    except ApiException as err:
        if not 500 <= (err.status or 0) < 600:
            raise
        date = header_of(err.headers, "Date")
        return Health(ready_status=err.status, server_date=date, local_time=time.time())
    version, _, headers = k8s.VersionApi(api).get_code_with_http_info()
    local = time.time()
    return Health(
        ready_status=200,
        version=str(version.git_version),
        server_date=header_of(headers, "Date"),
        local_time=local,
    )


def perform(api: Any, request: object, *, server: str = "", proxy: str | None = None) -> Observation:
    """Send one request and return its observation (see :mod:`~airflow_k8s_reconcile.domain.connection.api.requests`).

    :raises TypeError: for a request this runner does not know (a programming error).
    """
    match request:
        case InspectProxy():
            return None
        case ResolveName():
            return resolve(request)
        case ConnectTcp():
            return connect(request)
        case TlsHandshake():
            return handshake(request)
        case ReadHealth():
            return _health(api)
        case ReadVersion():
            return str(k8s.VersionApi(api).get_code().git_version)
        case ReviewAccess(namespace=namespace, verb=verb, resource=resource, group=group):
            attributes = k8s.V1ResourceAttributes(
                namespace=namespace, verb=verb, resource=resource, group=group
            )
            review = k8s.V1SelfSubjectAccessReview(
                spec=k8s.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
            )
            return bool(k8s.AuthorizationV1Api(api).create_self_subject_access_review(review).status.allowed)
        case ReviewSelf():
            review = k8s.AuthenticationV1Api(api).create_self_subject_review(k8s.V1SelfSubjectReview())
            return identity_of(review.status.user_info)
        case ReviewRules(namespace=namespace):
            spec = k8s.V1SelfSubjectRulesReviewSpec(namespace=namespace)
            status = (
                k8s.AuthorizationV1Api(api)
                .create_self_subject_rules_review(k8s.V1SelfSubjectRulesReview(spec=spec))
                .status
            )
            return rules_status_of(status)
        case ReadRulesReview(namespace=namespace):
            rules = k8s.AuthorizationV1Api(api).create_self_subject_rules_review(
                rules_review_request(namespace)
            )
            return dict(api.sanitize_for_serialization(rules.status) or {})
        case ReviewAccessBatch():
            return _access_answers(api, request, server=server, proxy=proxy)
        case DryRunCreate(namespace=namespace, manifest=manifest):
            try:
                k8s.CoreV1Api(api).create_namespaced_config_map(namespace, dict(manifest), dry_run="All")
            except ApiException as err:
                refusal = dry_run_refusal(err)
                if refusal is None:
                    raise
                return refusal
            return DryRunAnswer(accepted=True)
    raise TypeError(f"the sync check runner cannot perform {type(request).__name__}")
