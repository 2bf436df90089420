"""Perform a plan of checks with ``kubernetes_asyncio``: the async twin of :mod:`.runner`.

Same plan, same judgement, same observations; the checks of a batch (independent by construction, such as the
permissions of several namespaces) are sent concurrently. Only API and transport errors become observations;
anything else is a bug and propagates.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import ClientError
from kubernetes_asyncio import client as k8s_async
from kubernetes_asyncio.client.exceptions import ApiException

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

# What the async client raises for an error response or a failed transport; everything else is a bug.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (ApiException, ClientError, *NETWORK_ERRORS)


async def arun_checks(
    api: Any, plan: Sequence[Check], *, server: str, proxy: str | None = None
) -> tuple[CheckOutcome, ...]:
    """Run ``plan`` against the API server behind ``api`` (an async ``ApiClient``); return the outcomes in order.

    :param server: the API server URL, for network findings.
    :param proxy: the proxy in use, already redacted, for network findings.
    """
    run = CheckRun(plan)

    async def observe(check: Check) -> tuple[Observation, float]:
        request = run.request_for(check)
        started = time.monotonic()
        try:
            observation = await aperform(api, request, server=server, proxy=proxy)
        except TRANSPORT_ERRORS as err:
            observation = failure_finding(err, server=server, action=action_of(request), proxy=proxy)
        return observation, time.monotonic() - started

    while batch := run.ready():
        # gather (not a TaskGroup) so that a bug surfaces as itself, not wrapped in an ExceptionGroup.
        observed = await asyncio.gather(*(observe(check) for check in batch))
        for check, (observation, duration) in zip(batch, observed, strict=True):
            run.record(check.id, observation, duration)
    return run.outcomes


async def _access_answers(
    api: Any, batch: ReviewAccessBatch, *, server: str, proxy: str | None
) -> AccessAnswers:
    """Send the batch's access reviews concurrently (bounded); a failed one is answered by its finding."""
    authorization = k8s_async.AuthorizationV1Api(api)
    limit = asyncio.Semaphore(MAX_CONCURRENT_REVIEWS)

    async def review(check: Any) -> Mapping[str, Any] | Finding:
        async with limit:
            try:
                body: Any = access_review_request(check)
                answer = await authorization.create_self_subject_access_review(body)
            except TRANSPORT_ERRORS as err:
                action = f"review access: {check.describe()}"
                return failure_finding(err, server=server, action=action, proxy=proxy)
        return dict(api.sanitize_for_serialization(answer.status) or {})

    answers = await asyncio.gather(*(review(check) for check in batch.checks))
    return AccessAnswers(request=batch, answers=tuple(zip(batch.checks, answers, strict=True)))


async def _health(api: Any) -> Health:
    """Read ``/readyz`` (a 5xx is an answer: not ready) and ``/version``, keeping the ``Date`` header."""
    try:
        await api.call_api("/readyz", "GET", auth_settings=["BearerToken"], response_types_map={200: "str"})
    except ApiException as err:
        if not 500 <= (err.status or 0) < 600:
            raise
        date = header_of(err.headers, "Date")
        return Health(ready_status=err.status, server_date=date, local_time=time.time())
    version, _, headers = await k8s_async.VersionApi(api).get_code_with_http_info()
    local = time.time()
    return Health(
        ready_status=200,
        version=str(version.git_version),
        server_date=header_of(headers, "Date"),
        local_time=local,
    )


async def aperform(api: Any, request: object, *, server: str = "", proxy: str | None = None) -> Observation:
    """Send one request and return its observation.

    :raises TypeError: for a request this runner does not know (a programming error).
    """
    match request:
        case InspectProxy():
            return None
        case ResolveName():
            return await asyncio.to_thread(resolve, request)
        case ConnectTcp():
            return await asyncio.to_thread(connect, request)
        case TlsHandshake():
            return await asyncio.to_thread(handshake, request)
        case ReadHealth():
            return await _health(api)
        case ReadVersion():
            return str((await k8s_async.VersionApi(api).get_code()).git_version)
        case ReviewAccess(namespace=namespace, verb=verb, resource=resource, group=group):
            attributes = k8s_async.V1ResourceAttributes(
                namespace=namespace, verb=verb, resource=resource, group=group
            )
            review = k8s_async.V1SelfSubjectAccessReview(
                spec=k8s_async.V1SelfSubjectAccessReviewSpec(resource_attributes=attributes)
            )
            access = await k8s_async.AuthorizationV1Api(api).create_self_subject_access_review(review)
            return bool(access.status.allowed)
        case ReviewSelf():
            self_review = k8s_async.V1SelfSubjectReview()
            who = await k8s_async.AuthenticationV1Api(api).create_self_subject_review(self_review)
            return identity_of(who.status.user_info)
        case ReviewRules(namespace=namespace):
            rules_review = k8s_async.V1SelfSubjectRulesReview(
                spec=k8s_async.V1SelfSubjectRulesReviewSpec(namespace=namespace)
            )
            rules = await k8s_async.AuthorizationV1Api(api).create_self_subject_rules_review(rules_review)
            return rules_status_of(rules.status)
        case ReadRulesReview(namespace=namespace):
            rules_body: Any = rules_review_request(namespace)
            reviewed = await k8s_async.AuthorizationV1Api(api).create_self_subject_rules_review(rules_body)
            return dict(api.sanitize_for_serialization(reviewed.status) or {})
        case ReviewAccessBatch():
            return await _access_answers(api, request, server=server, proxy=proxy)
        case DryRunCreate(namespace=namespace, manifest=manifest):
            try:
                config_map: Any = dict(manifest)
                await k8s_async.CoreV1Api(api).create_namespaced_config_map(
                    namespace, config_map, dry_run="All"
                )
            except ApiException as err:
                refusal = dry_run_refusal(err)
                if refusal is None:
                    raise
                return refusal
            return DryRunAnswer(accepted=True)
    raise TypeError(f"the async check runner cannot perform {type(request).__name__}")
