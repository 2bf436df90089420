"""``K8sConnectionCheckOperator``: run the connection test where tasks run (the preflight's fast checks).

Airflow runs the UI's Test button in the API server, with that pod's service account, files and network. This
operator runs the same checks on a worker (or wherever the task runs), so it checks what the other tasks will
actually use. It is :class:`~airflow_k8s_reconcile.operators.preflight.K8sPreflightOperator` with ``checks="fast"``
and no required permissions, kept under its own name for the DAGs that use it.

Importing this module is cheap (DAG files import it at every parse): the hook is imported when the task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_k8s_reconcile.domain.connection.settings import DEFAULT_CONN_ID
from airflow_k8s_reconcile.operators.preflight import K8sPreflightOperator


class K8sConnectionCheckOperator(K8sPreflightOperator):
    """Test a Kubernetes connection from the task's own environment and fail the task if it does not work.

    It resolves the connection (logging what was chosen and why), reaches the API server over verified TLS, proves
    the credentials are accepted, names the identity and lists its permissions in each namespace. The report is
    logged and returned as the XCom (secret-free): ``{"verdict", "findings", "connection"}``.

    A failed check fails the task without retries (the configuration will not fix itself); a warning, such as an
    identity without permissions, fails it only with ``fail_on_warning``. To also require permissions, use
    :class:`~airflow_k8s_reconcile.operators.preflight.K8sPreflightOperator`.

    :param k8s_reconcile_conn_id: the connection to test (templated).
    :param namespaces: namespaces to assess permissions in; default the connection's namespace (templated).
    :param fail_on_warning: also fail on warnings.
    """

    template_fields: Sequence[str] = ("k8s_reconcile_conn_id", "namespaces")

    def __init__(
        self,
        *,
        k8s_reconcile_conn_id: str = DEFAULT_CONN_ID,
        namespaces: Sequence[str] = (),
        fail_on_warning: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            k8s_reconcile_conn_id=k8s_reconcile_conn_id,
            namespaces=namespaces,
            checks="fast",
            fail_on="warn" if fail_on_warning else "fail",
            **kwargs,
        )
        self.fail_on_warning = fail_on_warning


__all__ = ["K8sConnectionCheckOperator"]
