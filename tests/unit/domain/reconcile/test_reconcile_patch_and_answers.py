from __future__ import annotations

import json

import pytest
from reconcile_builders import OWNER, body

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.reconcile.answers import ApiAnswer, Next, Request, decide
from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec, InputRef
from airflow_k8s_reconcile.domain.reconcile.patch import (
    apply_body,
    delete_options,
    escape_token,
    pointer,
    removal_patch,
)


@pytest.mark.parametrize(
    ("token", "escaped"),
    [("a", "a"), ("a/b", "a~1b"), ("m~n", "m~0n"), ("~1", "~01"), ("/~", "~1~0"), ("~/", "~0~1"), ("", "")],
)
def test_rfc_6901_escaping_tilde_first(token, escaped):
    assert escape_token(token) == escaped


def test_pointer_escapes_each_token():
    assert (
        pointer("metadata", "labels", "app.kubernetes.io/name") == "/metadata/labels/app.kubernetes.io~1name"
    )


def test_removal_patch_is_guarded_by_the_resource_version_read():
    patch = removal_patch("512", [("data", "evil.conf"), ("binaryData", "x~y/z")])
    assert patch == [
        {"op": "test", "path": "/metadata/resourceVersion", "value": "512"},
        {"op": "remove", "path": "/data/evil.conf"},
        {"op": "remove", "path": "/binaryData/x~0y~1z"},
    ]
    assert removal_patch("512", []) == []


def test_apply_body_holds_only_fields_we_own():
    widget = InputRef(
        group="ex.com", version="v1", plural="widgets", kind="Widget", namespace="ns", name="w", uid="u"
    )
    spec = ConfigMapSpec(
        name="app",
        namespace="ns",
        data={"a": "1"},
        binary_data={"b": b"\xff"},
        labels={"tier": "web"},
        annotations={"example.com/n": "x"},
        immutable=True,
        controlled_by=widget,
    )
    applied = apply_body(spec, owner=OWNER, adopted_at="2026-11-21T20:00:00Z")
    assert json.loads(json.dumps(applied)) == applied
    assert applied["apiVersion"] == "v1"
    assert applied["kind"] == "ConfigMap"
    assert applied["data"] == {"a": "1"}
    assert applied["binaryData"] == {"b": "/w=="}
    assert applied["immutable"] is True
    meta = applied["metadata"]
    assert set(meta) == {"name", "namespace", "labels", "annotations", "ownerReferences"}
    assert meta["labels"] == {"tier": "web", "app.kubernetes.io/managed-by": "airflow-k8s-reconcile"}
    assert meta["annotations"]["airflow-k8s-reconcile/owner"] == OWNER
    assert meta["annotations"]["airflow-k8s-reconcile/adopted-at"] == "2026-11-21T20:00:00Z"
    assert len(meta["annotations"]["airflow-k8s-reconcile/content-sha256"]) == 64
    assert meta["ownerReferences"][0]["controller"] is True
    plain = apply_body(ConfigMapSpec(name="app", namespace="ns"), owner=OWNER)
    assert not {"data", "binaryData", "immutable"} & set(plain)
    assert "ownerReferences" not in plain["metadata"]
    assert "airflow-k8s-reconcile/adopted-at" not in str(plain)


def test_delete_options_pin_uid_and_resource_version():
    live = body("create_201.json")
    assert delete_options(live)["preconditions"] == {
        "uid": "f9853342-8312-4e48-b6c2-99d214f9d2c7",
        "resourceVersion": "512",
    }


@pytest.mark.parametrize(
    ("request_kind", "file", "attempt", "expected"),
    [
        (Request.APPLY, "create_exists_409.json", 1, Next.READ_AND_CONTINUE),
        (Request.JSON_PATCH, "replace_stale_409.json", 1, Next.REREAD),
        (Request.DELETE, "replace_stale_409.json", 2, Next.REREAD),
        (Request.JSON_PATCH, "replace_stale_409.json", 3, Next.FAIL),
        (Request.APPLY, "ssa_conflict_409.json", 1, Next.REPORT_CONFLICT),
        (Request.GET, "get_missing_404.json", 1, Next.ABSENT),
        (Request.DELETE, "get_missing_404.json", 1, Next.DONE),
        (Request.JSON_PATCH, "get_missing_404.json", 1, Next.REREAD),
        (Request.APPLY, "get_missing_404.json", 1, Next.FAIL),
    ],
)
def test_decisions_on_real_1_20_2_status_bodies(request_kind, file, attempt, expected):
    decision = decide(request_kind, ApiAnswer.from_status(body(file)), name="default/g1", attempt=attempt)
    assert decision.next is expected


def test_field_manager_conflict_names_the_manager_and_field():
    decision = decide(Request.APPLY, ApiAnswer.from_status(body("ssa_conflict_409.json")), name="default/g1")
    assert (decision.managers, decision.fields) == (("curl",), (".data.a",))
    assert decision.finding is not None
    assert decision.finding.code == codes.RECONCILE_FIELD_MANAGER_CONFLICT
    assert '"curl"' not in decision.finding.cause
    assert "curl" in decision.finding.cause


def test_retries_exhausted_is_a_finding():
    decision = decide(
        Request.JSON_PATCH, ApiAnswer.from_status(body("replace_stale_409.json")), name="d/g", attempt=3
    )
    assert decision.finding is not None
    assert decision.finding.code == codes.RECONCILE_RETRIES_EXHAUSTED


@pytest.mark.parametrize(
    ("request_kind", "code", "reason", "message", "expected"),
    [
        (Request.APPLY, 200, "", "", Next.DONE),
        (Request.APPLY, 201, "", "", Next.DONE),
        (Request.APPLY, 429, "TooManyRequests", "", Next.RETRY),
        (Request.DELETE, 503, "ServiceUnavailable", "", Next.RETRY),
        (Request.APPLY, 500, "InternalError", "", Next.RETRY),
        (Request.APPLY, 403, "Forbidden", "", Next.FAIL),
        (Request.APPLY, 401, "Unauthorized", "", Next.FAIL),
        (Request.APPLY, 400, "BadRequest", "", Next.FAIL),
        (Request.APPLY, 410, "Expired", "too old resource version", Next.REREAD),
        (Request.JSON_PATCH, 422, "Invalid", "the server rejected our request: test failed", Next.REREAD),
        (
            Request.APPLY,
            422,
            "Invalid",
            'ConfigMap "x" is invalid: data: Forbidden: field is immutable when `immutable` is set',
            Next.REREAD,
        ),
        (Request.APPLY, 422, "Invalid", 'ConfigMap "big" is invalid: []: Too long', Next.FAIL),
    ],
)
def test_decisions_by_status(request_kind, code, reason, message, expected):
    assert decide(request_kind, ApiAnswer(code=code, reason=reason, message=message)).next is expected
