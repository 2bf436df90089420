"""Declared permissions: every operator and sensor of this package says what RBAC it needs, and checks it first.

A task of this package declares ``required_permissions`` (derived from its arguments: the namespaces it works in,
the objects it touches). :class:`PermissionPreflightMixin` runs the preflight for exactly those before the task
acts, so a missing permission fails the task up front with the identity, the missing verb and resource, and the
least-privilege Role to apply, instead of a 403 halfway through a reconcile. ``airflow-k8s-reconcile rbac`` reads the
same declarations from a DAG folder to print the RBAC for a deployment: one source of truth.

The check is cached per process for :data:`DEFAULT_TTL` seconds, keyed by connection id, the resolved connection's
secret-free fingerprint (server, mode, credential kind and subject, namespace...), the namespaces and the permission
set: a worker running many tasks on one connection asks the API server once per five minutes, not once per task.
A 401/403 at run time (:class:`~airflow_k8s_reconcile.exceptions.PermissionDeniedError`) drops the connection's
entries, so the next task checks again.

Public and cheap to import (DAG files import it through the operators): the hooks are imported when a check runs.
``Permission``, ``PermissionCheck``, ``PermissionSpecError`` and ``parse_spec`` are the very objects
:mod:`airflow_k8s_reconcile.preflight` exports, re-exported here so that declaring permissions does not import the
preflight's check pipeline at every DAG parse.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from airflow_k8s_reconcile.compat import AirflowFailException
from airflow_k8s_reconcile.domain.preflight.outcome import WaitFor, outcome
from airflow_k8s_reconcile.domain.preflight.permissions import (
    Permission,
    PermissionCheck,
    PermissionSpecError,
    parse_spec,
)
from airflow_k8s_reconcile.exceptions import (
    ConnectionConfigError,
    PermissionDeniedError,
    PreflightFailedError,
)
from airflow_k8s_reconcile.findings import Status

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Report

# The values of domain.preflight.pipeline.Mode (what the hooks' preflight accepts), spelled out so a DAG parse does not
# import the pipeline; mypy checks the hooks against PreflightHook, so the two cannot drift apart.
PreflightChecks = Literal["all", "fast", "rbac"]
PermissionLike = Permission | str
DEFAULT_TTL = 300.0
_LOG = logging.getLogger(__name__)


@runtime_checkable
class DeclaresPermissions(Protocol):
    """A task that says which permissions it needs (read by the gate and by ``airflow-k8s-reconcile rbac``)."""

    @property
    def required_permissions(self) -> Sequence[Permission]:
        """Return the permissions the task needs, derived from its arguments."""
        ...


class PreflightHook(Protocol):
    """What the gate and the operators need of a hook (``K8sReconcileHook`` has it; tests pass fakes)."""

    k8s_reconcile_conn_id: str

    def explain(self) -> dict[str, object]:
        """Return the secret-free explanation of the resolved connection."""
        ...

    def preflight(
        self,
        permissions: Sequence[Permission] = (),
        namespaces: Sequence[str] = (),
        checks: PreflightChecks = "all",
    ) -> Report:
        """Run the preflight checks and return the report (never raises for configuration or API failures)."""
        ...


class AsyncPreflightHook(Protocol):
    """The async twin of :class:`PreflightHook` (``AsyncK8sReconcileHook``), for triggers."""

    async def preflight(
        self,
        permissions: Sequence[Permission] = (),
        namespaces: Sequence[str] = (),
        checks: PreflightChecks = "all",
    ) -> Report:
        """Run the preflight checks and return the report."""
        ...


def as_permissions(items: Iterable[PermissionLike | Mapping[str, Any]]) -> tuple[Permission, ...]:
    """Return ``items`` as permissions: SPEC strings (``"get,list:configmaps"``) parsed, field mappings built.

    :raises PermissionSpecError: naming the malformed SPEC and how to write it.
    """
    if isinstance(items, str):
        raise PermissionSpecError(
            f"permissions must be a list, not the string {items!r}; write permissions=[{items!r}]"
        )
    out: list[Permission] = []
    for item in items:
        if isinstance(item, Permission):
            out.append(item)
        elif isinstance(item, str):
            out.append(parse_spec(item))
        elif isinstance(item, Mapping):  # Permission's fields, as a trigger's kwargs or a YAML file hold them
            out.append(_from_fields(item))
        else:
            raise PermissionSpecError(
                f"a permission must be a Permission or a SPEC string such as 'get,list:configmaps', "
                f"not {type(item).__name__}"
            )
    return tuple(out)


def _from_fields(fields: Mapping[str, Any]) -> Permission:
    names = {field.name for field in dataclasses.fields(Permission)}
    unknown = sorted(set(fields) - names)
    if unknown or "verbs" not in fields or isinstance(fields["verbs"], str):
        raise PermissionSpecError(
            f"a permission mapping needs 'verbs' (a list) and only {', '.join(sorted(names))}; "
            f"got {', '.join(map(str, fields))}"
        )
    return Permission(**{**fields, "verbs": tuple(fields["verbs"])})


def in_namespaces(permissions: Iterable[Permission], namespaces: Iterable[str]) -> tuple[Permission, ...]:
    """Return ``permissions`` with each namespace-less one repeated in every namespace (kept as is if none).

    This is how a task's arguments become its declaration: ``get:configmaps`` for a task working in ``jobs``
    and ``etl`` is ``get configmaps in jobs`` and ``get configmaps in etl``.
    """
    targets = tuple(dict.fromkeys(ns for ns in namespaces if ns))
    out: dict[Permission, None] = {}
    for permission in permissions:
        if permission.namespace or permission.url or not targets:
            out[permission] = None
            continue
        for namespace in targets:
            out[dataclasses.replace(permission, namespace=namespace)] = None
    return tuple(out)


@dataclasses.dataclass(frozen=True, slots=True)
class PreflightCacheKey:
    """What a cached pass is valid for (see :func:`cache_key`)."""

    conn_id: str
    fingerprint: str
    namespaces: tuple[str, ...]
    permissions: frozenset[Permission]
    checks: str


class PreflightCache:
    """Passing preflight reports, per process, for ``ttl`` seconds (thread-safe).

    Only passes are kept: a failure must be re-checked every time (someone may have fixed it meanwhile).

    :param ttl: seconds an entry stays valid.
    :param clock: monotonic seconds (tests pass a fake).
    """

    def __init__(self, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[PreflightCacheKey, tuple[float, Report]] = {}

    def get(self, key: PreflightCacheKey) -> Report | None:
        """Return the cached report for ``key`` unless it expired."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if self._clock() - entry[0] >= self.ttl:
                del self._entries[key]
                return None
            return entry[1]

    def put(self, key: PreflightCacheKey, report: Report) -> None:
        """Remember a passing ``report``."""
        with self._lock:
            self._entries[key] = (self._clock(), report)

    def invalidate(self, conn_id: str | None = None) -> int:
        """Forget every entry of ``conn_id`` (all entries if ``None``); return how many were dropped."""
        with self._lock:
            doomed = [key for key in self._entries if conn_id is None or key.conn_id == conn_id]
            for key in doomed:
                del self._entries[key]
            return len(doomed)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


PREFLIGHT_CACHE = PreflightCache()


def cache_key(
    conn_id: str,
    explanation: Mapping[str, object],
    permissions: Iterable[Permission],
    namespaces: Iterable[str],
    checks: str,
) -> PreflightCacheKey:
    """Return the cache key: connection id, the resolved connection's fingerprint, namespaces, permissions."""
    blob = json.dumps(explanation, sort_keys=True, default=str).encode()
    return PreflightCacheKey(
        conn_id=conn_id,
        fingerprint=hashlib.sha256(blob).hexdigest(),
        namespaces=tuple(sorted(set(namespaces))),
        permissions=frozenset(permissions),
        checks=checks,
    )


def decisive_fix(report: Report) -> str:
    """Return ``[CODE] Fix: ...`` of the report's first failing finding (``""`` when nothing failed).

    The headline names the check and the cause; this names the finding's code (what to search for in the docs) and
    what to do, so a task log or a trigger event is actionable on its own.
    """
    failed = next((finding for finding in report.findings if finding.status is Status.FAIL), None)
    if failed is None:
        return ""
    return f"[{failed.code}] Fix: {failed.fix}" if failed.fix else f"[{failed.code}]"


def failure_message(report: Report) -> str:
    """Return the report's headline, the failing finding's code and fix, and for missing permissions what to apply."""
    lines = [report.headline]
    if fix := decisive_fix(report):
        lines.append(fix)
    remediation = report.to_dict().get("remediation")
    if isinstance(remediation, Mapping) and remediation.get("rbac_yaml"):
        lines += ["Grant the missing permissions (as a cluster admin, `kubectl apply -f -`):", ""]
        lines.append(str(remediation["rbac_yaml"]).rstrip())
        commands = remediation.get("commands") or ()
        if commands:
            lines += ["", "or run:", *(f"  {command}" for command in commands)]
    return "\n".join(lines)


class TaskLog(Protocol):
    """The part of a logger the gate uses (Airflow's task logger is a structlog proxy, not a ``logging.Logger``)."""

    def info(self, msg: str, /, *args: object) -> None:
        """Log at INFO."""

    def warning(self, msg: str, /, *args: object) -> None:
        """Log at WARNING."""


def log_report(log: TaskLog, report: Report) -> None:
    """Log the report line by line (one INFO record each, so Airflow's log view keeps them apart)."""
    for line in report.render().splitlines():
        log.info("%s", line)


def push_report(context: Mapping[str, Any], report: Report, key: str = "preflight") -> None:
    """Push the secret-free report as an XCom under ``key`` when the task runs for real (context has ``ti``)."""
    ti = context.get("ti")
    if ti is not None:
        ti.xcom_push(key=key, value=report.to_dict())


class PermissionPreflightMixin:
    """Check a task's ``required_permissions`` before it acts; mix into a ``BaseOperator`` subclass.

    The operator stores ``preflight`` (default true) and ``k8s_reconcile_conn_id`` in ``__init__``, overrides
    :attr:`required_permissions`, and in ``execute`` calls :meth:`preflight_before_acting` with its hook, then does
    its work inside :meth:`permission_denied_guard`::

        def execute(self, context):
            hook = K8sReconcileHook(self.k8s_reconcile_conn_id)
            self.preflight_before_acting(hook, context)
            with self.permission_denied_guard():
                ...

    A missing permission (or any other failure no retry fixes) raises ``AirflowFailException`` with the headline
    and the Role to apply; an outage raises :class:`~airflow_k8s_reconcile.exceptions.PreflightFailedError`, which
    Airflow retries.
    """

    preflight: bool = True
    k8s_reconcile_conn_id: str
    #: The checks run before acting. ``rbac`` only: the task's own requests diagnose network and TLS failures
    #: anyway (hooks translate them into findings), so the gate pays one rules review per namespace, no more.
    preflight_checks: ClassVar[PreflightChecks] = "rbac"
    preflight_cache: ClassVar[PreflightCache] = PREFLIGHT_CACHE

    @property
    def required_permissions(self) -> Sequence[Permission]:
        """Return the permissions this task needs; override (derive them from the rendered arguments)."""
        return ()

    @property
    def preflight_permissions(self) -> Sequence[Permission]:
        """Return what the gate checks: :attr:`required_permissions`, less what the task can do without."""
        return self.required_permissions

    def _preflight_log(self) -> TaskLog:
        log: TaskLog = getattr(self, "log", _LOG)
        return log

    def preflight_before_acting(self, hook: PreflightHook, context: Mapping[str, Any]) -> Report | None:
        """Run (or reuse) the preflight for :attr:`preflight_permissions`; raise if the task cannot succeed.

        :return: the report, or ``None`` when the preflight is off or nothing is required.
        :raises AirflowFailException: a missing permission, a broken connection: the headline and remediation.
        :raises PreflightFailedError: the API server did not answer (transient; Airflow's retries apply).
        """
        permissions = tuple(self.preflight_permissions)
        if not self.preflight or not permissions:
            return None
        log = self._preflight_log()
        try:
            key: PreflightCacheKey | None = cache_key(
                self.k8s_reconcile_conn_id, hook.explain(), permissions, (), self.preflight_checks
            )
        except ConnectionConfigError:  # the preflight reports it, with its fix
            key = None
        cached = self.preflight_cache.get(key) if key is not None else None
        if cached is not None:
            log.info(
                "Preflight: %d permission(s) passed less than %ds ago on this worker: %s",
                len(permissions),
                int(self.preflight_cache.ttl),
                cached.headline,
            )
            return cached
        report = hook.preflight(permissions=permissions, checks=self.preflight_checks)
        log_report(log, report)
        push_report(context, report)
        result = outcome(report.findings)
        if result == "transient":
            failing = [finding for finding in report.findings if finding.status is Status.FAIL]
            raise PreflightFailedError(report.headline, failing)
        if result != "ok":
            raise AirflowFailException(failure_message(report))
        if key is not None:
            self.preflight_cache.put(key, report)
        return report

    @contextlib.contextmanager
    def permission_denied_guard(self) -> Iterator[None]:
        """Turn a 401/403 met while acting into a terminal failure, and forget cached passes of the connection.

        A denial after a passing preflight means the RBAC changed since (or the task needs more than it
        declares): the next task on this connection must not trust the cached pass.
        """
        try:
            yield
        except PermissionDeniedError as err:
            dropped = self.preflight_cache.invalidate(self.k8s_reconcile_conn_id)
            self._preflight_log().warning(
                "Permission denied at run time; forgot %d cached preflight pass(es) of connection %r",
                dropped,
                self.k8s_reconcile_conn_id,
            )
            detail = err.finding.render() if err.finding is not None else err.message
            raise AirflowFailException(detail) from err


__all__ = [
    "DEFAULT_TTL",
    "PREFLIGHT_CACHE",
    "AsyncPreflightHook",
    "DeclaresPermissions",
    "Permission",
    "PermissionCheck",
    "PermissionLike",
    "PermissionPreflightMixin",
    "PermissionSpecError",
    "PreflightCache",
    "PreflightCacheKey",
    "PreflightChecks",
    "PreflightHook",
    "TaskLog",
    "WaitFor",
    "as_permissions",
    "cache_key",
    "decisive_fix",
    "failure_message",
    "in_namespaces",
    "log_report",
    "parse_spec",
    "push_report",
]
