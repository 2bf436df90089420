"""``K8sConfigMapHook``: read ConfigMaps and custom resources as raw dicts, and reconcile desired ConfigMaps.

The read methods are public building blocks (the drift sensor and its triggers list the same objects the reconcile
reads): one paginated list per namespace and label selector, parsed as plain JSON rather than typed models (about
six times cheaper), returning the list's resourceVersion to watch from. :meth:`K8sConfigMapHook.reconcile` performs
a whole reconcile: validation before any request, the reads, the core's plan, the writes the plan asks for, the
core's report, and drift Events when allowed. Every request goes through the hook's one client (retry policy,
credential renewal); client errors leave as provider errors with findings (:meth:`diagnosed`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Unpack

from airflow_k8s_reconcile.domain.reconcile.desired.markers import selector
from airflow_k8s_reconcile.domain.reconcile.policy import Mode
from airflow_k8s_reconcile.hooks._reconcile import events as _events
from airflow_k8s_reconcile.hooks._reconcile.rest import DEFAULT_PAGE_SIZE, pages, segment
from airflow_k8s_reconcile.hooks._reconcile.run import (
    MAX_WORKERS,
    Result,
    Run,
    configmap_path,
    get_configmap as _get_configmap,
)
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec
    from airflow_k8s_reconcile.domain.reconcile.masking import Masking
    from airflow_k8s_reconcile.domain.reconcile.policy import Policy
    from airflow_k8s_reconcile.hooks._transport.retry import RetryPolicy
    from airflow_k8s_reconcile.hooks.arguments import ConnectionArguments, ConnectionFields

__all__ = ["K8sConfigMapHook", "LiveList", "LivePage", "ReconcileResult"]

ReconcileResult = Result
"""The report plus ``transient`` (a request kept failing with 429/5xx: retrying the task may help)."""


class LivePage(NamedTuple):
    """One page of a list: raw object dicts and the list's resourceVersion (the same on every page)."""

    items: list[dict[str, Any]]
    resource_version: str


class LiveList(NamedTuple):
    """A whole list: raw object dicts and the resourceVersion to start a watch from."""

    items: list[dict[str, Any]]
    resource_version: str


class K8sConfigMapHook(K8sReconcileHook):
    """Read and reconcile ConfigMaps through a ``k8s_reconcile`` connection (all arguments of the base hook).

    :param connection_fields: use these connection fields instead of looking the connection up in Airflow (the
        command line resolves from its own options, with no Airflow connection).
    """

    def __init__(
        self,
        k8s_reconcile_conn_id: str = K8sReconcileHook.default_conn_name,
        *,
        connection_fields: ConnectionFields | None = None,
        environ: Mapping[str, str] | None = None,
        logger_name: str | None = None,
        retry_policy: RetryPolicy | None = None,
        **arguments: Unpack[ConnectionArguments],
    ) -> None:
        super().__init__(
            k8s_reconcile_conn_id,
            environ=environ,
            logger_name=logger_name,
            retry_policy=retry_policy,
            **arguments,
        )
        self._given_fields = connection_fields

    def connection_fields(self) -> ConnectionFields:
        """Return the fields given to the constructor, else the Airflow connection's."""
        return self._given_fields if self._given_fields is not None else super().connection_fields()

    # --- reads (public: the drift sensor and triggers use them too) ------------------------------------------
    def iter_configmap_pages(
        self, namespace: str, label_selector: str | None = None, *, limit: int = DEFAULT_PAGE_SIZE
    ) -> Iterator[LivePage]:
        """Yield the pages of the namespace's ConfigMaps matching ``label_selector``; one page held at a time.

        :param namespace: the namespace.
        :param label_selector: default: the ConfigMaps this provider manages (``app.kubernetes.io/managed-by``).
        :param limit: items per page (``limit``/``continue`` pagination).
        """
        query = [("labelSelector", selector() if label_selector is None else label_selector or None)]
        with self.diagnosed(f"list configmaps in namespace {namespace}"):
            for page in pages(self.get_conn(), configmap_path(namespace), query=query, limit=limit):
                yield LivePage(page.items, page.resource_version)

    def list_configmaps(
        self, namespace: str, label_selector: str | None = None, *, limit: int = DEFAULT_PAGE_SIZE
    ) -> LiveList:
        """Return the namespace's ConfigMaps matching ``label_selector`` (default: ours) and the list's resourceVersion.

        Start a watch from ``resource_version`` to see every change after this list, without a gap.
        """
        items: list[dict[str, Any]] = []
        version = ""
        for page in self.iter_configmap_pages(namespace, label_selector, limit=limit):
            items += page.items
            version = version or page.resource_version
        return LiveList(items, version)

    def get_configmap(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Return one ConfigMap as a raw dict, or ``None`` when it does not exist."""
        with self.diagnosed(f"get configmaps in namespace {namespace}"):
            return _get_configmap(self.get_conn(), namespace, name)

    def list_custom_objects(
        self,
        group: str,
        version: str,
        plural: str,
        *,
        namespace: str | None = None,
        label_selector: str = "",
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> list[dict[str, Any]]:
        """Return custom resources as raw dicts, each with its ``apiVersion`` and ``kind``.

        :param group: API group, e.g. ``example.com``.
        :param version: e.g. ``v1``.
        :param plural: e.g. ``widgets``.
        :param namespace: one namespace; ``None`` for every namespace (or a cluster-scoped kind).
        :param label_selector: optional label selector.
        :param limit: items per page.
        """
        base = f"/apis/{segment(group)}/{segment(version)}"
        path = (
            f"{base}/namespaces/{segment(namespace)}/{segment(plural)}" if namespace else f"{base}/{plural}"
        )
        where = f"in namespace {namespace}" if namespace else "in all namespaces"
        items: list[dict[str, Any]] = []
        query = [("labelSelector", label_selector or None)]
        with self.diagnosed(f"list {plural}.{group} {where}"):
            for page in pages(self.get_conn(), path, query=query, limit=limit):
                kind = page.kind.removesuffix("List")
                for item in page.items:
                    item.setdefault("apiVersion", f"{group}/{version}")
                    item.setdefault("kind", kind)
                    items.append(item)
        return items

    # --- reconcile ---------------------------------------------------------------------------------------------
    def reconcile(
        self,
        specs: Sequence[ConfigMapSpec],
        policy: Policy,
        *,
        masking: Masking | None = None,
        namespaces: Sequence[str] = (),
        previous_report: Mapping[str, Any] | None = None,
        emit_events: bool = True,
        max_workers: int = MAX_WORKERS,
        page_size: int = DEFAULT_PAGE_SIZE,
        now: datetime | None = None,
    ) -> ReconcileResult:
        """Reconcile ``specs`` per ``policy`` and return the core's report (masked: safe for XCom and logs).

        Invalid specs are reported with every violation and nothing is read or written. In ``detect`` mode
        nothing is written; in ``dry_run`` every write carries ``dryRun=All``. Drift Events are posted (not in
        ``dry_run``) when ``emit_events``; the report's ``events`` says how many, and why not when refused.

        :param specs: the desired ConfigMaps.
        :param policy: owner, mode, foreign-object policy, prune, flap settings.
        :param masking: how values appear in the report (default: fingerprints only).
        :param namespaces: namespaces to read besides the specs' own: where ``prune`` looks for objects no longer
            desired (needed when the desired set is empty).
        :param previous_report: the previous run's report (remembered uids and flap history), if any.
        :param emit_events: post ``DriftDetected``/``DriftCorrected`` Events.
        :param max_workers: concurrent writes.
        :param page_size: items per list page.
        :param now: the time to plan at (default: now).
        :raises ClusterAccessError: reading failed (the finding says why, e.g. the missing ``list`` permission).
        """
        moment = now or datetime.now(UTC)
        server = self.resolve().source.server
        run = Run(api=None, policy=policy, now=moment, server=server, previous=previous_report,
                  namespaces=tuple(namespaces), page_size=page_size, max_workers=max_workers)  # fmt: skip
        with self.diagnosed(f"reconcile configmaps ({policy.mode.value})"):
            if specs or namespaces:
                run.api = self.get_conn()
            result = run.reconcile(specs, masking)
            events: dict[str, Any] = {"emitted": 0, "refused": None}
            if emit_events and policy.mode is not Mode.DRY_RUN and run.api is not None:
                events = _events.emit(run.api, result.report, mode=policy.mode, instance=policy.owner,
                                      now=moment, server=server)  # fmt: skip
                sent = events["emitted"] + (1 if events["refused"] else 0)
                if sent:
                    run.requests["event"] += sent
            result.report["events"] = events
            result.report["requests"] = dict(run.requests)
        if events["refused"]:
            self.log.warning("Drift Events were not posted: %s", events["refused"]["cause"])
        return result
