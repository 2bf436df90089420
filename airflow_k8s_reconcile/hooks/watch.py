"""List-then-watch of raw objects (ConfigMaps, input custom resources) that loses no change, for triggers.

The loop is client-go's reflector (``tools/cache/reflector.go``, ``ListAndWatch``): list (paginated), then watch from
the list's ``resourceVersion`` with ``allowWatchBookmarks=true`` and a server-side ``timeoutSeconds`` drawn from
[watch_seconds, 2 x watch_seconds] (the reflector's jitter, so many watchers do not reconnect in step), resume from
the last resourceVersion seen (events and BOOKMARKs) when the server ends the watch, and re-list when the server
says the resourceVersion is too old: ``410 Expired``/``Gone``, as an ERROR event in the stream or as the HTTP status.
After a dropped connection (reset, payload cut short, read timeout, refused while the API server restarts) it
re-lists too, as Kopf does on every watch restart: how long it was away is unknown, and a re-list costs one request.

A re-list is compared with the state known so far (as the reflector's ``DeltaFIFO.Replace``): objects that are
new or have another resourceVersion come out as ``ADDED``/``MODIFIED``, known objects missing from the list as
``DELETED`` (with their last known state), so a change made while the watch was down is delivered, not skipped.
Each (re-)list ends with a ``LISTED`` event naming the objects present, for callers that must notice an object
missing from the start.

Objects stay raw JSON dicts: parsing into the client's typed models costs about six times the JSON parse. Every
request goes through the hook's one client (its retry policy for 429/5xx/resets, its credential renewal, and its
watch-aware read timeout of ``timeoutSeconds + request_timeout``); consecutive failures back off with the policy's
delays (doubling, capped, jittered) and give up, as a transient :class:`ClusterAccessError`, after ``max_failures``.
Refusals (401, 403, 404: a missing CRD, say) are terminal and raised at once with their finding. Nothing here
blocks the event loop: I/O is aiohttp, and the stream is split on newlines by hand because aiohttp's
``readline`` refuses lines over its buffer limit and a ConfigMap event can be 1 MiB.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import random
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.exceptions import ClusterAccessError

if TYPE_CHECKING:
    from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
    from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook

PAGE_SIZE = 500
log = logging.getLogger(__name__)
_ACCEPT = {"Accept": "application/json"}


@dataclasses.dataclass(frozen=True, slots=True)
class WatchTarget:
    """One collection to list and watch.

    :param plural: resource plural, ``configmaps`` by default.
    :param group: API group, ``""`` for the core group.
    :param version: API version.
    :param namespace: the namespace; ``""`` for cluster-scoped resources or all namespaces.
    :param label_selector: e.g. ``app.kubernetes.io/managed-by=airflow-k8s-reconcile``.
    :param field_selector: e.g. ``metadata.name=app-config``.
    """

    plural: str = "configmaps"
    group: str = ""
    version: str = "v1"
    namespace: str = ""
    label_selector: str = ""
    field_selector: str = ""

    @property
    def path(self) -> str:
        """Return the collection's URL path."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        return (
            f"{base}/namespaces/{self.namespace}/{self.plural}" if self.namespace else f"{base}/{self.plural}"
        )

    def describe(self) -> str:
        """Return e.g. ``configmaps in namespace jobs``, for messages."""
        what = f"{self.plural}.{self.group}" if self.group else self.plural
        return f"{what} in namespace {self.namespace}" if self.namespace else f"{what} (cluster-wide)"

    def params(self) -> list[tuple[str, Any]]:
        """Return the selector query parameters."""
        out: list[tuple[str, Any]] = []
        if self.label_selector:
            out.append(("labelSelector", self.label_selector))
        if self.field_selector:
            out.append(("fieldSelector", self.field_selector))
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class ObjectEvent:
    """One object state, from the watch or from comparing a re-list with the known state.

    :param type: ``ADDED``, ``MODIFIED``, ``DELETED`` or ``LISTED`` (end of a (re-)list; ``object`` is ``None``).
    :param target: the collection it belongs to.
    :param object: the object dict (for ``DELETED``, its last state).
    :param from_list: derived from a (re-)list, not delivered by the watch.
    :param names: for ``LISTED``, the ``(namespace, name)`` of every object the list returned.
    :param resource_version: the collection's resourceVersion after this event.
    """

    type: str
    target: WatchTarget
    object: dict[str, Any] | None
    from_list: bool = False
    names: frozenset[tuple[str, str]] = frozenset()
    resource_version: str = ""


@dataclasses.dataclass(slots=True)
class WatchStats:
    """What the loop did, for logs, tests and the benchmark."""

    lists: int = 0
    watches: int = 0
    expired: int = 0
    drops: int = 0
    bookmarks: int = 0


class _Expired(Exception):
    """The resourceVersion is too old (410): re-list."""


def _key(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace", "")), str(meta.get("name", "")))


def _rv(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion", ""))


def _status_error(status: Mapping[str, Any], headers: Any = None) -> Exception:
    """Return the client's ``ApiException`` for a Kubernetes ``Status`` (410 becomes :class:`_Expired`)."""
    code = int(status.get("code") or 0)
    if code == 410 or status.get("reason") in {"Expired", "Gone"}:
        return _Expired(str(status.get("message", "")))
    from kubernetes_asyncio.client import ApiException

    error = ApiException(status=code or 500, reason=str(status.get("reason", "")))
    error.body = json.dumps(dict(status)).encode()
    error.headers = headers
    return error


async def alist_objects(
    api: Any, target: WatchTarget, *, page_size: int = PAGE_SIZE
) -> tuple[list[dict[str, Any]], str]:
    """List a collection as raw dicts, page by page (``limit``/``continue``); return (items, resourceVersion).

    A ``continue`` token the server no longer honours (410 after etcd compaction) restarts the list from the
    first page, as client-go's pager falls back to a full list.

    :param api: the hook's async ``ApiClient`` (from ``get_conn()``).
    """
    items: list[dict[str, Any]] = []
    token = ""
    while True:
        params = [*target.params(), ("limit", page_size)] + ([("continue", token)] if token else [])
        try:
            body = await api.call_api(
                target.path, "GET", query_params=params, header_params=dict(_ACCEPT),
                response_types_map={200: "object"}, auth_settings=["BearerToken"], _return_http_data_only=True,
            )  # fmt: skip
        except Exception as err:
            if not (token and getattr(err, "status", None) == 410):
                raise
            items, token = [], ""
            continue
        items += body.get("items") or []
        meta = body.get("metadata") or {}
        token = str(meta.get("continue") or "")
        if not token:
            return items, str(meta.get("resourceVersion", ""))


def list_objects(hook: K8sReconcileHook, target: WatchTarget) -> tuple[list[dict[str, Any]], str]:
    """List like :func:`alist_objects`, with the sync hook (a sensor's poke); errors translated."""
    items: list[dict[str, Any]] = []
    token = ""
    with hook.diagnosed(f"list {target.describe()}"):
        api = hook.get_conn()
        while True:
            params = [*target.params(), ("limit", PAGE_SIZE)] + ([("continue", token)] if token else [])
            body = api.call_api(
                target.path, "GET", query_params=params, header_params=dict(_ACCEPT),
                response_types_map={200: "object"}, auth_settings=["BearerToken"], _return_http_data_only=True,
            )  # fmt: skip
            items += body.get("items") or []
            meta = body.get("metadata") or {}
            token = str(meta.get("continue") or "")
            if not token:
                return items, str(meta.get("resourceVersion", ""))


async def _stream(
    api: Any, target: WatchTarget, resource_version: str, seconds: int
) -> AsyncIterator[dict[str, Any]]:
    """Yield the raw watch events of one watch request, until the server ends it."""
    params = [*target.params(), ("watch", True), ("resourceVersion", resource_version),
              ("allowWatchBookmarks", True), ("timeoutSeconds", seconds)]  # fmt: skip
    response = await api.call_api(
        target.path, "GET", query_params=params, header_params=dict(_ACCEPT),
        auth_settings=["BearerToken"], _preload_content=False,
    )  # fmt: skip
    try:
        if response.status != 200:
            text = await response.text()
            try:
                status = json.loads(text)
            except ValueError:
                status = {"code": response.status, "reason": response.reason or "", "message": text[:200]}
            raise _status_error({**status, "code": response.status}, response.headers)
        buffer = bytearray()
        async for chunk in response.content.iter_any():
            buffer += chunk
            while (end := buffer.find(b"\n")) >= 0:
                line = bytes(buffer[:end])
                del buffer[: end + 1]
                if line.strip():
                    yield json.loads(line)
    finally:
        response.release()


class ResourceWatch:
    """List-then-watch one :class:`WatchTarget` forever (see the module doc); iterate :meth:`events`.

    :param hook: the async hook (its client, retry policy and credential).
    :param target: what to watch.
    :param resource_version: resume from here instead of listing first (a 410 then re-lists).
    :param watch_seconds: the shortest server-side watch duration; each request asks for up to twice this.
    :param max_failures: consecutive failed attempts before giving up (``0``: never, for event triggers).
    :param rng: jitter source (tests pass a seeded one).
    """

    def __init__(
        self,
        hook: AsyncK8sReconcileHook,
        target: WatchTarget,
        *,
        resource_version: str = "",
        watch_seconds: int = 300,
        max_failures: int = 10,
        rng: random.Random | None = None,
    ) -> None:
        self.hook = hook
        self.target = target
        self.resource_version = resource_version
        self.watch_seconds = max(1, int(watch_seconds))
        self.max_failures = max_failures
        self.stats = WatchStats()
        self.known: dict[tuple[str, str], dict[str, Any]] = {}
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    def _backoff(self, failures: int) -> float:
        policy = self.hook.retry_policy
        delay = min(policy.max_delay, policy.initial_delay * 2.0 ** (failures - 1))
        return min(policy.max_delay, delay * (1 + policy.jitter * self._rng.random()))

    def _compare(self, items: Sequence[dict[str, Any]], version: str) -> list[ObjectEvent]:
        """Return the events that turn the known state into the listed one (``DeltaFIFO.Replace``)."""
        listed = {_key(item): item for item in items}
        out = []
        for key, item in listed.items():
            before = self.known.get(key)
            if before is None or _rv(before) != _rv(item):
                kind = "ADDED" if before is None else "MODIFIED"
                out.append(ObjectEvent(kind, self.target, item, from_list=True, resource_version=version))
        for key in sorted(set(self.known) - set(listed)):
            out.append(
                ObjectEvent("DELETED", self.target, self.known[key], from_list=True, resource_version=version)
            )
        self.known = dict(listed)
        out.append(ObjectEvent("LISTED", self.target, None, True, frozenset(listed), version))
        return out

    def _apply(self, raw: Mapping[str, Any]) -> ObjectEvent | None:
        kind, obj = str(raw.get("type", "")), raw.get("object") or {}
        if kind == "ERROR":
            raise _status_error(obj)
        if _rv(obj):
            self.resource_version = _rv(obj)
        if kind == "BOOKMARK":
            self.stats.bookmarks += 1
            return None
        if kind == "DELETED":
            self.known.pop(_key(obj), None)
        elif kind in {"ADDED", "MODIFIED"}:
            self.known[_key(obj)] = obj
        else:
            return None
        return ObjectEvent(kind, self.target, obj, resource_version=self.resource_version)

    async def events(self) -> AsyncIterator[ObjectEvent]:
        """Yield object events forever; raise a provider error when the API server refuses or stays away."""
        relist = not self.resource_version
        failures = 0
        action = f"watch {self.target.describe()}"
        async with self.hook.get_conn() as api:
            while True:
                try:
                    with self.hook.diagnosed(action):
                        try:
                            if relist:
                                self.stats.lists += 1
                                items, self.resource_version = await alist_objects(api, self.target)
                                relist, failures = False, 0
                                for event in self._compare(items, self.resource_version):
                                    yield event
                            seconds = int(self.watch_seconds * (1 + self._rng.random()))
                            self.stats.watches += 1
                            # Any change after this resourceVersion reaches this watch, even one made before
                            # the server has opened it: tests wait for this line before they tamper.
                            log.debug("Watching %s from resourceVersion %s", self.target.describe(),
                                      self.resource_version)  # fmt: skip
                            async for raw in _stream(api, self.target, self.resource_version, seconds):
                                failures = 0
                                if (change := self._apply(raw)) is not None:
                                    yield change
                        except _Expired:
                            # The reflector re-lists at once: the server is fine, our position is not.
                            self.stats.expired += 1
                            relist = True
                            continue
                except ClusterAccessError as err:
                    if not err.transient:
                        raise
                    failures += 1
                    self.stats.drops += 1
                    relist = True
                    if self.max_failures and failures >= self.max_failures:
                        raise
                    log.info("Watch of %s failed (%s); re-listing after backoff (failure %d)",
                             self.target.describe(), err.finding.code if err.finding else err, failures)  # fmt: skip
                    await asyncio.sleep(self._backoff(failures))


async def watch_targets(
    hook: AsyncK8sReconcileHook, targets: Iterable[WatchTarget], **options: Any
) -> AsyncIterator[ObjectEvent]:
    """Merge the events of one :class:`ResourceWatch` per target (each in its own task) into one stream.

    :param options: passed to every :class:`ResourceWatch` (``resource_version``, ``watch_seconds``, ...).
    """
    queue: asyncio.Queue[ObjectEvent | BaseException] = asyncio.Queue()
    watches = [ResourceWatch(hook, target, **options) for target in dict.fromkeys(targets)]

    async def pump(watch: ResourceWatch) -> None:
        try:
            async for event in watch.events():
                await queue.put(event)
        except Exception as err:  # handed to the consumer, which raises it
            await queue.put(err)

    tasks = [asyncio.create_task(pump(watch)) for watch in watches]
    try:
        while True:
            item = await queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


__all__ = [
    "PAGE_SIZE",
    "ObjectEvent",
    "ResourceWatch",
    "WatchStats",
    "WatchTarget",
    "alist_objects",
    "list_objects",
    "watch_targets",
]
