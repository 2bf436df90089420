"""Attribution: which field manager last wrote each drifted key, from the live object's ``managedFields``.

Server-side apply tracks ownership per field (Kubernetes docs, "Server-Side Apply: Field management"): each
``managedFields`` entry names a ``manager`` (``kubectl-edit``, ``kubectl-client-side-apply``, a controller's name),
the ``operation`` (``Apply`` or ``Update``), a ``time`` and a ``fieldsV1`` set in which a map key ``k`` of ``data``
appears as ``{"f:data": {"f:k": {}}}``. A manager that *updates* a field takes its ownership from the others, so the
owner of a modified or added key is who changed it. No surveyed tool (Argo CD, Flux, Kopf, controller-runtime) puts
this in its drift report.

Limits, stated in the report rather than hidden: ``time`` is per manager entry, not per field (the last time that
manager wrote anything); a removed key is owned by nobody any more, so its attribution is a guess (the newest other
writer of that section, marked ``inferred``); a deleted object has no ``managedFields`` at all (only the audit log
knows who deleted it). Called by :mod:`.plan` and :mod:`.report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from airflow_k8s_reconcile.domain.reconcile.desired.spec import FIELD_MANAGER
from airflow_k8s_reconcile.domain.reconcile.drift.diff import Change, Drift


class FieldOwner(NamedTuple):
    """One ``managedFields`` entry, without its field set."""

    manager: str
    operation: str
    time: str


class Attribution(NamedTuple):
    """Who is behind one drifted key, label or annotation."""

    field: str
    """``data``, ``binaryData``, ``labels`` or ``annotations``."""
    key: str
    change: Change
    owners: tuple[FieldOwner, ...]
    """Managers owning the field, newest first; for removed keys the newest other writer of the section."""
    inferred: bool = False
    """True when nobody owns the field any more and :attr:`owners` is a best guess."""

    @property
    def manager(self) -> str:
        """Return the most recent manager, or ``""`` when none is known."""
        return self.owners[0].manager if self.owners else ""

    @property
    def label(self) -> str:
        """Return ``key`` for data, else ``<field>/<key>`` (``binaryData/k``, ``labels/app``), as in the report."""
        return self.key if self.field == "data" else f"{self.field}/{self.key}"

    def to_dict(self) -> dict[str, object]:
        """Return the report's JSON shape."""
        first = self.owners[0] if self.owners else FieldOwner("", "", "")
        return {
            "key": self.label,
            "change": self.change.value,
            "manager": first.manager,
            "operation": first.operation,
            "time": first.time,
            "inferred": self.inferred,
            "managers": [owner.manager for owner in self.owners],
        }


class _Entry(NamedTuple):
    owner: FieldOwner
    fields: Mapping[str, Any]


def _entries(live: Mapping[str, Any]) -> list[_Entry]:
    out = []
    for raw in (live.get("metadata") or {}).get("managedFields") or ():
        if not isinstance(raw, Mapping):
            continue
        fields = raw.get("fieldsV1")
        owner = FieldOwner(
            str(raw.get("manager", "")), str(raw.get("operation", "")), str(raw.get("time", ""))
        )
        out.append(_Entry(owner, fields if isinstance(fields, Mapping) else {}))
    # RFC 3339 times in UTC: text order is time order; newest first.
    out.sort(key=lambda entry: entry.owner.time, reverse=True)
    return out


def _holds(fields: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = fields
    for step in path:
        if not isinstance(node, Mapping) or step not in node:
            return False
        node = node[step]
    return True


def _path(field: str, key: str) -> tuple[str, ...]:
    if field in {"labels", "annotations"}:
        return ("f:metadata", f"f:{field}", f"f:{key}")
    return (f"f:{field}", f"f:{key}")


def owners_of(live: Mapping[str, Any], field: str, key: str) -> tuple[FieldOwner, ...]:
    """Return the managers whose field set holds ``field.key``, newest first.

    :param live: the live object dict.
    :param field: ``data``, ``binaryData``, ``labels`` or ``annotations``.
    :param key: the map key.
    :return: the owners (several appliers may co-own one field).
    """
    path = _path(field, key)
    return tuple(entry.owner for entry in _entries(live) if _holds(entry.fields, path))


def _latest_other_writer(live: Mapping[str, Any], field: str, ours: str) -> tuple[FieldOwner, ...]:
    entries = [entry for entry in _entries(live) if entry.owner.manager != ours]
    section = _path(field, "")[:-1]
    touching = [entry for entry in entries if _holds(entry.fields, section)]
    best = touching or entries
    return (best[0].owner,) if best else ()


def attribute(
    drift: Drift, live: Mapping[str, Any] | None, *, ours: str = FIELD_MANAGER
) -> tuple[Attribution, ...]:
    """Attribute every drifted key, label and annotation to the field manager behind it.

    :param drift: the diff of the object.
    :param live: the live object dict (``None`` when deleted: nothing to attribute).
    :param ours: our own field manager, never the culprit of a removal.
    :return: one attribution per drifted item, in the diff's order.
    """
    if live is None:
        return ()
    items = [(item.section, item.key, item.change) for item in drift.keys]
    items += [
        (item.field, item.key, item.change) for item in drift.metadata if item.field != "ownerReferences"
    ]
    out = []
    for field, key, change in items:
        if change is Change.REMOVED:
            out.append(
                Attribution(field, key, change, _latest_other_writer(live, field, ours), inferred=True)
            )
        else:
            out.append(Attribution(field, key, change, owners_of(live, field, key)))
    return tuple(out)
