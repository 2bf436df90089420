"""Shared helpers of the watch tests (a plain module with a unique name, not a conftest, so it imports anywhere).

The relay sits between the client and the real API server and can cut every connection and refuse new ones for a
while: a real dropped connection (the bytes of a real TLS session stop), which neither the API server nor the fault
server can be asked to do to one watch on demand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

from airflow_k8s_reconcile.domain.reconcile.desired.markers import (
    HASH_ANNOTATION,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    OWNER_ANNOTATION,
    content_hash,
)

SECRET_VALUE = "hunter2-do-not-leak"
DATA = {"level": "info", "password": SECRET_VALUE}
GROUP, VERSION, PLURAL = "drift.example.com", "v1", "widgets"


def configmap_body(name: str, data: dict[str, str], *, owner: str = "dag/task") -> dict[str, Any]:
    """Return a ConfigMap as the reconcile writes it: managed-by label, owner and content-hash annotations."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "labels": {MANAGED_BY_LABEL: MANAGED_BY_VALUE},
            "annotations": {OWNER_ANNOTATION: owner, HASH_ANNOTATION: content_hash(data, {}, False)},
        },
        "data": dict(data),
    }


class Relay:
    """A loopback TCP relay to an upstream ``host:port`` that can drop every connection on demand."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.blocked = threading.Event()
        self.connections: list[socket.socket] = []
        self.accepted = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.getsockname()[1])

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            if self.blocked.is_set():
                conn.close()
                continue
            upstream = socket.create_connection(self.upstream)
            with self._lock:
                self.accepted += 1
                self.connections += [conn, upstream]
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones until :meth:`restore`."""
        self.blocked.set()
        with self._lock:
            connections, self.connections = self.connections, []
        for sock in connections:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def restore(self) -> None:
        self.blocked.clear()

    def close(self) -> None:
        self.cut()
        self._server.close()


async def next_event(events: AsyncIterator[Any], seconds: float = 30.0) -> Any:
    """Return the next event of a trigger's ``run()`` (as the triggerer iterates it), failing after ``seconds``."""
    return await asyncio.wait_for(anext(events), seconds)


class WatchOpened(logging.Handler):
    """Count the watch requests the watch helper opens (its DEBUG line comes right before each request)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.opened = 0
        self._changed = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        # Logged from the coroutine itself, so on the loop's thread: setting the event directly is safe.
        if record.getMessage().startswith("Watching "):
            self.opened += 1
            self._changed.set()

    async def wait(self, count: int = 1) -> None:
        """Wait until ``count`` watches were opened: from then on, every change reaches the watch."""
        async with asyncio.timeout(30):
            while self.opened < count:
                self._changed.clear()
                await self._changed.wait()


@contextlib.contextmanager
def watch_opened() -> Iterator[WatchOpened]:
    """Attach a :class:`WatchOpened` to the watch helper's logger for the block."""
    logger = logging.getLogger("airflow_k8s_reconcile.hooks.watch")
    handler, level = WatchOpened(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
