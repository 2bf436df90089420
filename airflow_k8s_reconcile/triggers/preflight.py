"""``K8sPreflightTrigger``: poll the preflight from the triggerer until it passes (or cannot pass by waiting).

The deferrable side of ``K8sPermissionSensor`` (``checks="rbac"``, waiting for permissions) and
``K8sApiReachableSensor`` (``checks="fast"``, waiting for the API server). It runs the very preflight the sensors
poke with, on ``AsyncK8sReconcileHook``, and reads each report with the same pure decision
(:func:`~airflow_k8s_reconcile.domain.preflight.outcome.wait_decision`), so poke and deferrable modes agree.

The event is secret-free (a report never holds a secret): ``{"status": "done" | "failed", "verdict", "headline",
"message", "report", "polls"}``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_k8s_reconcile.domain.connection.settings import DEFAULT_CONN_ID
from airflow_k8s_reconcile.domain.preflight.outcome import wait_decision
from airflow_k8s_reconcile.permissions import Permission, decisive_fix, failure_message

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.preflight.outcome import WaitFor
    from airflow_k8s_reconcile.findings import Report
    from airflow_k8s_reconcile.permissions import AsyncPreflightHook, PreflightChecks


def _permission(value: Permission | Mapping[str, Any]) -> Permission:
    if isinstance(value, Permission):
        return value
    fields = dict(value)
    fields["verbs"] = tuple(fields.get("verbs", ()))
    return Permission(**fields)


def _encoded(permission: Permission) -> dict[str, Any]:
    """Return ``permission`` as plain JSON (trigger kwargs are stored in the metadata database)."""
    fields = dataclasses.asdict(permission)
    fields["verbs"] = list(permission.verbs)
    return fields


def event_payload(report: Report, *, done: bool, polls: int) -> dict[str, Any]:
    """Return the secret-free event (or poke result) for ``report``."""
    return {
        "status": "done" if done else "failed",
        "verdict": report.verdict,
        "headline": report.headline,
        "message": report.headline if done else failure_message(report),
        "report": report.to_dict(),
        "polls": polls,
    }


class K8sPreflightTrigger(BaseTrigger):
    """Run the preflight every ``poll_interval`` seconds; fire once it passes, or once waiting cannot help.

    :param k8s_reconcile_conn_id: the connection (the triggerer reads it like a worker does).
    :param permissions: the required permissions (``Permission`` or its field dict, as :meth:`serialize` writes).
    :param namespaces: where to check them; default the connection's namespace.
    :param checks: ``rbac`` (identity and permissions) or ``fast`` (network, TLS, readiness, identity).
    :param wait_for: ``permissions`` (a missing permission or an outage: poll again) or ``api`` (an outage only).
    :param poll_interval: seconds between two preflights.
    """

    def __init__(
        self,
        *,
        k8s_reconcile_conn_id: str = DEFAULT_CONN_ID,
        permissions: Sequence[Permission | Mapping[str, Any]] = (),
        namespaces: Sequence[str] = (),
        checks: PreflightChecks = "rbac",
        wait_for: WaitFor = "permissions",
        poll_interval: float = 30.0,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow's BaseTrigger is unannotated
        self.k8s_reconcile_conn_id = k8s_reconcile_conn_id
        self.permissions = tuple(_permission(item) for item in permissions)
        self.namespaces = tuple(namespaces)
        self.checks: PreflightChecks = checks
        self.wait_for: WaitFor = wait_for
        self.poll_interval = float(poll_interval)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and every constructor argument, as plain JSON."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "k8s_reconcile_conn_id": self.k8s_reconcile_conn_id,
                "permissions": [_encoded(permission) for permission in self.permissions],
                "namespaces": list(self.namespaces),
                "checks": self.checks,
                "wait_for": self.wait_for,
                "poll_interval": self.poll_interval,
            },
        )

    def get_hook(self) -> AsyncPreflightHook:
        """Return the async hook (imported here, so importing this module stays cheap)."""
        from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook

        hook: AsyncPreflightHook = AsyncK8sReconcileHook(self.k8s_reconcile_conn_id)
        return hook

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = self.get_hook()
        polls = 0
        while True:
            polls += 1
            report = await hook.preflight(
                permissions=self.permissions, namespaces=self.namespaces, checks=self.checks
            )
            decision = wait_decision(report.findings, self.wait_for)
            if decision != "wait":
                self.log.info("Preflight %s after %d poll(s): %s", decision, polls, report.headline)
                payload = event_payload(report, done=decision == "done", polls=polls)
                yield TriggerEvent(payload)  # type: ignore[no-untyped-call]
                return
            self.log.info(
                "Preflight poll %d: %s %s; next in %ss",
                polls,
                report.headline,
                decisive_fix(report),
                self.poll_interval,
            )
            await asyncio.sleep(self.poll_interval)


__all__ = ["K8sPreflightTrigger", "event_payload"]
