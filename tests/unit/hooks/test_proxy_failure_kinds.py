"""A proxy that is down is not a proxy that could not reach the API server.

Both clients wrap either case in a proxy error; the finding must say which one happened. The failures here are
real: a closed loopback port as the proxy, and a loopback proxy that answers CONNECT with ``502 Bad Gateway``.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import aiohttp
import pytest
import urllib3

from airflow_k8s_reconcile.hooks._errors import translate, transport_kind

SERVER = "https://api.example.com:6443"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def refusing_proxy() -> Iterator[str]:
    """A loopback proxy that reads the CONNECT request and answers 502, as a proxy that cannot reach the target."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(2)
    server.close()


def _urllib3_error(proxy: str) -> BaseException:
    pool = urllib3.ProxyManager(proxy, retries=False, timeout=3)
    with pytest.raises(urllib3.exceptions.HTTPError) as caught:
        pool.request("GET", "https://api.example.com:6443/version")
    return caught.value


def _aiohttp_error(proxy: str) -> BaseException:
    async def call() -> None:
        async with aiohttp.ClientSession() as session:
            await session.get(
                "https://api.example.com:6443/version", proxy=proxy, timeout=aiohttp.ClientTimeout(3)
            )

    with pytest.raises(aiohttp.ClientError) as caught:
        asyncio.run(call())
    return caught.value


@pytest.mark.parametrize("client", [_urllib3_error, _aiohttp_error], ids=["sync", "async"])
def test_a_proxy_that_is_down_is_reported_as_unreachable(client):
    proxy = f"http://127.0.0.1:{_closed_port()}"
    error = client(proxy)

    assert transport_kind(error) == "proxy_unreachable"
    finding = translate(error, server=SERVER, proxy=proxy).finding
    assert finding.code == "NET_PROXY_FAILURE"
    assert f"Proxy {proxy} is unreachable" in finding.cause
    assert "could not reach" not in finding.cause


@pytest.mark.parametrize("client", [_urllib3_error, _aiohttp_error], ids=["sync", "async"])
def test_a_proxy_that_answers_connect_with_an_error_could_not_reach_the_server(client, refusing_proxy):
    error = client(refusing_proxy)

    assert transport_kind(error) == "proxy"
    finding = translate(error, server=SERVER, proxy=refusing_proxy).finding
    assert finding.code == "NET_PROXY_FAILURE"
    assert f"Proxy {refusing_proxy} answered but could not reach {SERVER}" in finding.cause
    assert "unreachable" not in finding.cause
