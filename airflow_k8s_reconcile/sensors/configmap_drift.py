"""``K8sConfigMapDriftSensor``: succeed when a generated ConfigMap drifts from what the reconcile left behind.

Poke mode lists once per poke (one list per watched collection, raw JSON) and judges each object with the pure
:class:`~airflow_k8s_reconcile.domain.reconcile.drift.tracker.DriftTracker`. ``deferrable=True`` checks once the same
way, then hands the watching to :class:`~airflow_k8s_reconcile.triggers.configmap_drift.ConfigMapDriftTrigger` in
the triggerer (list, then watch; no worker slot held while nothing happens), carrying the uids the check saw so a
delete-and-recreate in between is still caught. Either way the XCom is the drift summary: names, keys, hashes,
uids, generations; never a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_k8s_reconcile.compat import AirflowException, AirflowFailException
from airflow_k8s_reconcile.domain.connection.settings import DEFAULT_CONN_ID
from airflow_k8s_reconcile.domain.reconcile.drift.tracker import DriftTracker, event_payload
from airflow_k8s_reconcile.domain.reconcile.drift.watch import Expectation, expectations_from_report
from airflow_k8s_reconcile.permissions import Permission
from airflow_k8s_reconcile.triggers.configmap_drift import ConfigMapDriftTrigger, _judge_event, _listed_events

if TYPE_CHECKING:
    from airflow.sdk import Context


class K8sConfigMapDriftSensor(BaseSensorOperator):
    """Wait until a watched ConfigMap is deleted, edited, recreated, or one of its inputs changes.

    What counts as drift: the ConfigMap is gone; its uid differs from the recorded one (deleted and recreated);
    its content differs from the recorded hash (``expectations``, or ``report``: a reconcile's XCom) or from its
    own ``airflow-k8s-reconcile/content-sha256`` annotation (a key added, removed or edited); an input custom
    resource's ``metadata.generation`` moved, or it was deleted or recreated.

    :param namespace: where the ConfigMaps live (default: the connection's namespace) (templated).
    :param names: ConfigMap names to watch (templated).
    :param label_selector: watch the ConfigMaps it selects instead (templated).
    :param expectations: recorded state per ConfigMap, as :meth:`Expectation.to_dict
        <airflow_k8s_reconcile.domain.reconcile.drift.watch.Expectation.to_dict>` (templated).
    :param report: a reconcile report (the reconcile task's XCom): expectations and inputs are taken from it
        (templated).
    :param inputs: input custom resources (group, version, plural, namespace, name, optional uid and
        generation; a report's ``inputs`` entries fit) (templated).
    :param k8s_reconcile_conn_id: the connection (templated).
    :param connection_arguments: hook arguments overriding the connection.
    :param deferrable: wait in the triggerer with a watch instead of poking.
    :param watch_seconds: the trigger's shortest server-side watch duration.
    """

    template_fields: Sequence[str] = (
        "namespace", "names", "label_selector", "expectations", "report", "inputs", "k8s_reconcile_conn_id",
    )  # fmt: skip
    ui_color = "#f6e7c8"

    def __init__(
        self,
        *,
        namespace: str = "",
        names: Sequence[str] = (),
        label_selector: str = "",
        expectations: Sequence[Mapping[str, Any]] = (),
        report: Mapping[str, Any] | None = None,
        inputs: Sequence[Mapping[str, Any]] = (),
        k8s_reconcile_conn_id: str = DEFAULT_CONN_ID,
        connection_arguments: Mapping[str, Any] | None = None,
        deferrable: bool = False,
        watch_seconds: int = 300,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.namespace = namespace
        self.names = names
        self.label_selector = label_selector
        self.expectations = expectations
        self.report = report
        self.inputs = inputs
        self.k8s_reconcile_conn_id = k8s_reconcile_conn_id
        self.connection_arguments = dict(connection_arguments or {})
        self.deferrable = deferrable
        self.watch_seconds = watch_seconds
        self._tracker: DriftTracker | None = None

    @property
    def required_permissions(self) -> tuple[Permission, ...]:
        """Return what this task needs from RBAC: get/list/watch on configmaps, and on each input resource.

        A ``namespace`` of ``""`` means the namespace the task runs in; ``airflow-k8s-reconcile rbac`` renders the
        same declarations as YAML.
        """
        verbs = ("get", "list", "watch")
        out = [Permission(verbs=verbs, resource="configmaps", namespace=self.namespace)]
        for item in self._all_inputs():
            group = str(item.get("group", str(item.get("apiVersion", "")).rpartition("/")[0]) or "")
            entry = Permission(
                verbs=verbs,
                group=group,
                resource=str(item["plural"]),
                namespace=str(item.get("namespace") or ""),
            )
            if entry not in out:
                out.append(entry)
        return tuple(out)

    def _all_inputs(self) -> list[Mapping[str, Any]]:
        found = list(self.inputs)
        # Before rendering (a DAG parse, ``airflow-k8s-reconcile rbac``) ``report`` may still be its template,
        # e.g. "{{ ti.xcom_pull(task_ids='ensure') }}": its inputs are known only at run time.
        report = self.report if isinstance(self.report, Mapping) else {}
        for entry in report.get("objects") or ():
            found += [item for item in entry.get("inputs") or () if item not in found]
        return found

    def _trigger_arguments(self, namespace: str) -> dict[str, Any]:
        expected = [Expectation.from_dict(item, namespace=namespace) for item in self.expectations]
        expected += expectations_from_report(self.report or {})
        if isinstance(self.names, str):
            raise AirflowFailException(
                f"names must be a list of ConfigMap names, not the string {self.names!r}"
            )
        return {
            "namespace": namespace,
            "names": list(self.names),
            "label_selector": self.label_selector,
            "expectations": [item.to_dict() for item in expected],
            "inputs": [dict(item) for item in self._all_inputs()],
            "k8s_reconcile_conn_id": self.k8s_reconcile_conn_id,
            "connection_arguments": self.connection_arguments,
            "watch_seconds": self.watch_seconds,
        }

    def _check(self) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """List once and judge; return (payload if drifted, trigger arguments with the uids seen)."""
        from airflow_k8s_reconcile.exceptions import ReconcileError
        from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
        from airflow_k8s_reconcile.hooks.watch import list_objects

        hook = K8sReconcileHook(self.k8s_reconcile_conn_id, **self.connection_arguments)
        try:
            arguments = self._trigger_arguments(self.namespace or hook.get_namespace())
            trigger = ConfigMapDriftTrigger(**arguments)
            if self._tracker is None:
                self._tracker = trigger._tracker(keep_watching=False)
            reports: list[dict[str, Any]] = []
            for target in trigger._targets(self._tracker):
                items, version = list_objects(hook, target)
                for event in _listed_events(target, items, version):
                    reports += _judge_event(self._tracker, event)
        except ReconcileError as err:
            raise _failure(str(err), transient=bool(getattr(err, "transient", False))) from err
        finally:
            hook.close()
        # Hand the uids seen to the trigger: a delete-and-recreate before it lists is still a uid change.
        seen = self._tracker.baseline_uids()
        arguments["expectations"] = [
            {**item.to_dict(), "uid": item.uid or seen.get(item.key, "")}
            for item in self._tracker.expectations.values()
        ]
        return (event_payload(reports) if reports else None), arguments

    def poke(self, context: Context) -> PokeReturnValue:
        payload, _ = self._check()
        if payload is not None:
            self.log.warning("Drift: %s", payload["message"])
        return PokeReturnValue(is_done=payload is not None, xcom_value=payload)

    def execute(self, context: Context) -> Any:  # noqa: RET503 - defer() raises TaskDeferred
        if not self.deferrable:
            return super().execute(context)
        payload, arguments = self._check()
        if payload is not None:
            self.log.warning("Drift: %s", payload["message"])
            return payload
        self.defer(
            trigger=ConfigMapDriftTrigger(**arguments),
            method_name="execute_complete",
            timeout=self.execution_timeout,
        )

    def execute_complete(self, context: Context, event: Mapping[str, Any]) -> dict[str, Any]:
        """Return the trigger's drift summary; fail with the trigger's finding when it could not watch."""
        if event.get("status") != "drift":
            raise _failure(
                str(event.get("message", "the drift trigger failed")), transient=bool(event.get("transient"))
            )
        self.log.warning("Drift: %s", event["message"])
        return dict(event)


def _failure(message: str, *, transient: bool) -> AirflowException:
    """Return the error to raise: a refusal (permission, missing CRD) fails without retries, an outage may retry."""
    return AirflowException(message) if transient else AirflowFailException(message)


__all__ = ["K8sConfigMapDriftSensor"]
