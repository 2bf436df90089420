"""kubeconfig-file, inline and in-cluster connections against a real API server, through both hooks.

The same matrix runs the sync and the async hook: both must resolve to the same answer and both must work.
"""

from __future__ import annotations

import asyncio

import pytest
from kubernetes import client as k8s
from kubernetes_asyncio import client as k8s_async

from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.hooks.kubernetes_async import AsyncK8sReconcileHook


def _hooks(conn_id: str, **kwargs):
    return K8sReconcileHook(conn_id, **kwargs), AsyncK8sReconcileHook(conn_id, **kwargs)


def _sync_names(hook: K8sReconcileHook, namespace: str) -> set[str]:
    with hook.get_conn() as api:
        return {cm.metadata.name for cm in k8s.CoreV1Api(api).list_namespaced_config_map(namespace).items}


def _async_names(hook: AsyncK8sReconcileHook, namespace: str) -> set[str]:
    async def run() -> set[str]:
        async with hook.get_conn() as api:
            listing = await k8s_async.CoreV1Api(api).list_namespaced_config_map(namespace)
            return {cm.metadata.name for cm in listing.items}

    return asyncio.run(run())


def _same_answer(sync_hook: K8sReconcileHook, async_hook: AsyncK8sReconcileHook) -> dict:
    sync_explained = sync_hook.explain()
    async_explained = asyncio.run(async_hook.explain())
    assert sync_explained == async_explained
    return sync_explained


def _seed(k8s_admin, namespace: str) -> None:
    k8s.CoreV1Api(k8s_admin).create_namespaced_config_map(
        namespace, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="seed"), data={"k": "v"})
    )


def test_kubeconfig_file_mode(reader, k8s_admin, k8s_namespace, connection):
    _seed(k8s_admin, k8s_namespace)
    conn_id = connection(
        "kc_file", {"auth_mode": "kubeconfig_file", "kube_config_path": str(reader.kubeconfig_path)}
    )
    sync_hook, async_hook = _hooks(conn_id)
    explained = _same_answer(sync_hook, async_hook)
    assert explained["mode"] == "kubeconfig_file"
    assert explained["namespace"] == k8s_namespace
    assert "seed" in _sync_names(sync_hook, k8s_namespace)
    assert "seed" in _async_names(async_hook, k8s_namespace)


def test_inline_kubeconfig_mode(reader, k8s_admin, k8s_namespace, connection):
    _seed(k8s_admin, k8s_namespace)
    conn_id = connection(
        "kc_inline", {"auth_mode": "kubeconfig_inline", "kube_config": reader.kubeconfig_path.read_text()}
    )
    sync_hook, async_hook = _hooks(conn_id)
    explained = _same_answer(sync_hook, async_hook)
    assert explained["mode"] == "kubeconfig_inline"
    assert explained["kubeconfig"] == "<inline>"
    assert "seed" in _sync_names(sync_hook, k8s_namespace)
    assert "seed" in _async_names(async_hook, k8s_namespace)


@pytest.mark.parametrize("auth_mode", ["in_cluster", "auto"])
def test_in_cluster_mode_with_a_real_service_account_token(
    reader, k8s_admin, k8s_namespace, connection, pod_env, auth_mode
):
    _seed(k8s_admin, k8s_namespace)
    conn_id = connection(
        "incluster",
        {"auth_mode": auth_mode, "service_account_dir": str(reader.in_cluster.service_account_dir)},
    )
    sync_hook, async_hook = _hooks(conn_id, environ=pod_env(reader))
    explained = _same_answer(sync_hook, async_hook)
    assert explained["mode"] == "in_cluster"
    assert explained["namespace"] == reader.namespace
    assert "service account" in explained["namespace_source"]
    assert "seed" in _sync_names(sync_hook, k8s_namespace)
    assert "seed" in _async_names(async_hook, k8s_namespace)


def test_cncf_kubernetes_connection_works_too(reader, k8s_admin, k8s_namespace, connection):
    _seed(k8s_admin, k8s_namespace)
    conn_id = connection(
        "cncf_style",
        {"kube_config_path": str(reader.kubeconfig_path), "namespace": k8s_namespace, "in_cluster": "False"},
        conn_type="kubernetes",
    )
    sync_hook, async_hook = _hooks(conn_id)
    explained = _same_answer(sync_hook, async_hook)
    assert explained["mode"] == "kubeconfig_file"
    assert "seed" in _sync_names(sync_hook, k8s_namespace)


def test_argument_beats_connection(reader, nobody, k8s_admin, k8s_namespace, connection):
    _seed(k8s_admin, k8s_namespace)
    conn_id = connection("kc_arg", {"kube_config_path": str(nobody.kubeconfig_path)})
    sync_hook, async_hook = _hooks(conn_id, kube_config_path=str(reader.kubeconfig_path), namespace="other")
    explained = _same_answer(sync_hook, async_hook)
    assert explained["namespace"] == "other"
    assert str(reader.kubeconfig_path) in str(explained["kubeconfig"])
    assert "seed" in _sync_names(sync_hook, k8s_namespace)


def test_global_client_configuration_is_never_touched(reader, connection):
    before = k8s.Configuration.get_default_copy()
    conn_id = connection("kc_global", {"kube_config_path": str(reader.kubeconfig_path)})
    with K8sReconcileHook(conn_id).get_conn() as api:
        assert api.configuration.host == K8sReconcileHook(conn_id).resolve().source.server
    after = k8s.Configuration.get_default_copy()
    assert (after.host, after.api_key, after.ssl_ca_cert) == (before.host, before.api_key, before.ssl_ca_cert)


def test_every_request_carries_a_timeout(reader, connection):
    conn_id = connection(
        "kc_timeout", {"kube_config_path": str(reader.kubeconfig_path), "request_timeout": 7}
    )
    sent = []
    with K8sReconcileHook(conn_id).get_conn() as api:
        original = api.rest_client.request

        def spy(*args, **kwargs):
            sent.append(kwargs.get("_request_timeout"))
            return original(*args, **kwargs)

        api.rest_client.request = spy
        k8s.VersionApi(api).get_code()
    assert sent == [7.0]


def test_docs_testing_example(k8s_identity, k8s_admin, k8s_namespace):
    _seed(k8s_admin, k8s_namespace)
    reader = k8s_identity(rules=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}])
    hook = K8sReconcileHook(
        auth_mode="in_cluster",
        service_account_dir=str(reader.in_cluster.service_account_dir),
        environ=dict(reader.in_cluster.env),
    )
    assert hook.get_namespace() == reader.namespace
    assert "seed" in _sync_names(hook, k8s_namespace)


def test_oidc_auth_provider_token_is_used(reader, k8s_admin, k8s_namespace, connection, tmp_path):
    import yaml

    config = yaml.safe_load(reader.kubeconfig_path.read_text())
    config["users"][0]["user"] = {"auth-provider": {"name": "oidc", "config": {"id-token": reader.token}}}
    path = tmp_path / "oidc.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    _seed(k8s_admin, k8s_namespace)
    sync_hook, async_hook = _hooks(connection("oidc", {"kube_config_path": str(path)}))
    assert _same_answer(sync_hook, async_hook)["credential"]["kind"] == "auth provider oidc"
    assert "seed" in _sync_names(sync_hook, k8s_namespace)
    assert "seed" in _async_names(async_hook, k8s_namespace)


def test_exec_plugin_credential_in_a_kubeconfig_file(reader, k8s_admin, k8s_namespace, connection, tmp_path):
    import json
    import os

    import yaml

    plugin = tmp_path / "token-plugin"
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": reader.token},
    }
    plugin.write_text(
        "#!/bin/sh\n"
        '[ "$(printf %s "$KUBERNETES_EXEC_INFO" | grep -c \'"interactive": false\')" = 1 ] || exit 3\n'
        f"cat <<'JSON'\n{json.dumps(credential)}\nJSON\n"
    )
    plugin.chmod(0o700)
    config = yaml.safe_load(reader.kubeconfig_path.read_text())
    config["users"][0]["user"] = {
        "exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin)}
    }
    path = tmp_path / "exec.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    _seed(k8s_admin, k8s_namespace)
    sync_hook, async_hook = _hooks(connection("execcfg", {"kube_config_path": str(path)}))
    assert _same_answer(sync_hook, async_hook)["credential"]["kind"] == "exec plugin token-plugin"
    assert "seed" in _sync_names(sync_hook, k8s_namespace)
    assert "seed" in _async_names(async_hook, k8s_namespace)
    assert os.environ.get("KUBERNETES_EXEC_INFO") is None


def test_client_certificate_credential(k8s_cluster, connection, tmp_path):
    import base64
    import datetime

    import pytest
    import yaml

    from airflow_k8s_reconcile.testing import certs

    ca_key_path = k8s_cluster.ca_cert_path.parent / "ca.key"
    if k8s_cluster.external or not ca_key_path.exists():
        pytest.skip("minting a client certificate needs the local control plane's CA key")
    now = datetime.datetime.now(datetime.UTC)
    cert, key = certs.issue(
        "cert-user",
        organization="devs",
        ca_cert=k8s_cluster.ca_cert_path.read_bytes(),
        ca_key=ca_key_path.read_bytes(),
        not_before=now - datetime.timedelta(minutes=1),
        not_after=now + datetime.timedelta(hours=1),
    )
    config = yaml.safe_load(k8s_cluster.kubeconfig_path.read_text())
    config["users"][0]["user"] = {
        "client-certificate-data": base64.b64encode(cert).decode(),
        "client-key-data": base64.b64encode(key).decode(),
    }
    path = tmp_path / "cert.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    hook = K8sReconcileHook(connection("certuser", {"kube_config_path": str(path)}))
    ok, _ = hook.test_connection()
    assert ok is False  # authenticated, but no RBAC for this user
    report = (
        hook.diagnose().render()
    )  # test_connection's message is the brief UI verdict; the report has it all
    assert "AUTH_ACCEPTED" in report
    assert "cert-user" in report
    assert "RBAC_NO_PERMISSIONS" in report
    assert hook.explain()["credential"]["kind"] == "client certificate"
