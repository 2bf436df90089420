"""Create, second run all unchanged with zero writes, raw reads with the list's resourceVersion."""

from __future__ import annotations

from reconcile_it import OWNER, policy, raw, spec, statuses

from airflow_k8s_reconcile.domain.reconcile.desired.markers import (
    HASH_ANNOTATION,
    OWNER_ANNOTATION,
    spec_hash,
)
from airflow_k8s_reconcile.testing.metrics import of_verbs


def test_create_then_second_run_is_unchanged_with_zero_writes(hook, core, k8s_namespace, api_counts):
    specs = [spec(k8s_namespace, f"cm-{i}", data={"k": str(i)}) for i in range(5)]
    first = hook.reconcile(specs, policy()).report
    assert set(statuses(first).values()) == {"created"}
    assert first["summary"]["in_sync"] is True
    live = raw(core, k8s_namespace, "cm-3")
    assert live["data"] == {"k": "3"}
    assert live["metadata"]["annotations"][OWNER_ANNOTATION] == OWNER
    assert live["metadata"]["annotations"][HASH_ANNOTATION] == spec_hash(specs[3])
    counted = api_counts()
    second = hook.reconcile(specs, policy()).report
    assert set(statuses(second).values()) == {"unchanged"}
    assert second["requests"] == {"list": 1}
    after = api_counts() - counted
    assert of_verbs(after, "PATCH", "APPLY", "GET") == 0  # the server saw no write and no get from us


def test_list_configmaps_returns_raw_dicts_and_the_list_resource_version(hook, core, k8s_namespace):
    hook.reconcile([spec(k8s_namespace, f"cm-{i}") for i in range(7)], policy())
    listed = hook.list_configmaps(k8s_namespace, limit=3)
    assert sorted(item["metadata"]["name"] for item in listed.items) == [f"cm-{i}" for i in range(7)]
    assert isinstance(listed.items[0], dict)
    assert int(listed.resource_version) >= max(int(i["metadata"]["resourceVersion"]) for i in listed.items)
    pages = list(hook.iter_configmap_pages(k8s_namespace, limit=3))
    assert [len(page.items) for page in pages] == [3, 3, 1]
    assert hook.get_configmap(k8s_namespace, "nope") is None
    assert hook.get_configmap(k8s_namespace, "cm-1")["data"] == {"a": "1", "b": "2"}
