"""Builders shared by the reconcile core tests: live objects as the API returns them, and real 1.20.2 bodies.

A plain module with a unique name (not a conftest), so ``from reconcile_builders import ...`` can never pick up
another directory's conftest.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow_k8s_reconcile.domain.reconcile.desired.spec import FIELD_MANAGER, ConfigMapSpec
from airflow_k8s_reconcile.domain.reconcile.patch import apply_body

OWNER = "etl/render"
NOW = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)
DATA = Path(__file__).parent / "data"


def body(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def make_live(
    spec: ConfigMapSpec,
    *,
    owner: str = OWNER,
    uid: str = "uid-1",
    rv: str = "100",
    created: str = "2026-11-21T19:00:00Z",
    managed: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return the live object a server-side apply of ``spec`` leaves behind (a JSON round trip, as on the wire)."""
    live = json.loads(json.dumps(apply_body(spec, owner=owner)))
    fields: dict[str, Any] = {"f:data": {f"f:{key}": {} for key in spec.data}} if spec.data else {}
    live["metadata"] |= {
        "uid": uid,
        "resourceVersion": rv,
        "creationTimestamp": created,
        "managedFields": managed
        if managed is not None
        else [
            {
                "manager": FIELD_MANAGER,
                "operation": "Apply",
                "apiVersion": "v1",
                "time": created,
                "fieldsType": "FieldsV1",
                "fieldsV1": fields,
            }
        ],
    }
    return live


def tamper(live: dict[str, Any], manager: str, time: str, **changes: Any) -> dict[str, Any]:
    """Apply ``changes`` to ``live['data']`` as an Update by ``manager`` would (``None`` removes a key)."""
    data = live.setdefault("data", {})
    owned = {}
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
            owned[f"f:{key}"] = {}
    # An Update takes ownership of what it wrote from every other manager.
    for entry in live["metadata"]["managedFields"]:
        for key in owned:
            entry["fieldsV1"].get("f:data", {}).pop(key, None)
    live["metadata"]["managedFields"].append(
        {
            "manager": manager,
            "operation": "Update",
            "apiVersion": "v1",
            "time": time,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": owned},
        }
    )
    return live
