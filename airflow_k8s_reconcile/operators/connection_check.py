"""``K8sConnectionCheckOperator``: run the connection test where tasks run.

Airflow runs the UI's Test button in the API server, with that pod's service account, files and network. This
operator runs the same test on a worker (or wherever the task runs), so it checks what the other tasks will
actually use.

Importing this module is cheap (DAG files import it at every parse): the hook, and with it the resolver, the
Kubernetes client, ``cryptography`` and ``yaml``, is imported in :meth:`K8sConnectionCheckOperator.execute`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_k8s_reconcile.domain.connection.settings import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow.sdk import Context


class K8sConnectionCheckOperator(BaseOperator):
    """Test a Kubernetes connection from the task's own environment and fail the task if it does not work.

    It resolves the connection (logging what was chosen and why), reaches the API server over verified TLS, proves
    the credentials are accepted, names the identity and lists its permissions in each namespace. The report is
    logged and returned as the XCom (secret-free): ``{"verdict", "findings", "connection"}``.

    A failed check fails the task without retries (the configuration will not fix itself); a warning, such as an
    identity without permissions, fails it only with ``fail_on_warning``.

    :param k8s_reconcile_conn_id: the connection to test (templated).
    :param namespaces: namespaces to assess permissions in; default the connection's namespace (templated).
    :param fail_on_warning: also fail on warnings.
    """

    template_fields: Sequence[str] = ("k8s_reconcile_conn_id", "namespaces")
    ui_color = "#d6e9f8"

    def __init__(
        self,
        *,
        k8s_reconcile_conn_id: str = DEFAULT_CONN_ID,
        namespaces: Sequence[str] = (),
        fail_on_warning: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.k8s_reconcile_conn_id = k8s_reconcile_conn_id
        self.namespaces = namespaces
        self.fail_on_warning = fail_on_warning

    def execute(self, context: Context) -> dict[str, object]:
        from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

        if isinstance(self.namespaces, str):
            raise AirflowFailException(
                f"namespaces must be a list of namespace names, not the string {self.namespaces!r}; "
                f"write namespaces=[{self.namespaces!r}]"
            )
        report = K8sReconcileHook(self.k8s_reconcile_conn_id).diagnose(namespaces=list(self.namespaces))
        lines = report.render().splitlines()
        self.log.info("%s", lines[0])
        for line in lines[1:]:
            self.log.info("%s", line)
        if report.verdict == "fail" or (self.fail_on_warning and report.verdict == "warn"):
            raise AirflowFailException(lines[0])
        return report.to_dict()


__all__ = ["K8sConnectionCheckOperator"]
