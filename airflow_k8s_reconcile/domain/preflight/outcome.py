"""What a preflight report means for the task that asked: go on, wait, retry, or stop for good.

Three callers read the same report differently, so the reading is one function with the caller's intent as an
argument: the permission gate of an operator (go on, or fail with the remediation), the permission sensor (done
once granted; a missing permission is what it waits for) and the API-reachable sensor (done once the server answers;
an outage is what it waits for). The split that matters is whether waiting can change the answer:

- a missing permission can be granted later (a Helm upgrade, an admin applying the remediation);
- no answer, a throttled or failing server (``NET_*``, 429, 5xx) is the server's side and may recover;
- a connection that does not resolve (``CONN_*``), credentials the server rejects, a malformed SPEC or a defect of
  this provider stay as they are however long one waits, so a sensor fails at once instead of at its timeout.

Called by ``airflow_k8s_reconcile.permissions`` (the gate), the sensors and the trigger; pure like all of ``domain``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.findings import Status

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding

Outcome = Literal["ok", "missing", "transient", "terminal"]
WaitFor = Literal["permissions", "api"]
Decision = Literal["done", "wait", "fail"]

# Failures of the network path or the server that a later attempt may not meet: nothing answered, the resolver was
# unreachable, the server is not ready, or it answered 429 / 5xx (the statuses exceptions.TRANSIENT_STATUSES
# resends).
TRANSIENT_CODES = frozenset(
    {
        codes.NET_DNS_FAILURE,
        codes.NET_CONNECTION_REFUSED,
        codes.NET_CONNECT_TIMEOUT,
        codes.NET_READ_TIMEOUT,
        codes.NET_PROXY_FAILURE,
        codes.NET_CONNECTION_RESET,
        codes.NET_UNREACHABLE,
        codes.NET_REQUEST_FAILED,
        codes.NET_DNS_RESOLVER_UNREACHABLE,  # not "name does not exist": that is a typo until proven otherwise
        codes.API_NOT_READY,  # /readyz failing: a starting or upgrading control plane
        codes.API_RATE_LIMITED,
        codes.API_SERVER_ERROR,
    }
)
MISSING_CODES = frozenset({codes.RBAC_PERMISSION_MISSING})


def outcome(findings: Iterable[Finding]) -> Outcome:
    """Return how the failing findings of a report can be resolved.

    :param findings: a report's findings.
    :return: ``ok`` when nothing failed; ``transient`` when every failure is the network's or the server's;
        ``missing`` when every failure is a missing permission (or transient, with at least one missing
        permission); ``terminal`` when any failure stays as it is however long one waits.
    """
    failing = {finding.code for finding in findings if finding.status is Status.FAIL}
    if not failing:
        return "ok"
    if failing <= TRANSIENT_CODES:
        return "transient"
    if failing <= TRANSIENT_CODES | MISSING_CODES:
        return "missing"
    return "terminal"


def wait_decision(findings: Iterable[Finding], wait_for: WaitFor) -> Decision:
    """Return what a sensor does with a report: ``done``, ``wait`` (poke again) or ``fail`` (no point waiting).

    :param findings: the report's findings.
    :param wait_for: ``permissions`` waits through missing permissions and outages, ``api`` through outages only
        (a missing permission does not come back by itself in the fast checks, which check none).
    """
    result = outcome(findings)
    if result == "ok":
        return "done"
    if result == "transient" or (result == "missing" and wait_for == "permissions"):
        return "wait"
    return "fail"


__all__ = ["Decision", "Outcome", "WaitFor", "outcome", "wait_decision"]
