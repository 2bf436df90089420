"""Turn Kubernetes client exceptions (sync and async) into this provider's errors, with a diagnosis.

The client libraries raise ``ApiException`` (whose ``str()`` dumps every response header and the body), urllib3
``MaxRetryError`` wrapping the real cause, or aiohttp connector errors. None of them reaches users: each becomes a
:class:`~airflow_k8s_reconcile.exceptions.ClusterAccessError` subclass carrying a
:class:`~airflow_k8s_reconcile.exceptions.Finding`, with the original chained as ``__cause__``.
"""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import ssl
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.common.redaction import redact_text
from airflow_k8s_reconcile.domain.connection.api.errors import (
    ApiFailure,
    TransportFailure,
    TransportKind,
    diagnose_api,
    diagnose_transport,
)
from airflow_k8s_reconcile.exceptions import (
    ClusterAccessError,
    ConflictError,
    InvalidSpecError,
    NotFoundError,
    PermissionDeniedError,
)

if TYPE_CHECKING:
    from airflow_k8s_reconcile.findings import Finding

_BY_STATUS: dict[int, type[ClusterAccessError]] = {
    401: PermissionDeniedError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidSpecError,
}


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        reason = getattr(current, "reason", None)
        nxt = reason if isinstance(reason, BaseException) else None
        current = nxt or current.__cause__ or current.__context__
    return seen


_RESET_NAMES = frozenset({"ProtocolError", "RemoteDisconnected", "ServerDisconnectedError", "ClientOSError"})
_RESET_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})


def _is_verification_failure(err: BaseException) -> bool:
    return isinstance(err, ssl.SSLCertVerificationError | ssl.CertificateError) or (
        "CERTIFICATE_VERIFY_FAILED" in str(err) or type(err).__name__ == "ClientConnectorCertificateError"
    )


_PROXY_UNREACHABLE_NAMES = frozenset(
    {
        "ClientProxyConnectionError",  # aiohttp: no TCP connection to the proxy
        "NewConnectionError",
        "ConnectTimeoutError",
        "NameResolutionError",
        "gaierror",
    }
)


def _proxy_kind(chain: list[BaseException], names: set[str], codes: set[int | None]) -> TransportKind:
    """Tell a proxy that could not be reached from one that answered CONNECT with an error.

    Both clients wrap either case in a proxy error (urllib3: ``ProxyError("Unable to connect to proxy", ...)``);
    the chain under it shows which: a refused, timed-out or unresolvable connection to the proxy itself, or the
    proxy's own answer (urllib3 ``Tunnel connection failed: 502 ...``, aiohttp ``ClientHttpProxyError``).
    """
    if "ClientHttpProxyError" in names or any("Tunnel connection failed" in str(err) for err in chain):
        return "proxy"
    if (
        names & _PROXY_UNREACHABLE_NAMES
        or codes & {errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ETIMEDOUT}
        or any(isinstance(err, ConnectionRefusedError | TimeoutError | socket.gaierror) for err in chain)
    ):
        return "proxy_unreachable"
    return "proxy"


def _classify(chain: list[BaseException]) -> tuple[TransportKind, str]:
    """Name the failure from the exception chain, in the order a connection is made (DNS, TCP, TLS, HTTP)."""
    names = {type(err).__name__ for err in chain}
    innermost = chain[-1]
    detail = str(innermost) or type(innermost).__name__
    codes = {getattr(err, "errno", None) for err in chain if isinstance(err, OSError)}
    verification = [err for err in chain if _is_verification_failure(err)]
    if verification:
        tls_errors = [err for err in chain if isinstance(err, ssl.SSLError | ssl.CertificateError)]
        return "tls", str((tls_errors or verification)[-1])
    if any("ProxyError" in name for name in names) or "ClientProxyConnectionError" in names:
        return _proxy_kind(chain, names, codes), detail
    if names & {"NameResolutionError", "ClientConnectorDNSError", "gaierror"}:
        return "dns", detail
    if names & {"ConnectTimeoutError", "ConnectionTimeoutError"}:
        return "connect_timeout", detail
    if names & {"ReadTimeoutError", "ServerTimeoutError", "SocketTimeoutError"} or any(
        isinstance(err, asyncio.TimeoutError | TimeoutError) for err in chain
    ):
        return "read_timeout", detail
    if errno.ECONNREFUSED in codes or any(isinstance(err, ConnectionRefusedError) for err in chain):
        return "refused", detail
    # SSLEOFError: the peer closed the TCP connection mid-handshake without a TLS alert; which of that and
    # ECONNRESET the client sees depends on timing, and both mean the server end went away.
    reset = any(
        isinstance(err, ConnectionResetError | BrokenPipeError | ConnectionAbortedError | ssl.SSLEOFError)
        for err in chain
    )
    if (
        reset
        or codes & _RESET_ERRNOS
        or names & _RESET_NAMES
        or "Connection aborted" in " ".join(map(str, chain))
    ):
        return "reset", detail
    ssl_errors = [err for err in chain if isinstance(err, ssl.SSLError)]
    if ssl_errors:
        return "tls", str(ssl_errors[-1])
    if codes & {errno.ENETUNREACH, errno.EHOSTUNREACH}:
        return "unreachable", detail
    if names & {"NewConnectionError", "ClientConnectorError"}:
        return ("refused" if "refused" in detail.lower() else "unreachable"), detail
    return "other", detail


def _status_body(body: Any) -> dict[str, Any]:
    if isinstance(body, bytes):
        body = body.decode(errors="replace")
    try:
        parsed = json.loads(body) if body else {}
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def header_of(headers: Any, name: str) -> str:
    """Return a response header of either client library (``""`` when absent)."""
    if not headers:
        return ""
    try:
        return str(headers.get(name, "") or "")
    except AttributeError:
        return ""


def is_api_exception(exc: BaseException) -> bool:
    """Return whether ``exc`` is an HTTP error response from either client library."""
    return type(exc).__name__ in {
        "ApiException",
        "UnauthorizedException",
        "ForbiddenException",
        "NotFoundException",
        "ServiceException",
        "ConflictException",
    } and bool(getattr(exc, "status", 0))


# Raised by the network stack itself (both clients usually wrap them, but not always: aiohttp lets timeouts and
# some TLS errors through). A plain OSError is not among them: FileNotFoundError or PermissionError from local code
# in a `diagnosed` block is a local fault, not the cluster's, and must not be retried as a network failure.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    socket.herror,
    ssl.SSLError,
    ssl.CertificateError,
)
# Errnos a raw socket OSError carries when the route, not the program, is at fault.
_NETWORK_ERRNOS = frozenset({errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN})


def is_client_error(exc: BaseException) -> bool:
    """Return whether ``exc`` comes from talking to the API server.

    That is an HTTP error response, or a transport error raised by urllib3, aiohttp or the socket/TLS layer.
    Programming errors and local file errors are not.
    """
    module = type(exc).__module__.split(".")[0]
    return (
        is_api_exception(exc)
        or module in {"urllib3", "aiohttp"}
        or isinstance(exc, NETWORK_ERRORS)
        or (type(exc) is OSError and exc.errno in _NETWORK_ERRNOS)
    )


def transport_kind(exc: BaseException) -> TransportKind:
    """Return the kind of a transport failure (``reset``, ``refused``, ``read_timeout``, ...)."""
    return _classify(_chain(exc))[0]


def translate(
    exc: BaseException, *, server: str, action: str = "", proxy: str | None = None
) -> ClusterAccessError:
    """Return the provider error for a client exception; raise it ``from exc``.

    :param server: the API server URL (shown in network findings).
    :param action: what was being attempted, e.g. ``list configmaps in namespace ns``.
    :raises TypeError: ``exc`` is not a client error (see :func:`is_client_error`): a bug must stay a bug, not be
        disguised as a network finding.
    """
    if not is_client_error(exc):
        raise TypeError(
            f"{type(exc).__name__} is not a Kubernetes client error; it is not translated"
        ) from exc
    if is_api_exception(exc):
        status = int(getattr(exc, "status", 0))
        body = _status_body(getattr(exc, "body", None))
        failure = ApiFailure(
            status=status,
            reason=str(body.get("reason") or getattr(exc, "reason", "") or ""),
            message=str(body.get("message") or getattr(exc, "reason", "") or ""),
            audit_id=header_of(getattr(exc, "headers", None), "Audit-Id"),
            action=action,
        )
        finding = diagnose_api(failure)
        cls = _BY_STATUS.get(status, ClusterAccessError)
        return cls(
            finding.render(), status=status, reason=failure.reason, audit_id=failure.audit_id, finding=finding
        )
    kind, detail = _classify(_chain(exc))
    finding = diagnose_transport(
        TransportFailure(kind=kind, detail=redact_text(detail), server=server, proxy=proxy)
    )
    return ClusterAccessError(finding.render(), finding=finding)


def failure_finding(
    exc: BaseException, *, server: str, action: str = "", proxy: str | None = None
) -> Finding:
    """Return the finding for a client error, as :func:`translate` diagnoses it (for check runners)."""
    error = translate(exc, server=server, action=action, proxy=proxy)
    if error.finding is None:  # pragma: no cover - translate() always attaches one
        raise AssertionError("translate() returned an error without a finding")
    return error.finding
