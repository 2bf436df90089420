"""Client configuration built from a resolved source: isolation, credentials, rotated tokens, key material off disk."""

from __future__ import annotations

import asyncio
import datetime
import functools
import os
import tempfile
import threading
from pathlib import Path

import pytest
from kubernetes import client as k8s

from airflow_k8s_reconcile.domain.connection.credentials.kinds import ClientCertCredential, TokenCredential
from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource
from airflow_k8s_reconcile.domain.connection.settings import AuthMode
from airflow_k8s_reconcile.hooks._transport.client import (
    SERVER_MAX_WATCH_SECONDS,
    build_sync_client,
    request_timeout_for,
)
from airflow_k8s_reconcile.hooks._transport.client_async import build_async_client
from airflow_k8s_reconcile.hooks._transport.credentials import CredentialCache, reread_token_file
from airflow_k8s_reconcile.hooks._transport.tls import PrivateFiles
from airflow_k8s_reconcile.testing import certs


def _source(credential, **kwargs) -> ClusterSource:
    return ClusterSource(
        mode=AuthMode.IN_CLUSTER, server="https://10.0.0.1:443", credential=credential, **kwargs
    )


def _pem_pair(common_name: str) -> tuple[bytes, bytes]:
    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)
    return certs.self_signed(common_name, not_before=now - day, not_after=now + day, ca=True)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """Make tempfile create everything under tmp_path, so leftovers can be counted."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _always_reread(credential: TokenCredential) -> CredentialCache:
    return CredentialCache(credential, functools.partial(reread_token_file, credential), refresh_every=0.0)


def test_rotated_service_account_token_is_picked_up(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("first-token")
    credential = TokenCredential(
        token="first-token", origin="service_account_token_file", token_file=str(token_file)
    )
    with build_sync_client(_source(credential), credentials=_always_reread(credential)) as api:
        assert api.configuration.get_api_key_with_prefix("BearerToken") == "Bearer first-token"
        token_file.write_text("rotated-token\n")
        assert api.configuration.get_api_key_with_prefix("BearerToken") == "Bearer rotated-token"


def test_async_token_refresh_reads_the_file_off_the_event_loop(tmp_path):
    """The token file is a FIFO whose writer comes late: a read on the loop would freeze the ticker meanwhile."""
    token_file = tmp_path / "token"
    os.mkfifo(token_file)
    credential = TokenCredential(
        token="first-token", origin="service_account_token_file", token_file=str(token_file)
    )

    def late_writer() -> None:
        threading.Event().wait(0.5)
        with token_file.open("w") as fifo:
            fifo.write("rotated-token\n")

    async def run() -> tuple[str, int]:
        api = await build_async_client(_source(credential), credentials=_always_reread(credential))
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.02)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        threading.Thread(target=late_writer, daemon=True).start()
        try:
            header = await asyncio.wait_for(api.configuration.get_api_key_with_prefix("BearerToken"), 10)
        finally:
            ticking.cancel()
            await api.close()
        return header, ticks

    header, ticks = asyncio.run(run())
    assert header == "Bearer rotated-token"
    assert ticks >= 5  # ~25 expected while the thread waits for the writer; 0 if the loop blocked


def test_sync_client_keeps_no_key_material_on_disk(private_tmp):
    cert, key = _pem_pair("client")
    ca, _ = _pem_pair("ca")
    api = build_sync_client(_source(ClientCertCredential(cert_pem=cert, key_pem=key), ca_pem=ca))
    try:
        cfg = api.configuration
        assert (cfg.cert_file, cfg.key_file, cfg.ssl_ca_cert) == (None, None, None)
        assert list(private_tmp.iterdir()) == []
        context = api.rest_client.pool_manager.connection_pool_kw["ssl_context"]
        assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "ca"),),)]
    finally:
        api.shutdown()


def test_async_client_pem_files_are_removed_as_soon_as_it_is_built(private_tmp):
    cert, key = _pem_pair("client")
    ca, _ = _pem_pair("ca")

    async def build() -> list:
        api = await build_async_client(_source(ClientCertCredential(cert_pem=cert, key_pem=key), ca_pem=ca))
        try:
            return list(private_tmp.iterdir())
        finally:
            await api.close()

    assert asyncio.run(build()) == []


def test_private_files_are_0700_and_a_forked_child_never_deletes_them():
    files = PrivateFiles()
    try:
        path = files.write("client.key", b"KEY")
        assert oct(files.directory.stat().st_mode & 0o777) == "0o700"
        assert oct(Path(path).stat().st_mode & 0o777) == "0o600"
        pid = os.fork()
        if pid == 0:  # the child removes "its" copy and exits
            files.remove()
            os._exit(0)
        os.waitpid(pid, 0)
        assert files.directory.exists()
    finally:
        files.remove()
    assert not files.directory.exists()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param([("labelSelector", "a=b")], 5.0, id="plain-request"),
        pytest.param([("watch", True), ("timeoutSeconds", 300)], (5.0, 305.0), id="watch-held-300s"),
        pytest.param([("watch", True)], (5.0, SERVER_MAX_WATCH_SECONDS + 5.0), id="watch-server-default"),
        pytest.param([("watch", False), ("timeoutSeconds", 300)], 5.0, id="list-with-timeout"),
    ],
)
def test_watches_get_the_held_time_plus_a_margin_as_read_timeout(query, expected):
    assert request_timeout_for(query, 5.0) == expected


def test_sync_and_async_configurations_match_and_leave_the_default_alone():
    before = k8s.Configuration.get_default_copy().host
    credential = TokenCredential(token="tok", origin="kubeconfig_token")
    source = _source(
        credential, tls_server_name="api.internal", proxy_url="http://proxy:3128", verify_ssl=True
    )
    sync_api = build_sync_client(source)

    async def async_config():
        api = await build_async_client(source)
        try:
            cfg = api.configuration
            return cfg.host, cfg.tls_server_name, cfg.proxy, await cfg.get_api_key_with_prefix("BearerToken")
        finally:
            await api.close()

    cfg = sync_api.configuration
    sync_view = (cfg.host, cfg.tls_server_name, cfg.proxy, cfg.get_api_key_with_prefix("BearerToken"))
    sync_api.shutdown()
    assert (
        sync_view
        == asyncio.run(async_config())
        == ("https://10.0.0.1:443", "api.internal", "http://proxy:3128", "Bearer tok")
    )
    assert k8s.Configuration.get_default_copy().host == before


def test_async_client_cancelled_while_its_files_are_removed_closes_its_session(monkeypatch):
    """A trigger cancelled mid-build must not leak the aiohttp session the caller never received."""
    from airflow_k8s_reconcile.hooks._transport import client_async

    built = []
    real_init = client_async.ReconcileAsyncApiClient.__init__

    def recording_init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        built.append(self)

    calls = {"n": 0}
    real_to_thread = asyncio.to_thread

    async def cancel_the_second(func, *args, **kwargs):
        calls["n"] += 1
        result = await real_to_thread(func, *args, **kwargs)
        if calls["n"] == 2:  # the files' removal, after the client exists
            raise asyncio.CancelledError
        return result

    monkeypatch.setattr(client_async.ReconcileAsyncApiClient, "__init__", recording_init)
    monkeypatch.setattr(client_async.asyncio, "to_thread", cancel_the_second)
    source = _source(TokenCredential(token="tok", origin="kubeconfig_token"))

    async def build():
        with pytest.raises(asyncio.CancelledError):
            await build_async_client(source)

    asyncio.run(build())
    assert len(built) == 1
    assert built[0].rest_client.pool_manager.closed
