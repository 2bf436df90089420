"""``K8sPreflightOperator``: check, where tasks run, that the cluster is reachable and the permissions are granted.

The connection test answers "does this connection work"; the preflight answers "can the tasks of this DAG do their
work": the network path and TLS, the API server's readiness, the identity, and each required permission in each
namespace, with the least-privilege Role to apply when one is missing. A DAG puts it first, so a missing permission
fails one clear task instead of a reconcile halfway through.

Importing this module is cheap (DAG files import it at every parse): the hook, and with it the resolver and the
Kubernetes client, is imported in :meth:`K8sPreflightOperator.get_hook`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from airflow.sdk import BaseOperator

from airflow_k8s_reconcile.compat import AirflowFailException
from airflow_k8s_reconcile.domain.connection.settings import DEFAULT_CONN_ID
from airflow_k8s_reconcile.permissions import (
    Permission,
    PermissionLike,
    PermissionSpecError,
    as_permissions,
    failure_message,
    in_namespaces,
    log_report,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_k8s_reconcile.permissions import PreflightChecks, PreflightHook

_CHECKS = ("all", "fast", "rbac")
_FAIL_ON = ("fail", "warn")


class K8sPreflightOperator(BaseOperator):
    """Run the preflight for ``permissions`` in ``namespaces`` and fail the task when it does not pass.

    The report is logged line by line and returned as the XCom (secret-free): ``{"verdict", "findings",
    "connection"}`` plus, when the preflight checked permissions, ``"identity"``, ``"permissions"`` and
    ``"remediation"`` (the Role/RoleBinding YAML, the ``kubectl`` commands, the ``can-i`` lines). A failure raises
    ``AirflowFailException`` (no retries: permissions and configuration do not fix themselves) carrying the
    headline and the YAML to apply.

    :param k8s_reconcile_conn_id: the connection to check (templated).
    :param permissions: what the tasks need: :class:`~airflow_k8s_reconcile.permissions.Permission` objects or
        SPEC strings, ``"get,list,watch:configmaps"``, ``"create:pods/exec"``, ``"list:widgets.example.com"``
        (templated).
    :param namespaces: where they need it; default the connection's namespace (templated).
    :param checks: ``all`` (network, TLS, readiness, identity, permissions), ``fast`` (everything but the
        required permissions) or ``rbac`` (identity and permissions only).
    :param fail_on: ``fail`` fails the task on failures only; ``warn`` also on warnings (a permission that could
        not be checked, a token about to expire).
    """

    template_fields: Sequence[str] = ("k8s_reconcile_conn_id", "permissions", "namespaces")
    ui_color = "#d6e9f8"

    def __init__(
        self,
        *,
        k8s_reconcile_conn_id: str = DEFAULT_CONN_ID,
        permissions: Sequence[PermissionLike] = (),
        namespaces: Sequence[str] = (),
        checks: PreflightChecks = "all",
        fail_on: Literal["fail", "warn"] = "fail",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.k8s_reconcile_conn_id = k8s_reconcile_conn_id
        self.permissions = permissions
        self.namespaces = namespaces
        self.checks = checks
        self.fail_on = fail_on

    @property
    def required_permissions(self) -> Sequence[Permission]:
        """Return the permissions this task passes only with: ``permissions`` in each of ``namespaces``.

        What the preflight itself uses (self-subject rules and access reviews) every authenticated identity holds
        through ``system:basic-user``, so it is not declared.
        """
        return in_namespaces(as_permissions(self.permissions), _as_list(self.namespaces))

    def get_hook(self) -> PreflightHook:
        """Return the hook for :attr:`k8s_reconcile_conn_id` (imported here: DAG parsing must stay cheap)."""
        from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

        hook: PreflightHook = K8sReconcileHook(self.k8s_reconcile_conn_id)
        return hook

    def _validated(self) -> tuple[tuple[Permission, ...], list[str]]:
        """Validate the rendered arguments; every problem is terminal and names the fix."""
        if isinstance(self.namespaces, str):
            raise AirflowFailException(
                f"namespaces must be a list of namespace names, not the string {self.namespaces!r}; "
                f"write namespaces=[{self.namespaces!r}]"
            )
        if self.checks not in _CHECKS:
            raise AirflowFailException(f"checks must be one of {', '.join(_CHECKS)}, not {self.checks!r}")
        if self.fail_on not in _FAIL_ON:
            raise AirflowFailException(f"fail_on must be 'fail' or 'warn', not {self.fail_on!r}")
        try:
            return as_permissions(self.permissions), list(self.namespaces)
        except PermissionSpecError as err:
            raise AirflowFailException(str(err)) from err

    def execute(self, context: Context) -> dict[str, object]:
        permissions, namespaces = self._validated()
        report = self.get_hook().preflight(permissions=permissions, namespaces=namespaces, checks=self.checks)
        log_report(self.log, report)
        if report.verdict == "fail" or (self.fail_on == "warn" and report.verdict == "warn"):
            raise AirflowFailException(failure_message(report))
        return report.to_dict()


def _as_list(namespaces: Sequence[str]) -> list[str]:
    return [namespaces] if isinstance(namespaces, str) else list(namespaces)


__all__ = ["K8sPreflightOperator"]
