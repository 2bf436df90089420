"""``K8sReconcileConfigMapsOperator``: keep generated ConfigMaps exactly as declared, and say who changed them.

Thin by design: arguments are checked here (after templating, in ``execute``), the hook reads and writes, the core
(``domain/reconcile``) decides and reports. Nothing heavy is imported when a DAG file is parsed: the hook, the
Kubernetes client and the core load inside ``execute``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_k8s_reconcile.compat import AirflowFailException
from airflow_k8s_reconcile.permissions import Permission, PermissionPreflightMixin

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec
    from airflow_k8s_reconcile.domain.reconcile.policy import Policy
    from airflow_k8s_reconcile.findings import Finding
    from airflow_k8s_reconcile.hooks.configmaps import K8sConfigMapHook

MODES = ("enforce", "detect", "dry_run")
ON_FOREIGN = ("fail", "adopt", "skip")
REPORT_KEY = "reconcile_report"
"""The XCom key the report is always pushed under (also on failure); the next run reads its uids and rewrites."""
_CHANGED = frozenset({"created", "updated", "restored", "pruned"})


class K8sReconcileConfigMapsOperator(PermissionPreflightMixin, BaseOperator):
    """Reconcile ConfigMaps: create, restore, strip foreign keys, prune; report drift with who caused it.

    The live state is read with one list per namespace (plus a get per desired name not labelled yet); only what
    drifted is written, with server-side apply (field manager ``airflow-k8s-reconcile``) and resourceVersion-guarded
    JSON patches. The masked report (values appear as fingerprints) is logged as a readable summary, pushed to
    XCom under ``reconcile_report`` (and returned), and, when content changed, attached to each outlet Asset's
    event. Terminal problems (invalid specs, missing permissions, a foreign or contested object, drift in
    ``detect`` mode with ``fail_on_drift``) fail the task without retries; throttling and server errors that
    outlast the hook's retry policy raise a retryable error.

    :param configmaps: desired ConfigMaps (templated): dicts with ``name``, ``namespace``, ``data``,
        ``binary_data`` (bytes or base64 text), ``labels``, ``annotations``, ``immutable``.
    :param files: manifest files (multi-document YAML of v1 ConfigMaps), templated.
    :param namespace: namespace of specs that name none (default: the connection's), templated.
    :param mode: ``enforce`` (default), ``detect`` (report only) or ``dry_run`` (server-side ``dryRun=All``).
    :param owner_id: owner id stamped on the objects (default ``<dag_id>/<task_id>``), templated. Not ``owner``:
        that is Airflow's task owner, often set for a whole DAG in ``default_args``, and two tasks sharing it would
        silently share (and fight over) their ConfigMaps.
    :param on_foreign: an existing object without our marker: ``fail`` (default), ``adopt`` or ``skip``.
    :param prune: delete ConfigMaps this owner created that are no longer desired.
    :param allow_empty_prune: let prune run with an empty desired set (it would delete everything it owns).
    :param force: take fields back from other managers (server-side apply ``force``); else report the conflict.
    :param recreate_immutable: delete and recreate an immutable ConfigMap whose content must change.
    :param rotate_immutable: give immutable specs hash-suffixed names (``<name>-<hash10>``), keeping ``keep_last``.
    :param keep_last: rotations kept per base name.
    :param flap_threshold: rewrites by one foreign manager tolerated within ``flap_window`` before giving up.
    :param flap_window: the flap window.
    :param fail_on_drift: in ``detect`` mode, fail the task when something drifted.
    :param show_values: show values of keys matching no sensitive pattern in the report (default: never).
    :param sensitive_keys: ``fnmatch`` patterns of keys always masked (default: the core's broad list).
    :param emit_events: post ``DriftDetected``/``DriftCorrected`` Events on drifted ConfigMaps (RBAC may refuse).
    :param max_workers: concurrent writes.
    :param k8s_reconcile_conn_id: the Kubernetes connection.
    :param preflight: before writing, check that the identity holds :attr:`required_permissions` (one rules review
        per namespace, cached per worker for 5 minutes); a missing one fails the task with the Role to apply
        instead of a 403 halfway through.
    """

    template_fields: Sequence[str] = ("configmaps", "files", "namespace", "owner_id", "k8s_reconcile_conn_id")
    template_ext: Sequence[str] = ()
    ui_color = "#e4f0e8"

    def __init__(
        self,
        *,
        configmaps: Sequence[Mapping[str, Any]] | str = (),
        files: Sequence[str] | str = (),
        namespace: str | None = None,
        mode: str = "enforce",
        owner_id: str | None = None,
        on_foreign: str = "fail",
        prune: bool = False,
        allow_empty_prune: bool = False,
        force: bool = True,
        recreate_immutable: bool = False,
        rotate_immutable: bool = False,
        keep_last: int = 3,
        flap_threshold: int = 3,
        flap_window: timedelta = timedelta(hours=1),
        fail_on_drift: bool = True,
        show_values: bool = False,
        sensitive_keys: Sequence[str] | None = None,
        emit_events: bool = True,
        max_workers: int = 4,
        k8s_reconcile_conn_id: str = "k8s_reconcile_default",
        preflight: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.configmaps = configmaps
        self.files = files
        self.namespace = namespace
        self.mode = mode
        self.owner_id = owner_id
        self.on_foreign = on_foreign
        self.prune = prune
        self.allow_empty_prune = allow_empty_prune
        self.force = force
        self.recreate_immutable = recreate_immutable
        self.rotate_immutable = rotate_immutable
        self.keep_last = keep_last
        self.flap_threshold = flap_threshold
        self.flap_window = flap_window
        self.fail_on_drift = fail_on_drift
        self.show_values = show_values
        self.sensitive_keys = sensitive_keys
        self.emit_events = emit_events
        self.max_workers = max_workers
        self.k8s_reconcile_conn_id = k8s_reconcile_conn_id
        self.preflight = preflight

    @property
    def required_permissions(self) -> tuple[Permission, ...]:
        """Return what this task needs from RBAC, from its arguments (the preflight checks these).

        A ``namespace`` of ``""`` means the namespace the task runs in (the connection's);
        ``airflow-k8s-reconcile rbac`` renders the same declarations as YAML.
        """
        namespaces = sorted(_literal_namespaces(self.configmaps, self.namespace)) or [""]
        verbs = ["get", "list"]
        if self.mode != "detect":
            verbs += ["create", "patch"]
        if self.mode != "detect" and (self.prune or self.recreate_immutable or self.rotate_immutable):
            verbs.append("delete")
        out = [Permission(verbs=tuple(verbs), resource="configmaps", namespace=ns) for ns in namespaces]
        if self.emit_events and self.mode != "dry_run":
            out += [
                Permission(verbs=("create",), group="events.k8s.io", resource="events", namespace=ns)
                for ns in namespaces
            ]
        return tuple(out)

    @property
    def preflight_permissions(self) -> tuple[Permission, ...]:
        """Return what the gate checks: :attr:`required_permissions` but the Events.

        Events are best effort: a refused Event is reported in the result, it does not fail the task.
        """
        return tuple(p for p in self.required_permissions if p.resource != "events")

    # --- execute ---------------------------------------------------------------------------------------------
    def execute(self, context: Context) -> dict[str, Any]:
        self._check_arguments()
        from airflow_k8s_reconcile.exceptions import ClusterAccessError, ConnectionConfigError
        from airflow_k8s_reconcile.hooks.configmaps import K8sConfigMapHook

        hook = K8sConfigMapHook(self.k8s_reconcile_conn_id)
        try:
            return self._reconcile(hook, context)
        except ConnectionConfigError as err:
            raise AirflowFailException(err.finding.render()) from err
        except ClusterAccessError as err:
            if err.transient:
                raise  # Airflow's retries: the API server may answer later
            raise AirflowFailException(err.finding.render() if err.finding else str(err)) from err
        finally:
            hook.close()

    def _check_arguments(self) -> None:
        problems = []
        if self.mode not in MODES:
            problems.append(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.on_foreign not in ON_FOREIGN:
            problems.append(f"on_foreign must be one of {', '.join(ON_FOREIGN)}, not {self.on_foreign!r}")
        if isinstance(self.configmaps, str | bytes) or not isinstance(self.configmaps, Sequence):
            problems.append(
                "configmaps must be a list of dicts (render_template_as_native_obj=True for templates)"
            )
        if isinstance(self.files, str):
            problems.append(
                f"files must be a list of paths, not the string {self.files!r}; write files=[{self.files!r}]"
            )
        if not isinstance(self.keep_last, int) or self.keep_last < 1:
            problems.append(f"keep_last must be a positive integer, not {self.keep_last!r}")
        window: object = self.flap_window  # typed timedelta, but DAG authors pass what they pass
        if not isinstance(window, timedelta):
            problems.append("flap_window must be a datetime.timedelta")
        if problems:
            raise AirflowFailException("Invalid arguments: " + "; ".join(problems) + ".")

    def desired_specs(
        self, hook: K8sConfigMapHook, namespace: str
    ) -> tuple[list[ConfigMapSpec], list[Finding]]:
        """Return the desired specs and every problem found building them; subclasses generate theirs."""
        from airflow_k8s_reconcile.hooks.manifests import load_manifests, specs_from_mappings

        specs, found = specs_from_mappings(self.configmaps, namespace=namespace)
        more, problems = load_manifests(self.files, namespace=namespace)
        return specs + more, found + problems

    def _policy(self, context: Context) -> Policy:
        from airflow_k8s_reconcile.domain.reconcile.desired.markers import default_owner
        from airflow_k8s_reconcile.domain.reconcile.policy import Mode, OnForeign, Policy

        owner = self.owner_id or default_owner(self.dag_id, self.task_id)
        return Policy(
            owner=owner,
            mode=Mode(self.mode),
            on_foreign=OnForeign(self.on_foreign),
            force=self.force,
            prune=self.prune,
            allow_empty_prune=self.allow_empty_prune,
            recreate_immutable=self.recreate_immutable,
            keep_last=self.keep_last,
            flap_threshold=self.flap_threshold,
            flap_window=self.flap_window,
        )

    def _reconcile(self, hook: K8sConfigMapHook, context: Context) -> dict[str, Any]:
        from airflow_k8s_reconcile.domain.reconcile.desired.markers import with_hash_suffix
        from airflow_k8s_reconcile.domain.reconcile.desired.validation import validate_specs
        from airflow_k8s_reconcile.domain.reconcile.masking import DEFAULT_SENSITIVE, Masking
        from airflow_k8s_reconcile.domain.reconcile.report import render

        namespace = self.namespace or hook.get_namespace()
        specs, problems = self.desired_specs(hook, namespace)
        policy = self._policy(context)
        if problems:  # every problem at once: the manifests' and the specs' own
            problems += validate_specs(specs, owner=policy.owner)
            raise AirflowFailException(
                _failure("The desired ConfigMaps are invalid; nothing was written", problems)
            )
        if self.rotate_immutable:
            specs = [with_hash_suffix(spec) if spec.immutable else spec for spec in specs]
        masking = Masking(
            sensitive=tuple(self.sensitive_keys or DEFAULT_SENSITIVE), show_values=self.show_values
        )
        self.preflight_before_acting(hook, context)  # after validation: bad input is named before any request
        with self.permission_denied_guard():
            result = hook.reconcile(
                specs,
                policy,
                masking=masking,
                namespaces=[namespace] if self.prune else [],
                previous_report=_previous(context, self.task_id),
                emit_events=self.emit_events,
                max_workers=self.max_workers,
            )
        report = result.report
        for line in render(report).splitlines():
            self.log.info("%s", line)
        _push(context, report)
        self._announce(context, report)
        return self._verdict(report, transient=result.transient)

    def _verdict(self, report: dict[str, Any], *, transient: bool) -> dict[str, Any]:
        summary = report["summary"]
        if summary["in_sync"] or (
            self.mode != "enforce" and not self.fail_on_drift and not report["findings"]
        ):
            return report
        from airflow_k8s_reconcile.findings import Finding as _Finding

        items = [_Finding(**_fields(item)) for item in report["findings"]]
        items += [_Finding(**_fields(item)) for entry in report["objects"] for item in entry["findings"]]
        message = _failure(f"Reconcile ({summary['mode']}) did not end in sync", items)
        if transient:
            raise RuntimeError(message)  # retryable: a request kept failing with 429/5xx
        raise AirflowFailException(message)

    def _announce(self, context: Context, report: dict[str, Any]) -> None:
        """Attach the change summary to each outlet Asset's event (downstream DAGs see what changed)."""
        changed = [f"{e['namespace']}/{e['name']}" for e in report["objects"] if e["status"] in _CHANGED]
        if not self.outlets or report["summary"]["mode"] != "enforce":
            return
        events = context.get("outlet_events")
        if events is None:
            return
        for outlet in self.outlets:
            try:
                events[outlet].extra = {"changed": bool(changed), "configmaps": list[Any](changed[:100])}
            except (KeyError, TypeError, AttributeError):
                self.log.debug("Outlet %r takes no event extra", outlet)


def _fields(item: Mapping[str, Any]) -> dict[str, Any]:
    from airflow_k8s_reconcile.findings import Status

    return {
        "code": item["code"],
        "status": Status(item["status"]),
        "title": item["title"],
        "cause": item["cause"],
        "fix": item.get("fix", ""),
    }


def _failure(headline: str, findings: Sequence[Finding]) -> str:
    shown = [item.render() for item in findings if item.status.value == "fail"] or [
        item.render() for item in findings
    ]
    more = f"\n(and {len(shown) - 20} more)" if len(shown) > 20 else ""
    return headline + ":\n" + "\n".join(shown[:20]) + more


def _literal_namespaces(configmaps: Any, namespace: str | None) -> set[str]:
    """Return the namespaces knowable before templating ('' for "the task's namespace")."""
    out = set()
    if isinstance(configmaps, Sequence) and not isinstance(configmaps, str):
        for item in configmaps:
            value = item.get("namespace") if isinstance(item, Mapping) else None
            out.add(value if isinstance(value, str) and "{{" not in value else "")
    if namespace and "{{" not in namespace:
        out = {ns or namespace for ns in out} or {namespace}
    return out


def _previous(context: Context, task_id: str) -> dict[str, Any] | None:
    """Return this task's report from its previous run (remembered uids and rewrites), if Airflow has one."""
    ti = context.get("ti")
    if ti is None:
        return None
    try:
        value = ti.xcom_pull(task_ids=task_id, key=REPORT_KEY, include_prior_dates=True)
    except Exception:  # no previous run, or no XCom backend in this context: start without history
        return None
    return value if isinstance(value, dict) else None


def _push(context: Context, report: dict[str, Any]) -> None:
    ti = context.get("ti")
    if ti is not None:
        ti.xcom_push(key=REPORT_KEY, value=report)


__all__ = ["K8sReconcileConfigMapsOperator"]
