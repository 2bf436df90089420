"""``K8sPermissionSensor`` and ``K8sApiReachableSensor``: wait for RBAC to be granted, or for the API server.

After a Helm upgrade the new Role may land minutes after the DAG starts; during a control-plane upgrade the API
server is briefly gone. These sensors wait for exactly that, and only that: each poke runs the preflight (the
permission sensor its RBAC stage, the reachability sensor the fast checks) and reads the report with
:func:`~airflow_k8s_reconcile.domain.preflight.outcome.wait_decision`. A failure that waiting cannot fix (a
connection that does not resolve, rejected credentials, an unknown CA) fails the task at once with its fix, instead
of at the sensor's timeout.

Both poke (``mode="poke"`` or ``"reschedule"``) and defer (``deferrable=True``: one preflight on the worker, then
:class:`~airflow_k8s_reconcile.triggers.preflight.K8sPreflightTrigger` polls from the triggerer, which needs the
same permissions: its service account runs the checks). The XCom is the last report (secret-free).

Importing this module is cheap: hooks and the trigger are imported when the sensor runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_k8s_reconcile.compat import AirflowFailException
from airflow_k8s_reconcile.domain.connection.settings import DEFAULT_CONN_ID
from airflow_k8s_reconcile.domain.preflight.outcome import wait_decision
from airflow_k8s_reconcile.permissions import (
    Permission,
    PermissionLike,
    PermissionSpecError,
    as_permissions,
    failure_message,
    in_namespaces,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_k8s_reconcile.domain.preflight.outcome import WaitFor
    from airflow_k8s_reconcile.permissions import PreflightChecks, PreflightHook
    from airflow_k8s_reconcile.triggers.preflight import K8sPreflightTrigger


def _default_deferrable() -> bool:
    from airflow_k8s_reconcile.compat import get_conf

    return bool(get_conf().getboolean("operators", "default_deferrable", fallback=False))


class _PreflightSensor(BaseSensorOperator):
    """Shared by both sensors: poke with the sync hook, defer to the trigger, read both the same way."""

    template_fields: Sequence[str] = ("k8s_reconcile_conn_id", "namespaces")
    ui_color = "#d6e9f8"
    _checks: ClassVar[PreflightChecks]
    _wait_for: ClassVar[WaitFor]

    def __init__(
        self,
        *,
        k8s_reconcile_conn_id: str = DEFAULT_CONN_ID,
        namespaces: Sequence[str] = (),
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.k8s_reconcile_conn_id = k8s_reconcile_conn_id
        self.namespaces = namespaces
        self.deferrable = _default_deferrable() if deferrable is None else deferrable
        self._hook: PreflightHook | None = None

    def _permissions(self) -> tuple[Permission, ...]:
        return ()

    def _validated(self) -> tuple[tuple[Permission, ...], list[str]]:
        if isinstance(self.namespaces, str):
            raise AirflowFailException(
                f"namespaces must be a list of namespace names, not the string {self.namespaces!r}; "
                f"write namespaces=[{self.namespaces!r}]"
            )
        try:
            return self._permissions(), list(self.namespaces)
        except PermissionSpecError as err:
            raise AirflowFailException(str(err)) from err

    def get_hook(self) -> PreflightHook:
        """Return the sync hook, one per task run (imported here: DAG parsing must stay cheap)."""
        if self._hook is None:
            from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

            hook: PreflightHook = K8sReconcileHook(self.k8s_reconcile_conn_id)
            self._hook = hook
        return self._hook

    def trigger(self) -> K8sPreflightTrigger:
        """Return the trigger that polls what :meth:`poke` checks, from the triggerer."""
        from airflow_k8s_reconcile.triggers.preflight import K8sPreflightTrigger

        permissions, namespaces = self._validated()
        return K8sPreflightTrigger(
            k8s_reconcile_conn_id=self.k8s_reconcile_conn_id,
            permissions=permissions,
            namespaces=namespaces,
            checks=self._checks,
            wait_for=self._wait_for,
            poll_interval=self.poke_interval,
        )

    def poke(self, context: Context) -> PokeReturnValue:
        permissions, namespaces = self._validated()
        report = self.get_hook().preflight(
            permissions=permissions, namespaces=namespaces, checks=self._checks
        )
        decision = wait_decision(report.findings, self._wait_for)
        self.log.info("Preflight (%s): %s", decision, report.headline)
        if decision == "fail":
            raise AirflowFailException(failure_message(report))
        done = decision == "done"
        return PokeReturnValue(done, report.to_dict() if done else None)

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)  # often already true: no triggerer round trip then
        if not first.is_done:
            self.defer(
                trigger=self.trigger(),
                method_name="execute_complete",
                timeout=timedelta(seconds=self.timeout),
            )
        return first.xcom_value

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, object]:
        """Resume after the trigger fired: return the report, or fail with the headline and the fix."""
        self.log.info(
            "Preflight after %s poll(s) in the triggerer: %s", event.get("polls"), event.get("headline")
        )
        if event.get("status") != "done":
            raise AirflowFailException(str(event.get("message") or event.get("headline")))
        report: dict[str, object] = event["report"]
        return report


class K8sPermissionSensor(_PreflightSensor):
    """Wait until the connection's identity holds ``permissions`` in every one of ``namespaces``.

    Waits through missing permissions and API outages; fails at once when the connection does not resolve or the
    credentials are rejected. While it waits, each poke logs who lacks what; when it times out, the last headline
    says what was still missing.

    :param permissions: ``Permission`` objects or SPEC strings (``"get,list,watch:configmaps"``) (templated).
    :param namespaces: where; default the connection's namespace (templated).
    :param k8s_reconcile_conn_id: the connection (templated).
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    """

    template_fields: Sequence[str] = ("k8s_reconcile_conn_id", "permissions", "namespaces")
    _checks: ClassVar[PreflightChecks] = "rbac"
    _wait_for: ClassVar[WaitFor] = "permissions"

    def __init__(self, *, permissions: Sequence[PermissionLike], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.permissions = permissions

    @property
    def required_permissions(self) -> Sequence[Permission]:
        """Return ``permissions`` in each namespace: the sensor succeeds only once they are granted."""
        namespaces = [self.namespaces] if isinstance(self.namespaces, str) else list(self.namespaces)
        return in_namespaces(as_permissions(self.permissions), namespaces)

    def _permissions(self) -> tuple[Permission, ...]:
        return as_permissions(self.permissions)


class K8sApiReachableSensor(_PreflightSensor):
    """Wait until the API server answers: network path, TLS, readiness, accepted credentials (the fast checks).

    Waits through refused or timed-out connections, resets and 5xx/429 answers; fails at once on what does not
    change by waiting (no usable connection, an untrusted certificate, rejected credentials).

    :param namespaces: where the fast checks list permissions; default the connection's namespace (templated).
    :param k8s_reconcile_conn_id: the connection (templated).
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    """

    _checks: ClassVar[PreflightChecks] = "fast"
    _wait_for: ClassVar[WaitFor] = "api"

    @property
    def required_permissions(self) -> Sequence[Permission]:
        """Return nothing: the fast checks need only what every authenticated identity holds."""
        return ()


__all__ = ["K8sApiReachableSensor", "K8sPermissionSensor"]
