"""Preflight checks 2-4 and 6: the proxy in effect, DNS, TCP, and the API server's readiness.

Each check is a request (a value the runners in ``hooks`` perform with a short deadline) and a pure judge of what
came back, so a failure names the hop that broke, in the order a connection is made (connection-and-preflight
facts §1.D-§1.F, §3.3):

- proxy: which proxy requests to the API server use, and why (the one decision of :mod:`.proxy`, which the clients
  apply); a ``NO_PROXY`` that seems meant to cover the server but does not (``.cluster.local`` does not cover ``kubernetes.default.svc``: matching is by suffix of the name as
  written, Go's ``httpproxy``) is a warning;
- DNS (host names only): "name does not exist" (``EAI_NONAME``) is a wrong name or a cluster-internal name used
  outside the cluster, while "no answer" (``EAI_AGAIN`` or our deadline) is a resolver that cannot be reached,
  typically DNS egress blocked by a NetworkPolicy;
- TCP to every resolved address: refused (nothing listens) vs timed out (a silent drop: NetworkPolicy or firewall)
  vs unreachable (no route);
- readiness: ``/readyz`` (200 or not) and ``/version``, without retries, and the server's ``Date`` header against
  the local clock (tokens and certificates are judged by it).

With a proxy in effect, DNS and TCP test the path to the proxy (the proxy resolves and dials the API server).
"""

from __future__ import annotations

import dataclasses
import email.utils
import ipaddress
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urlsplit

from airflow_k8s_reconcile.domain.common.catalogue import (
    API_CLOCK_SKEW,
    API_NOT_READY,
    NET_CONNECT_TIMEOUT,
    NET_CONNECTION_REFUSED,
    NET_DNS_NAME_NOT_FOUND,
    NET_DNS_NOT_NEEDED,
    NET_DNS_RESOLVED,
    NET_DNS_RESOLVER_UNREACHABLE,
    NET_NO_PROXY_MISMATCH,
    NET_PROXY_IN_USE,
    NET_PROXY_NONE,
    NET_REQUEST_FAILED,
    NET_TCP_CONNECTED,
    NET_TCP_PARTIAL,
    NET_UNREACHABLE,
    finding,
)
from airflow_k8s_reconcile.domain.common.redaction import redact_url
from airflow_k8s_reconcile.domain.connection.network.proxy import ProxyDecision, no_proxy_entry
from airflow_k8s_reconcile.findings import Finding

# Beyond this the server's and our idea of "now" disagree enough to reject fresh tokens (nbf/iat) or certificates.
CLOCK_SKEW_LIMIT_SECONDS = 30.0
_PORTS = {"https": 443, "http": 80}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """Where a connection goes first: the API server, or the proxy when one is in effect."""

    host: str
    port: int
    via_proxy: bool = False

    @property
    def is_ip(self) -> bool:
        """Return whether ``host`` is an IP address (nothing to resolve)."""
        return _ip(self.host) is not None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ProxyView:
    """The proxy decision as the report shows it.

    :param url: the proxy URL, or ``None`` for direct; may hold credentials, so not in ``repr``.
    :param origin: where it came from (``connection or kubeconfig``, ``environment variable HTTPS_PROXY``).
    :param reason: one secret-free sentence.
    :param mismatch: a ``NO_PROXY`` entry that looks meant for the server but does not cover it.
    """

    url: str | None = dataclasses.field(default=None, repr=False)
    origin: str = ""
    reason: str = "No proxy is configured."
    mismatch: str = ""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InspectProxy:
    """Nothing to send: the proxy check is decided from the configuration; observed as ``None``."""

    action = "decide the proxy"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ResolveName:
    """``getaddrinfo(host, port)`` with a deadline; observed as :class:`Resolved` or :class:`NotResolved`."""

    host: str
    port: int
    timeout: float

    @property
    def action(self) -> str:
        """Return what the request does, for failure messages."""
        return f"resolve {self.host}"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    """The addresses a name resolved to, in the resolver's order, deduplicated."""

    addresses: tuple[str, ...]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NotResolved:
    """Why a name did not resolve: ``no_name`` (EAI_NONAME/EAI_NODATA), ``no_answer`` (EAI_AGAIN) or ``timeout``."""

    kind: Literal["no_name", "no_answer", "timeout", "other"]
    detail: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ConnectTcp:
    """A TCP connect to each address, concurrently, with a deadline; observed as :class:`TcpResults`."""

    addresses: tuple[str, ...]
    port: int
    timeout: float

    @property
    def action(self) -> str:
        """Return what the request does, for failure messages."""
        return f"connect to port {self.port}"


TcpOutcome = Literal["connected", "refused", "timeout", "unreachable", "error"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TcpResults:
    """Per address: the outcome and the error text (empty when connected)."""

    results: tuple[tuple[str, TcpOutcome, str], ...]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReadHealth:
    """``GET /readyz`` then ``GET /version`` through the client (no retries); observed as :class:`Health`."""

    action = "read /readyz and /version"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Health:
    """What readiness observed: ``/readyz``'s status, the version, the ``Date`` header and our clock then."""

    ready_status: int
    version: str = ""
    server_date: str = ""
    local_time: float = 0.0


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def endpoint_of(server: str, proxy: ProxyView) -> Endpoint:
    """Return where the first hop goes: the proxy when one is in effect, else the API server."""
    parts = urlsplit(proxy.url or server)
    scheme = (parts.scheme or "https").lower()
    default = 3128 if proxy.url and scheme == "http" else _PORTS.get(scheme, 443)
    return Endpoint(host=parts.hostname or "", port=parts.port or default, via_proxy=bool(proxy.url))


def _mismatch(host: str, port: int, no_proxy: str) -> str:
    """Return a ``NO_PROXY`` entry that looks meant for ``host`` but does not cover it (the cluster-domain trap).

    ``.cluster.local`` covers ``kubernetes.default.svc.cluster.local`` but not ``kubernetes.default.svc``: matching
    is by suffix of the name as written. IPv6 CIDRs are a known gap of the Python clients (facts F4).
    """
    entries = [entry.strip() for entry in no_proxy.split(",") if entry.strip()]
    address = _ip(host)
    if address is not None and address.version == 6:
        return next((entry for entry in entries if "/" in entry), "")
    if host.endswith(".svc"):
        return no_proxy_entry(f"{host}.cluster.local", str(port), no_proxy) or ""
    return ""


def proxy_view(decision: ProxyDecision, server: str, environ: Mapping[str, str]) -> ProxyView:
    """Return the proxy check's view of the one proxy decision (:mod:`.proxy`), with the NO_PROXY trap if any.

    :param decision: ``Resolution.proxy``: the proxy the clients apply, its origin and the reason.
    :param server: the API server URL.
    :param environ: the environment the decision was made from (for ``NO_PROXY``).
    """
    mismatch = ""
    if decision.url and decision.origin.startswith("environment"):
        parts = urlsplit(server)
        no_proxy = next((environ[n] for n in ("NO_PROXY", "no_proxy") if environ.get(n)), "")
        port = parts.port or _PORTS.get(parts.scheme.lower(), 443)
        mismatch = _mismatch((parts.hostname or "").lower(), port, no_proxy) if no_proxy else ""
    return ProxyView(url=decision.url, origin=decision.origin, reason=decision.reason, mismatch=mismatch)


def judge_proxy(server: str, proxy: ProxyView) -> Finding:
    """Return the proxy check's finding."""
    host = urlsplit(server).hostname or ""
    if proxy.mismatch:
        return finding(
            NET_NO_PROXY_MISMATCH,
            f"{proxy.reason.rstrip('.')}: the entry {proxy.mismatch!r} looks meant for it, but NO_PROXY matches by "
            f"suffix of the name as written ({host!r} does not end with it), so the proxy is used.",
            f"Add {host!r} (or '.svc', or the service IP) to NO_PROXY, or remove the proxy variable.",
            evidence={"proxy": redact_url(proxy.url or ""), "entry": proxy.mismatch, "host": host},
        )
    if proxy.url:
        return finding(
            NET_PROXY_IN_USE,
            proxy.reason,
            evidence={"proxy": redact_url(proxy.url), "origin": proxy.origin},
        )
    return finding(NET_PROXY_NONE, proxy.reason if proxy.reason.startswith("Direct") else "Direct: no proxy.")


def judge_dns(endpoint: Endpoint, observed: object) -> Finding:
    """Return the DNS check's finding (``NET_DNS_NOT_NEEDED`` for an IP address)."""
    what = f"the proxy host {endpoint.host}" if endpoint.via_proxy else endpoint.host
    if isinstance(observed, Finding):
        return observed
    if endpoint.is_ip:
        return finding(NET_DNS_NOT_NEEDED, f"{what} is an IP address; nothing to resolve.")
    if isinstance(observed, Resolved):
        return finding(
            NET_DNS_RESOLVED,
            f"{what} resolved to {', '.join(observed.addresses)}.",
            evidence={"host": endpoint.host, "addresses": ",".join(observed.addresses)},
        )
    if not isinstance(observed, NotResolved):
        raise TypeError(f"a runner fed back {type(observed).__name__} for a DNS lookup")
    evidence = {"host": endpoint.host, "detail": observed.detail}
    if observed.kind == "no_name":
        internal = endpoint.host.endswith((".svc", ".cluster.local", ".svc.cluster.local"))
        hint = (
            " Cluster-internal names (*.svc, *.cluster.local) resolve only inside the cluster."
            if internal
            else ""
        )
        return finding(
            NET_DNS_NAME_NOT_FOUND,
            f"The resolver answered that {what} does not exist ({observed.detail}).{hint}",
            "Correct the server address (kubeconfig 'server' or the connection's api_server); outside the "
            "cluster use its external address; inside it, use in_cluster.",
            evidence=evidence,
        )
    return finding(
        NET_DNS_RESOLVER_UNREACHABLE,
        f"No DNS resolver answered for {what} ({observed.detail}): the name may exist, but the resolver cannot be "
        "reached.",
        "Allow DNS egress (UDP and TCP port 53) to the resolver in /etc/resolv.conf (kube-dns, or NodeLocal DNS "
        "169.254.20.10) in the pod's NetworkPolicy or the firewall; then run the check again.",
        evidence=evidence,
    )


def tcp_request(
    endpoint: Endpoint, timeout: float, observed: Mapping[str, object], dns_id: str
) -> ConnectTcp:
    """Return the TCP probe for the addresses DNS returned (or the literal IP)."""
    resolved = observed.get(dns_id)
    addresses = resolved.addresses if isinstance(resolved, Resolved) else (endpoint.host.strip("[]"),)
    return ConnectTcp(addresses=addresses[:8], port=endpoint.port, timeout=timeout)


def judge_tcp(endpoint: Endpoint, observed: object, timeout: float) -> Finding:
    """Return the TCP check's finding: refused vs timed out (silent drop) vs unreachable, per address."""
    if isinstance(observed, Finding):
        return observed
    if not isinstance(observed, TcpResults):
        raise TypeError(f"a runner fed back {type(observed).__name__} for a TCP probe")
    port = endpoint.port
    outcomes = {address: outcome for address, outcome, _ in observed.results}
    evidence = {"port": str(port), **{f"address {a}": o for a, o in outcomes.items()}}
    ok = [a for a, o in outcomes.items() if o == "connected"]
    target = "the proxy" if endpoint.via_proxy else "the API server"
    if ok and len(ok) == len(outcomes):
        return finding(
            NET_TCP_CONNECTED, f"{target} accepted TCP on {', '.join(ok)} port {port}.", evidence=evidence
        )
    bad = ", ".join(f"{a} ({o})" for a, o in outcomes.items() if o != "connected")
    if ok:
        return finding(
            NET_TCP_PARTIAL,
            f"{target} accepted TCP on {', '.join(ok)} but not on {bad}, port {port}.",
            "Remove the dead addresses from DNS, or allow them in the firewall/NetworkPolicy.",
            evidence=evidence,
        )
    kinds = set(outcomes.values())
    if "timeout" in kinds:
        return finding(
            NET_CONNECT_TIMEOUT,
            f"No answer to TCP connects to {bad} port {port} within {timeout:g} s: packets are silently dropped, "
            "typically by a NetworkPolicy egress rule or a firewall (a closed port would refuse at once).",
            "Allow egress to the API server's endpoint addresses and port (NetworkPolicy applies after the Service "
            "address is rewritten to the endpoint address, often port 6443), plus DNS (port 53); check cloud "
            "firewalls and the API server's authorized networks.",
            evidence=evidence,
        )
    if kinds <= {"refused"}:
        return finding(
            NET_CONNECTION_REFUSED,
            f"{bad} port {port} refused the TCP connection: nothing listens there.",
            "Check the server URL's host and port; a kubeconfig written for the host machine (127.0.0.1) does not "
            "work inside a pod: use in_cluster there.",
            evidence=evidence,
        )
    if "unreachable" not in kinds:
        details = "; ".join(f"{a}: {d}" for a, o, d in observed.results if o != "connected")
        return finding(
            NET_REQUEST_FAILED,
            f"TCP connects to {bad} port {port} failed ({details}).",
            "Check the address and port of the server URL and the local network configuration.",
            evidence=evidence,
        )
    return finding(
        NET_UNREACHABLE,
        f"{bad} port {port} is unreachable from here (no route to it).",
        "Check the routes and VPN to the cluster's network, or use an address reachable from this machine.",
        evidence=evidence,
    )


def server_time(header: str) -> datetime | None:
    """Return the time in an HTTP ``Date`` header (RFC 9110 §5.6.7), or ``None``."""
    try:
        parsed = email.utils.parsedate_to_datetime(header) if header else None
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(UTC) if parsed is not None else None


def clock_skew(health: Health) -> float | None:
    """Return the server's clock minus ours, in seconds (``None`` without a ``Date`` header)."""
    server = server_time(health.server_date)
    return None if server is None else server.timestamp() - health.local_time


def judge_readiness(health: Health, reachable: Finding) -> Finding:
    """Return readiness's finding: not ready, clock skew, or ``reachable`` (the passing finding with the version)."""
    if health.ready_status != 200:
        return finding(
            API_NOT_READY,
            f"The API server answered /readyz with HTTP {health.ready_status}: it is up but not ready (starting, "
            "or etcd or a post-start hook failing).",
            "Wait and run the check again; if it persists, an admin can read /readyz?verbose for the failing check.",
            evidence={"http_status": str(health.ready_status)},
        )
    skew = clock_skew(health)
    if skew is not None and abs(skew) > CLOCK_SKEW_LIMIT_SECONDS:
        direction = "ahead of" if skew > 0 else "behind"
        return finding(
            API_CLOCK_SKEW,
            f"The API server's clock is {abs(skew):.0f} s {direction} this machine's (Date: {health.server_date}); "
            "fresh tokens and certificates may be judged not yet valid or expired.",
            "Synchronise the clocks (NTP) on this machine and on the control plane.",
            evidence={"skew_seconds": f"{skew:.0f}", "version": health.version},
        )
    return reachable
