from __future__ import annotations

import pytest

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.reconcile.desired.markers import BASE_NAME_ANNOTATION, OWNER_ANNOTATION
from airflow_k8s_reconcile.domain.reconcile.desired.spec import ConfigMapSpec, InputRef, spec_from_manifest
from airflow_k8s_reconcile.domain.reconcile.desired.validation import (
    MAX_SIZE,
    key_problem,
    qualified_name_problem,
    validate_spec,
    validate_specs,
)
from airflow_k8s_reconcile.findings import Status

OWNER = "etl/render"
SECRET = "hunter2-planted-secret"


def codes_of(spec: ConfigMapSpec, owner: str = OWNER) -> list[str]:
    return [item.code for item in validate_spec(spec, owner=owner)]


def test_a_valid_spec_has_no_findings():
    spec = ConfigMapSpec(
        name="app-config.v1",
        namespace="jobs",
        data={"app.properties": "a=1", "LOG_LEVEL": "info", "-x_": ""},
        binary_data={"logo.png": b"\x89PNG"},
        labels={"app.kubernetes.io/name": "web", "tier": ""},
        annotations={"example.com/reason": "x" * 5000},
    )
    assert validate_spec(spec, owner=OWNER) == ()


def test_every_violation_is_listed_at_once_one_finding_each():
    spec = ConfigMapSpec(
        name="Bad_Name",
        namespace="Jobs",
        data={"bad/key": "v", "..hidden": "v", "both": "v", "port": 8080, "ok": SECRET},  # type: ignore[dict-item]
        binary_data={"both": b"x", "text": "not bytes"},  # type: ignore[dict-item]
        labels={"-bad": "ok", "good": "x" * 64, "app.kubernetes.io/managed-by": "me"},
        annotations={"no spaces": "v", "airflow-k8s-reconcile/owner": "me", "example.com/n": 5},  # type: ignore[dict-item]
    )
    found = validate_spec(spec, owner="")
    assert sorted(item.code for item in found) == sorted(
        [
            codes.RECONCILE_BAD_NAME,
            codes.RECONCILE_BAD_NAMESPACE,
            codes.RECONCILE_BAD_KEY,  # bad/key
            codes.RECONCILE_BAD_KEY,  # ..hidden
            codes.RECONCILE_BAD_VALUE,  # port: 8080
            codes.RECONCILE_BAD_VALUE,  # text: str in binary_data
            codes.RECONCILE_DUPLICATE_KEY,
            codes.RECONCILE_BAD_LABEL,  # -bad
            codes.RECONCILE_BAD_LABEL,  # 64-character value
            codes.RECONCILE_BAD_ANNOTATION,  # "no spaces"
            codes.RECONCILE_BAD_ANNOTATION,  # non-string value
            codes.RECONCILE_RESERVED_METADATA,  # managed-by label
            codes.RECONCILE_RESERVED_METADATA,  # owner annotation
            codes.RECONCILE_BAD_OWNER,
        ]
    )
    assert {item.status for item in found} == {Status.FAIL}
    assert all(item.fix for item in found)
    assert all(SECRET not in item.render() for item in found)
    bad_key = next(item for item in found if "bad/key" in item.cause)
    assert "[-._a-zA-Z0-9]+" in bad_key.cause
    port = next(item for item in found if "port" in item.cause)
    assert "int" in port.cause
    assert "8080" not in port.cause


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("a", True),
        ("app-config", True),
        ("app.config.v2", True),
        ("a" * 253, True),
        ("a" * 254, False),
        ("App", False),
        ("-app", False),
        ("app-", False),
        ("app_config", False),
        ("app..config", False),
        ("", False),
        ("app\n", False),
    ],
)
def test_name_is_a_dns_1123_subdomain(name, ok):
    assert (codes.RECONCILE_BAD_NAME not in codes_of(ConfigMapSpec(name=name, namespace="ns"))) is ok


@pytest.mark.parametrize(
    ("namespace", "ok"),
    [
        ("ns", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("a.b", False),
        ("", False),
        ("ns\n", False),
        ("Ns", False),
    ],
)
def test_namespace_is_a_dns_label(namespace, ok):
    assert (codes.RECONCILE_BAD_NAMESPACE not in codes_of(ConfigMapSpec(name="a", namespace=namespace))) is ok


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("a", ""),
        ("a.b-c_D9", ""),
        (".a", ""),
        ("a" * 253, ""),
        ("a" * 254, "at most 253"),
        (".", "must not be '.'"),
        ("..", "must not be '.'"),
        ("..a", "must not start with '..'"),
        ("a/b", "regex"),
        ("a b", "regex"),
        ("", "regex"),
        ("a\n", "regex"),
    ],
)
def test_configmap_key_rules(key, problem):
    assert (problem in key_problem(key)) if problem else key_problem(key) == ""


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("a", True),
        ("example.com/a", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("/a", False),
        ("Example.com/a", False),
        ("a/", False),
        ("a_b.c-d", True),
        ("_a", False),
    ],
)
def test_label_and_annotation_keys_are_qualified_names(key, ok):
    assert (qualified_name_problem(key) == "") is ok


@pytest.mark.parametrize(
    ("data", "binary", "too_large"),
    [
        ({"a": "x" * MAX_SIZE}, {}, False),
        ({"a": "x" * (MAX_SIZE + 1)}, {}, True),
        ({"a": "x" * (MAX_SIZE // 2)}, {"b": b"y" * (MAX_SIZE // 2)}, False),
        ({"a": "x" * (MAX_SIZE // 2)}, {"b": b"y" * (MAX_SIZE // 2 + 1)}, True),
        # UTF-8 bytes count, not characters: 'é' is two bytes.
        ({"a": "é" * (MAX_SIZE // 2)}, {}, False),
        ({"a": "é" * (MAX_SIZE // 2) + "x"}, {}, True),
    ],
)
def test_size_limit_counts_value_bytes_like_the_api_server(data, binary, too_large):
    spec = ConfigMapSpec(name="a", namespace="ns", data=data, binary_data=binary)
    assert (codes.RECONCILE_TOO_LARGE in codes_of(spec)) is too_large


def test_annotation_budget_counts_our_markers():
    owner = "o" * 1000
    room = 256 * 1024 - len(OWNER_ANNOTATION) - len(owner) - len("airflow-k8s-reconcile/content-sha256") - 64
    fits = ConfigMapSpec(name="a", namespace="ns", annotations={"k": "v" * (room - 1)})
    assert codes.RECONCILE_ANNOTATIONS_TOO_LARGE not in codes_of(fits, owner)
    over = ConfigMapSpec(name="a", namespace="ns", annotations={"k": "v" * room})
    assert codes.RECONCILE_ANNOTATIONS_TOO_LARGE in codes_of(over, owner)


def test_lone_surrogate_is_not_utf8():
    assert codes.RECONCILE_BAD_VALUE in codes_of(
        ConfigMapSpec(name="a", namespace="ns", data={"k": "\udc80"})
    )


def test_rotation_base_name_annotation_is_allowed_but_other_markers_are_reserved():
    spec = ConfigMapSpec(name="a", namespace="ns", annotations={BASE_NAME_ANNOTATION: "a"})
    assert codes_of(spec) == []


def test_owner_in_another_namespace_is_refused():
    ref = InputRef(
        group="ex.com", version="v1", plural="widgets", kind="Widget", namespace="other", name="w", uid="u"
    )
    cluster = InputRef(
        group="ex.com", version="v1", plural="globals", kind="Global", namespace="", name="g", uid="u"
    )
    assert codes_of(ConfigMapSpec(name="a", namespace="ns", controlled_by=ref)) == [
        codes.RECONCILE_CROSS_NAMESPACE_OWNER
    ]
    assert codes_of(ConfigMapSpec(name="a", namespace="ns", controlled_by=cluster)) == []


def test_duplicates_across_the_desired_set():
    specs = [
        ConfigMapSpec(name="a", namespace="ns"),
        ConfigMapSpec(name="a", namespace="ns"),
        ConfigMapSpec(name="a", namespace="other"),
    ]
    found = validate_specs(specs, owner=OWNER)
    assert [item.code for item in found] == [codes.RECONCILE_DUPLICATE_OBJECT]
    assert "ns/a is declared 2 times" in found[0].cause


def test_manifest_decodes_binary_data_and_reports_bad_base64():
    spec, found = spec_from_manifest(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "a"},
            "data": {"x": "1"},
            "binaryData": {"ok": "AP8=", "bad": "not base64!"},
            "immutable": True,
        },
        namespace="ns",
    )
    assert spec is not None
    assert (spec.namespace, dict(spec.binary_data), spec.immutable) == ("ns", {"ok": b"\x00\xff"}, True)
    assert [item.code for item in found] == [codes.RECONCILE_BAD_BASE64]
    assert "binaryData[bad]" in found[0].cause


def test_manifest_of_another_kind_is_refused():
    spec, found = spec_from_manifest({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a"}})
    assert spec is None
    assert [item.code for item in found] == [codes.RECONCILE_BAD_MANIFEST]
    assert "'Secret'" in found[0].cause
