"""A tiny loopback server for faults a real API server cannot be made to produce on demand.

Modes: ``hang`` (accepts, never answers), ``reset`` (accepts, then resets the connection), ``plain-http`` (answers
without TLS on an https URL), ``expired-tls`` (TLS with an expired certificate from its own CA),
``not-yet-valid-tls`` (a certificate valid from tomorrow), ``wrong-name-tls`` (a certificate for
``api.internal.example`` only, not for 127.0.0.1), ``full-backlog`` (a listener whose accept queue is full, so
connects time out as behind a firewall that drops SYNs; Linux queues ``backlog + 1`` connections and then drops)
and ``status``
(TLS, answers every request with a Kubernetes ``Status`` of the given HTTP code, e.g. 429 or 503; or, with
``statuses``, follows a script such as 429 then 200, where 200 answers with a ``/version`` document). Everything
else is tested against the real local control plane.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import socket
import socketserver
import ssl
import struct
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from airflow_k8s_reconcile.testing import certs

Mode = Literal[
    "hang",
    "reset",
    "plain-http",
    "expired-tls",
    "not-yet-valid-tls",
    "wrong-name-tls",
    "full-backlog",
    "status",
]
_TLS_MODES = frozenset({"expired-tls", "not-yet-valid-tls", "wrong-name-tls", "status"})
WRONG_NAME = "api.internal.example"


def _certificate(directory: Path, mode: str) -> tuple[Path, Path, Path]:
    """Write a CA and a serving certificate for the mode (127.0.0.1 unless wrong-name); return (ca, cert, key)."""
    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)
    not_before, not_after = now - 10 * day, now + 10 * day
    if mode == "expired-tls":
        not_after = now - day
    elif mode == "not-yet-valid-tls":
        not_before = now + day
    ca_cert, ca_key = certs.self_signed(
        "fault CA", not_before=now - 30 * day, not_after=now + 30 * day, ca=True
    )
    cert, key = certs.issue(
        "fault",
        ca_cert=ca_cert,
        ca_key=ca_key,
        not_before=not_before,
        not_after=not_after,
        sans=(WRONG_NAME,) if mode == "wrong-name-tls" else ("127.0.0.1",),
        server_auth=True,
    )
    paths = (directory / "ca.crt", directory / "tls.crt", directory / "tls.key")
    for path, data in zip(paths, (ca_cert, cert, key), strict=True):
        path.write_bytes(data)
    return paths


def _read_request(tls: ssl.SSLSocket) -> str:
    """Read one whole request (unread body bytes would turn our close into a reset); return ``METHOD /path``."""
    data = b""
    while b"\r\n\r\n" not in data and (chunk := tls.recv(65536)):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        (int(v) for k, _, v in (x.partition(":") for x in lines[1:]) if k.lower() == "content-length"), 0
    )
    while len(body) < length and (chunk := tls.recv(65536)):
        body += chunk
    return " ".join(lines[0].split(" ")[:2])


class FaultServer:
    """Serve one fault mode on ``127.0.0.1``; use as a context manager.

    :param mode: which fault to produce.
    :param status: the HTTP status for ``status`` mode.
    :param statuses: for ``status`` mode, the status of each request in turn (the last one repeats).
    :param retry_after: the ``Retry-After`` header of error answers (``""`` sends none).
    :param ca_path: for TLS modes, the CA a client must trust (set on start).
    :param requests: the ``METHOD /path`` of each request answered in ``status`` mode, in order (in ``reset``
        mode, one entry per connection reset).
    """

    def __init__(
        self, mode: Mode, *, status: int = 503, statuses: Sequence[int] = (), retry_after: str = "1"
    ) -> None:
        self.mode = mode
        self.status = status
        self.statuses = tuple(statuses) or (status,)
        self.retry_after = retry_after
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self.ca_path: Path | None = None
        self._stop = threading.Event()
        self._tmp = tempfile.TemporaryDirectory(prefix="fault-server-")
        self._server: socketserver.ThreadingTCPServer | None = None
        self._backlog: list[socket.socket] = []

    @property
    def url(self) -> str:
        """Return the ``https://127.0.0.1:<port>`` URL clients should use."""
        if self._backlog:
            return f"https://127.0.0.1:{self._backlog[0].getsockname()[1]}"
        assert self._server is not None  # noqa: S101 - only after start
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def _context(self) -> ssl.SSLContext | None:
        if self.mode not in _TLS_MODES:
            return None
        self.ca_path, cert, key = _certificate(Path(self._tmp.name), self.mode)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        return context

    def _handle(self, conn: socket.socket, context: ssl.SSLContext | None) -> None:
        if self.mode == "hang":
            self._stop.wait(60)
        elif self.mode == "reset":
            with self._lock:
                self.requests.append("(connection reset)")
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif self.mode == "plain-http":
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        elif context is not None:
            with (
                contextlib.suppress(ssl.SSLError, OSError),
                context.wrap_socket(conn, server_side=True) as tls,
            ):
                tls.sendall(self._answer(_read_request(tls)))

    def _answer(self, request: str) -> bytes:
        with self._lock:
            self.requests.append(request)
            status = self.statuses[min(len(self.requests), len(self.statuses)) - 1]
        if status == 200:
            version = {"major": "1", "minor": "20", "gitVersion": "v1.20.2-fault", "gitCommit": "fault"}
            version |= {"gitTreeState": "clean", "buildDate": "2021-01-13T13:20:00Z", "goVersion": "go1.19"}
            version |= {"compiler": "gc", "platform": "linux/amd64"}
            body = json.dumps(version).encode()
            extra = ""
        else:
            body = json.dumps(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "code": status,
                    "reason": "TooManyRequests" if status == 429 else "ServiceUnavailable",
                    "message": f"fault server answered {status}",
                }
            ).encode()
            extra = f"Retry-After: {self.retry_after}\r\n" if self.retry_after else ""
        head = (
            f"HTTP/1.1 {status} Fault\r\nContent-Type: application/json\r\n{extra}"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        return head + body

    def _fill_backlog(self) -> None:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)  # never accepted: one queued connection fills it
        filler = socket.create_connection(listener.getsockname(), timeout=2)
        self._backlog = [listener, filler]

    def __enter__(self) -> FaultServer:
        if self.mode == "full-backlog":
            self._fill_backlog()
            return self
        context = self._context()
        server = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                server._handle(self.request, context)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for sock in self._backlog:
            sock.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        self._tmp.cleanup()
