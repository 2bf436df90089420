"""Post the report's drift Events (``events.k8s.io/v1``) on the ConfigMaps; best effort, never failing a reconcile.

The core builds each payload (:func:`~airflow_k8s_reconcile.domain.reconcile.report.event`: reason, type, action,
a note naming keys and managers, never values); this adds what only the performer knows: the time, the reporting
controller and instance, and a generated name. An identity may lack ``create`` on ``events``: that is common and
harmless, so a refusal is recorded in the report (with the API's diagnosis naming the permission) and the remaining
Events are not attempted; the reconcile's own outcome is unaffected.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.common.wording import clip
from airflow_k8s_reconcile.domain.reconcile.desired.markers import MANAGED_BY_VALUE
from airflow_k8s_reconcile.domain.reconcile.report import event
from airflow_k8s_reconcile.hooks._errors import failure_finding, is_api_exception
from airflow_k8s_reconcile.hooks._reconcile.rest import segment, send

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from airflow_k8s_reconcile.domain.reconcile.policy import Mode

REPORTING_CONTROLLER = MANAGED_BY_VALUE
"""``reportingController`` must be a qualified name; ``airflow-k8s-reconcile`` is one."""
_MAX_FIELD = 128  # reportingInstance, action and reason: at most 128 characters (events.k8s.io/v1 validation)


def event_body(payload: Mapping[str, Any], *, instance: str, now: datetime) -> dict[str, Any]:
    """Return the ``events.k8s.io/v1`` Event for one core payload.

    :param payload: from :func:`~airflow_k8s_reconcile.domain.reconcile.report.event`.
    :param instance: the reporting instance (the owner id), clipped to 128 characters.
    :param now: when the drift was seen (``eventTime`` is a MicroTime).
    """
    regarding = payload["regarding"]
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": _name(regarding["name"], now), "namespace": regarding["namespace"]},
        "eventTime": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "reportingController": REPORTING_CONTROLLER,
        "reportingInstance": clip(instance, _MAX_FIELD) or REPORTING_CONTROLLER,
        "action": payload["action"],
        "reason": payload["reason"],
        "note": payload["note"],
        "type": payload["type"],
        "regarding": {key: value for key, value in regarding.items() if value},
    }


def _name(name: str, now: datetime) -> str:
    # client-go's recorder names Events `<object>.<unix nanoseconds in hex>`; generateName cannot do it, since the
    # server validates the prefix as a name and `<object>.` ends in a dot.
    return f"{name[:236]}.{int(now.timestamp() * 1e9):x}"


def emit(
    api: Any, report: Mapping[str, Any], *, mode: Mode, instance: str, now: datetime, server: str = ""
) -> dict[str, Any]:
    """Post one Event per drifted object of ``report``; return ``{"emitted": n, "refused": finding or None}``."""
    emitted = 0
    for entry in report.get("objects") or ():
        payload = event(entry, mode=mode)
        if payload is None:
            continue
        body = event_body(payload, instance=instance, now=now)
        path = f"/apis/events.k8s.io/v1/namespaces/{segment(entry['namespace'])}/events"
        try:
            send(api, "POST", path, body=body)
        except Exception as err:
            if not is_api_exception(err):
                raise
            action = f"create events in namespace {entry['namespace']}"
            refused = failure_finding(err, server=server, action=action)
            return {"emitted": emitted, "refused": refused.to_dict()}
        emitted += 1
    return {"emitted": emitted, "refused": None}
