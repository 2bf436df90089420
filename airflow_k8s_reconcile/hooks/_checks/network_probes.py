"""Perform the network checks' requests (DNS, TCP, TLS) with deadlines; decide nothing.

Blocking socket work, run as is by the sync runner and in a thread by the async one. The judgement is the core's
(:mod:`~airflow_k8s_reconcile.domain.connection.network.hops`, :mod:`~airflow_k8s_reconcile.domain.connection.network.tls_diagnosis`).

Safety: the TLS probe never sends a credential. The verified handshake presents no client certificate and sends
no request; after a failure, the certificate is fetched on a second, unverified connection that is closed right
after the handshake; the clear-text ``HEAD /`` that recognises plain HTTP carries no header but ``Host``.
"""

from __future__ import annotations

import errno
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from airflow_k8s_reconcile.domain.connection.network.hops import (
    ConnectTcp,
    NotResolved,
    Resolved,
    ResolveName,
    TcpOutcome,
    TcpResults,
)
from airflow_k8s_reconcile.domain.connection.network.tls_diagnosis import TlsAnswer, TlsHandshake

_NO_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
_NO_ANSWER = {socket.EAI_AGAIN}
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}


def resolve(request: ResolveName) -> Resolved | NotResolved:
    """Resolve ``request.host`` in a daemon thread, giving up at the deadline (``getaddrinfo`` has none).

    A lookup left running past the deadline finishes (or not) in its thread and is ignored: the resolver library
    offers no way to cancel it.
    """
    outcome: list[object] = []

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(request.host, request.port, type=socket.SOCK_STREAM))
        except OSError as err:
            outcome.append(err)

    worker = threading.Thread(target=lookup, name=f"dns-{request.host}", daemon=True)
    worker.start()
    worker.join(request.timeout)
    if not outcome:
        return NotResolved(kind="timeout", detail=f"no answer within {request.timeout:g} s")
    answer = outcome[0]
    if isinstance(answer, socket.gaierror):
        kind: Literal["no_name", "no_answer", "other"] = (
            "no_name" if answer.errno in _NO_NAME else "no_answer" if answer.errno in _NO_ANSWER else "other"
        )
        return NotResolved(kind=kind, detail=f"[Errno {answer.errno}] {answer.strerror}")
    if isinstance(answer, OSError):
        return NotResolved(kind="other", detail=str(answer))
    assert isinstance(answer, list)  # noqa: S101 - getaddrinfo's result
    addresses = [str(info[4][0]) for info in answer]
    return Resolved(addresses=tuple(dict.fromkeys(addresses)))


def _connect_one(address: str, port: int, timeout: float) -> tuple[str, TcpOutcome, str]:
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return address, "connected", ""
    except ConnectionRefusedError as err:
        return address, "refused", str(err)
    except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
        # A reset (or EPIPE) during connect() comes from a peer that completed the handshake and aborted: TCP got
        # through; the TLS check reports what the peer does.
        return address, "connected", "accepted, then reset"
    except TimeoutError as err:
        return address, "timeout", str(err) or "timed out"
    except OSError as err:
        return address, ("unreachable" if err.errno in _UNREACHABLE else "error"), str(err)


def connect(request: ConnectTcp) -> TcpResults:
    """Connect to every address concurrently (closing at once); return each outcome."""
    if not request.addresses:
        return TcpResults(results=())
    with ThreadPoolExecutor(max_workers=len(request.addresses)) as pool:
        results = pool.map(lambda a: _connect_one(a, request.port, request.timeout), request.addresses)
        return TcpResults(results=tuple(results))


def _context(request: TlsHandshake) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if request.ca_pem:
        context = ssl.create_default_context(cadata=request.ca_pem.decode("ascii", "replace"))
    if not request.verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _failure(err: BaseException) -> str:
    if isinstance(err, ssl.SSLCertVerificationError | ssl.CertificateError):
        return "verify"
    if isinstance(err, ConnectionResetError | ssl.SSLEOFError | BrokenPipeError):
        return "reset"
    if isinstance(err, TimeoutError):
        return "timeout"
    if isinstance(err, ssl.SSLError):
        return "protocol"
    return "other"


def _served_certificate(request: TlsHandshake) -> bytes:
    """Return the leaf certificate as served, from an UNVERIFIED handshake: for diagnosis only, nothing is sent."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((request.address, request.port), timeout=request.timeout) as sock,
            context.wrap_socket(sock, server_hostname=request.server_name) as tls,
        ):
            return tls.getpeercert(binary_form=True) or b""
    except OSError:
        return b""


def _speaks_plain_http(request: TlsHandshake) -> bool:
    """Return whether the port answers a clear-text ``HEAD /`` (no credentials) with an HTTP status line."""
    try:
        with socket.create_connection((request.address, request.port), timeout=request.timeout) as sock:
            sock.sendall(f"HEAD / HTTP/1.0\r\nHost: {request.server_name}\r\n\r\n".encode("ascii", "replace"))
            return sock.recv(16).startswith(b"HTTP/")
    except OSError:
        return False


def handshake(request: TlsHandshake) -> TlsAnswer:
    """Shake hands as the client would; after a failure, gather what the diagnosis needs (see module docstring)."""
    started = time.time()
    try:
        with (
            socket.create_connection((request.address, request.port), timeout=request.timeout) as sock,
            _context(request).wrap_socket(sock, server_hostname=request.server_name) as tls,
        ):
            return TlsAnswer(request=request, ok=True, version=tls.version() or "", local_time=started)
    except OSError as err:  # ssl.SSLError and socket errors are OSErrors
        failure = _failure(err)
        error = str(err) or type(err).__name__
    if failure in {"reset", "timeout"}:
        return TlsAnswer(request=request, ok=False, failure=failure, error=error, local_time=started)  # type: ignore[arg-type]
    served = _served_certificate(request)
    plain = not served and failure == "protocol" and _speaks_plain_http(request)
    return TlsAnswer(
        request=request,
        ok=False,
        failure=failure,  # type: ignore[arg-type]
        error=error,
        peer_der=served,
        plain_http=plain,
        local_time=started,
    )
