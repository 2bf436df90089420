"""Flap protection: stop restoring when the same foreign manager keeps rewriting our keys.

Two controllers that each enforce their own value fight forever, and each round costs writes and watch events
(argo-cd#18417: two apps fighting over CRDs took an API server down). Argo CD backs its self-heal off
exponentially; we go further and stop: when one foreign field manager rewrote a ConfigMap's keys more than
``threshold`` times within ``window``, the plan fails that object and names the manager, so a human settles who
owns the setting. The history is the attribution of earlier runs (the hooks keep it, e.g. in the previous report)
plus this run's; identical observations are counted once, so re-reading the same ``managedFields`` entry in
several detect runs is not mistaken for several rewrites.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from airflow_k8s_reconcile.domain.reconcile.desired.spec import FIELD_MANAGER

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.reconcile.drift.attribution import Attribution


class Rewrite(NamedTuple):
    """One observed rewrite of a ConfigMap we own by a foreign manager (the ``managedFields`` time)."""

    namespace: str
    name: str
    manager: str
    time: str

    def to_dict(self) -> dict[str, str]:
        """Return the JSON shape kept between runs."""
        return self._asdict()


class Flap(NamedTuple):
    """A manager that rewrote one ConfigMap too often."""

    manager: str
    times: int


def rewrites(
    namespace: str, name: str, attributions: Iterable[Attribution], *, ours: str = FIELD_MANAGER
) -> tuple[Rewrite, ...]:
    """Return the rewrites this run observed: the known (not inferred) foreign managers of drifted items, once each."""
    seen = {
        Rewrite(namespace, name, item.owners[0].manager, item.owners[0].time)
        for item in attributions
        if item.owners and not item.inferred and item.owners[0].manager != ours
    }
    return tuple(sorted(seen))


def rewrites_from_dicts(items: Iterable[Mapping[str, object]]) -> tuple[Rewrite, ...]:
    """Return rewrites stored by :meth:`Rewrite.to_dict` (a previous report); malformed items are dropped."""
    out = []
    for item in items:
        fields = [item.get(name) for name in Rewrite._fields]
        if all(isinstance(value, str) and value for value in fields):
            out.append(Rewrite(*(str(value) for value in fields)))
    return tuple(out)


def _parse(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def flapping(
    history: Iterable[Rewrite], *, now: datetime, window: timedelta, threshold: int
) -> dict[tuple[str, str], Flap]:
    """Return, per ``(namespace, name)``, the foreign manager that rewrote it more than ``threshold`` times.

    :param history: observed rewrites, earlier runs' and this run's; duplicates count once.
    :param now: the current time (aware).
    :param window: how far back rewrites count.
    :param threshold: rewrites tolerated within the window.
    :return: the flapping objects, each with the manager that rewrote it most.
    """
    counts: Counter[tuple[str, str, str]] = Counter()
    for item in set(history):
        when = _parse(item.time)
        if when is not None and now - window <= when <= now:
            counts[(item.namespace, item.name, item.manager)] += 1
    out: dict[tuple[str, str], Flap] = {}
    for (namespace, name, manager), count in sorted(counts.items()):
        best = out.get((namespace, name))
        if count > threshold and (best is None or count > best.times):
            out[(namespace, name)] = Flap(manager, count)
    return out
