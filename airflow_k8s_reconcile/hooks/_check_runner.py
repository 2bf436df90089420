"""Perform a plan of checks with the sync ``kubernetes`` client: send what each check asks, feed back what came.

The plan, the order, the skips and the judgement are the core's
(:mod:`~airflow_k8s_reconcile.domain.common.checks`); this runner only sends requests and measures them. Only
errors from the API server or the network become observations (their findings, via
:mod:`~airflow_k8s_reconcile.hooks._errors`); anything else is a bug and propagates with its traceback. Its async
twin is :mod:`~airflow_k8s_reconcile.hooks._check_runner_async`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from airflow_k8s_reconcile.domain.common.checks import Check, CheckOutcome, CheckRun, Observation
from airflow_k8s_reconcile.domain.connection.api_requests import (
    ReadVersion,
    ReviewAccess,
    ReviewRules,
    ReviewSelf,
)
from airflow_k8s_reconcile.hooks._check_observations import action_of, identity_of, rules_status_of
from airflow_k8s_reconcile.hooks._errors import NETWORK_ERRORS, failure_finding

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
            started = time.monotonic()
            try:
                observation = perform(api, check.request)
            except TRANSPORT_ERRORS as err:
                observation = failure_finding(
                    err, server=server, action=action_of(check.request), proxy=proxy
                )
            run.record(check.id, observation, time.monotonic() - started)
    return run.outcomes


def perform(api: Any, request: object) -> Observation:
    """Send one request and return its observation (see :mod:`~airflow_k8s_reconcile.domain.connection.api_requests`).

    :raises TypeError: for a request this runner does not know (a programming error).
    """
    match request:
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
    raise TypeError(f"the sync check runner cannot perform {type(request).__name__}")
