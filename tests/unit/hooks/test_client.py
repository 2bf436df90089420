"""Client configuration built from a resolved source: isolation, credentials, rotated tokens, private PEM files."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

from kubernetes import client as k8s

from airflow_k8s_reconcile.domain.connection.credentials.kinds import ClientCertCredential, TokenCredential
from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource
from airflow_k8s_reconcile.domain.connection.settings import AuthMode
from airflow_k8s_reconcile.hooks import _client
from airflow_k8s_reconcile.hooks._client import build_sync_client
from airflow_k8s_reconcile.hooks._client_async import build_async_client


def _source(credential, **kwargs) -> ClusterSource:
    return ClusterSource(
        mode=AuthMode.IN_CLUSTER, server="https://10.0.0.1:443", credential=credential, **kwargs
    )


def test_rotated_service_account_token_is_picked_up(tmp_path, monkeypatch):
    token_file = tmp_path / "token"
    token_file.write_text("first-token")
    monkeypatch.setattr(_client, "TOKEN_FILE_REFRESH_SECONDS", 0.0)
    credential = TokenCredential(
        token="first-token", origin="service_account_token_file", token_file=str(token_file)
    )
    with build_sync_client(_source(credential)) as api:
        assert api.configuration.get_api_key_with_prefix("BearerToken") == "Bearer first-token"
        token_file.write_text("rotated-token\n")
        assert api.configuration.get_api_key_with_prefix("BearerToken") == "Bearer rotated-token"


def test_pem_material_is_private_and_removed_on_close():
    credential = ClientCertCredential(cert_pem=b"CERT", key_pem=b"KEY")
    api = build_sync_client(_source(credential, ca_pem=b"CA"))
    paths = [
        Path(api.configuration.ssl_ca_cert),
        Path(api.configuration.cert_file),
        Path(api.configuration.key_file),
    ]
    assert [p.read_bytes() for p in paths] == [b"CA", b"CERT", b"KEY"]
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths} == {0o600}
    api.close()
    assert not any(p.exists() for p in paths)


def test_sync_and_async_configurations_match_and_leave_the_default_alone():
    before = k8s.Configuration.get_default_copy().host
    credential = TokenCredential(token="tok", origin="kubeconfig_token")
    source = _source(
        credential, tls_server_name="api.internal", proxy_url="http://proxy:3128", verify_ssl=True
    )
    sync_api = build_sync_client(source)

    async def async_config():
        api = build_async_client(source)
        try:
            cfg = api.configuration
            return cfg.host, cfg.tls_server_name, cfg.proxy, await cfg.get_api_key_with_prefix("BearerToken")
        finally:
            await api.close()

    cfg = sync_api.configuration
    sync_view = (cfg.host, cfg.tls_server_name, cfg.proxy, cfg.get_api_key_with_prefix("BearerToken"))
    sync_api.close()
    assert (
        sync_view
        == asyncio.run(async_config())
        == ("https://10.0.0.1:443", "api.internal", "http://proxy:3128", "Bearer tok")
    )
    assert k8s.Configuration.get_default_copy().host == before
