from __future__ import annotations

import json

import pytest

from airflow_k8s_reconcile.domain.reconcile.desired.markers import (
    BASE_NAME_ANNOTATION,
    MANAGED_BY_LABEL,
    OWNER_ANNOTATION,
    Ownership,
    canonical_content,
    content_hash,
    default_owner,
    owner_of,
    ownership,
    select_rotation,
    selector,
    with_hash_suffix,
)
from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec, InputRef, owner_reference

OWNER = "etl/render"


def test_hash_is_sha256_of_pinned_canonical_json():
    # Pinned with `printf '%s' '<text>' | sha256sum`: any change of the encoding breaks stored annotations.
    text = '{"binaryData":{},"data":{"a":"1"},"immutable":false}'
    assert canonical_content({"a": "1"}, {}, False) == text
    assert (
        content_hash({"a": "1"}, {}, False)
        == "12166918e1cf04db4813f26969b3038be437258e7f4930501d7cc5ac4618c03b"
    )


def test_hash_ignores_insertion_order():
    assert content_hash({"a": "1", "b": "2"}, {"x": b"1", "y": b"2"}, False) == content_hash(
        {"b": "2", "a": "1"}, {"y": b"2", "x": b"1"}, False
    )


# Pairs of different contents that naive encodings (Reloader's "k=v;" join, plain concatenation, or one map for
# data and binaryData) map to the same bytes.
COLLIDING = [
    (({"a": "b;c=d"}, {}, False), ({"a": "b", "c": "d"}, {}, False)),
    (({"ab": "c"}, {}, False), ({"a": "bc"}, {}, False)),
    (({"a": 'x","b":"y'}, {}, False), ({"a": "x", "b": "y"}, {}, False)),
    (({"a": "1"}, {}, False), ({}, {"a": b"1"}, False)),
    (({"a": "MQ=="}, {}, False), ({}, {"a": b"1"}, False)),
    (({"a": "1"}, {}, False), ({"a": "1"}, {}, True)),
    (({"a": "\\"}, {}, False), ({"a": "\\\\"}, {}, False)),
    (({"a": ""}, {}, False), ({}, {}, False)),
]


@pytest.mark.parametrize(("left", "right"), COLLIDING)
def test_hash_is_unambiguous(left, right):
    assert canonical_content(*left) != canonical_content(*right)
    assert content_hash(*left) != content_hash(*right)


@pytest.mark.parametrize(
    "content", [left for left, _ in COLLIDING] + [({"é": "😀\x00"}, {"k": bytes(range(256))}, True)]
)
def test_canonical_encoding_is_injective_because_json_loads_inverts_it(content):
    data, binary, immutable = content
    decoded = json.loads(canonical_content(data, binary, immutable))
    assert decoded["data"] == data
    assert decoded["immutable"] is immutable
    assert set(decoded) == {"data", "binaryData", "immutable"}
    assert canonical_content(data, binary, immutable).isascii()


def test_hash_suffixed_name_and_base_name():
    spec = ConfigMapSpec(name="app", namespace="ns", data={"a": "1"}, immutable=True)
    rotated = with_hash_suffix(spec)
    digest = content_hash({"a": "1"}, {}, True)
    assert rotated.name == f"app-{digest[:10]}"
    assert rotated.annotations[BASE_NAME_ANNOTATION] == "app"
    assert (
        with_hash_suffix(ConfigMapSpec(name="app", namespace="ns", data={"a": "2"}, immutable=True)).name
        != rotated.name
    )


def test_owner_and_selector():
    assert default_owner("etl", "render") == OWNER
    assert selector() == "app.kubernetes.io/managed-by=airflow-k8s-reconcile"


def test_owner_reference_is_a_controller_reference():
    ref = InputRef(
        group="ex.com", version="v1", plural="widgets", kind="Widget", namespace="ns", name="w", uid="u1"
    )
    assert owner_reference(ref) == {
        "apiVersion": "ex.com/v1",
        "kind": "Widget",
        "name": "w",
        "uid": "u1",
        "controller": True,
        "blockOwnerDeletion": True,
    }


WIDGET = InputRef(
    group="ex.com", version="v1", plural="widgets", kind="Widget", namespace="ns", name="w", uid="u1"
)


def _obj(labels=None, annotations=None, refs=None):
    return {
        "metadata": {
            "name": "a",
            "labels": labels or {},
            "annotations": annotations or {},
            "ownerReferences": refs or [],
        }
    }


OURS = {MANAGED_BY_LABEL: "airflow-k8s-reconcile"}


@pytest.mark.parametrize(
    ("live", "controlled_by", "expected"),
    [
        (_obj(OURS, {OWNER_ANNOTATION: OWNER}), None, Ownership.OURS),
        (_obj(OURS, {OWNER_ANNOTATION: "other/task"}), None, Ownership.OTHER_OWNER),
        (_obj(OURS, {}), None, Ownership.OTHER_OWNER),
        (_obj({MANAGED_BY_LABEL: "Helm"}), None, Ownership.OTHER_OWNER),
        (_obj(), None, Ownership.UNMARKED),
        (_obj({"app": "x"}, {"note": "y"}), None, Ownership.UNMARKED),
        (
            _obj(
                refs=[
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": "d",
                        "uid": "x",
                        "controller": True,
                    }
                ]
            ),
            None,
            Ownership.OTHER_OWNER,
        ),
        (
            _obj(refs=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": "d", "uid": "x"}]),
            None,
            Ownership.UNMARKED,
        ),
        # Same group, kind and name as our input: the same owner even with a new uid (controller-runtime).
        (
            _obj(
                refs=[
                    {
                        "apiVersion": "ex.com/v2",
                        "kind": "Widget",
                        "name": "w",
                        "uid": "old",
                        "controller": True,
                    }
                ]
            ),
            WIDGET,
            Ownership.UNMARKED,
        ),
        (
            _obj(
                refs=[
                    {
                        "apiVersion": "ex.com/v1",
                        "kind": "Widget",
                        "name": "z",
                        "uid": "u1",
                        "controller": True,
                    }
                ]
            ),
            WIDGET,
            Ownership.OTHER_OWNER,
        ),
    ],
)
def test_ownership_classification(live, controlled_by, expected):
    assert ownership(live, OWNER, controlled_by) is expected


def test_owner_of_names_the_owner_for_messages():
    assert owner_of(_obj(OURS, {OWNER_ANNOTATION: "other/task"})) == "other/task"
    assert owner_of(_obj({MANAGED_BY_LABEL: "Helm"})) == "app.kubernetes.io/managed-by=Helm"
    assert owner_of(_obj()) == "nobody"


def _rot(name, created, owner=OWNER, base="app"):
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": created,
            "labels": dict(OURS),
            "annotations": {OWNER_ANNOTATION: owner, BASE_NAME_ANNOTATION: base},
        }
    }


@pytest.mark.parametrize(
    ("keep_last", "keep", "prune"),
    [
        (1, ("app-new",), ("app-3", "app-2", "app-1")),
        (2, ("app-new", "app-3"), ("app-2", "app-1")),
        (3, ("app-new", "app-3", "app-2"), ("app-1",)),
        (10, ("app-new", "app-3", "app-2", "app-1"), ()),
        (0, ("app-new",), ("app-3", "app-2", "app-1")),
    ],
)
def test_rotation_keeps_the_newest_of_ours(keep_last, keep, prune):
    live = [
        _rot("app-1", "2026-01-01T00:00:00Z"),
        _rot("app-3", "2026-03-01T00:00:00Z"),
        _rot("app-2", "2026-02-01T00:00:00Z"),
        _rot("app-new", "2026-04-01T00:00:00Z"),
        _rot("app-x", "2025-01-01T00:00:00Z", owner="other/task"),  # not ours: never pruned
        _rot("other-1", "2025-01-01T00:00:00Z", base="other"),  # another rotation
        {"metadata": {"name": "app-zzz", "creationTimestamp": "2020-01-01T00:00:00Z"}},  # foreign look-alike
    ]
    rotation = select_rotation(live, base_name="app", current="app-new", owner=OWNER, keep_last=keep_last)
    assert (rotation.keep, rotation.prune) == (keep, prune)
