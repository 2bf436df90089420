"""The network part of the connection test's plan: proxy, DNS, TCP and TLS, in the order a connection is made.

Each check depends on the one before it, so a failure is reported once, at the hop that broke, and the later checks
are skipped naming it. TCP dials the addresses DNS returned (a derived request), and TLS shakes hands with the first
of them. With a proxy in effect, DNS and TCP test the path to the proxy, and TLS is left to the readiness request,
which goes through the proxy as every task request does. An ``http://`` server has no TLS check.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from airflow_k8s_reconcile.domain.common.catalogue import TLS_VIA_PROXY, finding
from airflow_k8s_reconcile.domain.common.checks import Check, Observation
from airflow_k8s_reconcile.domain.connection.network.hops import (
    Endpoint,
    InspectProxy,
    ProxyView,
    Resolved,
    ResolveName,
    endpoint_of,
    judge_dns,
    judge_proxy,
    judge_tcp,
    tcp_request,
)
from airflow_k8s_reconcile.domain.connection.network.tls_diagnosis import (
    TlsAnswer,
    TlsHandshake,
    judge_tls,
)
from airflow_k8s_reconcile.findings import Finding

PROXY, DNS, TCP, TLS = "proxy", "dns", "tcp", "tls"
# Deadlines of the network probes (seconds): long enough for a far region, short enough that a silent drop is
# reported in seconds (facts §5.4: connect 3 s).
PROBE_TIMEOUT = 3.0


def network_checks(
    *,
    server: str,
    proxy: ProxyView,
    tls_server_name: str | None,
    ca_pem: bytes | None,
    ca_source: str,
    verify: bool,
    timeout: float = PROBE_TIMEOUT,
) -> tuple[Check, ...]:
    """Return the proxy, DNS, TCP and TLS checks for ``server``.

    :param server: the API server URL.
    :param proxy: the proxy decision (:func:`~airflow_k8s_reconcile.domain.connection.network.hops.decide_proxy`).
    :param tls_server_name: the name to verify the certificate against, if not the URL's host.
    :param ca_pem: the configured CA bundle (``None``: the system trust store).
    :param ca_source: where the CA came from, for wording.
    :param verify: whether the client verifies the certificate.
    :param timeout: each probe's deadline.
    """
    endpoint = endpoint_of(server, proxy)
    target = "proxy" if endpoint.via_proxy else "API server"

    def judge_proxy_check(_: Observation, __: Mapping[str, Finding]) -> Finding:
        return judge_proxy(server, proxy)

    def judge_dns_check(observed: Observation, _: Mapping[str, Finding]) -> Finding:
        return judge_dns(endpoint, observed)

    def judge_tcp_check(observed: Observation, _: Mapping[str, Finding]) -> Finding:
        return judge_tcp(endpoint, observed, timeout)

    checks = [
        Check(id=PROXY, title="Proxy", request=InspectProxy(), judge=judge_proxy_check),
        Check(
            id=DNS,
            title="DNS",
            request=(
                InspectProxy()
                if endpoint.is_ip
                else ResolveName(host=endpoint.host, port=endpoint.port, timeout=timeout)
            ),
            judge=judge_dns_check,
            needs=(PROXY,),
        ),
        Check(
            id=TCP,
            title=f"TCP to the {target}",
            request=None,
            derive=lambda observed: tcp_request(endpoint, timeout, observed, DNS),
            judge=judge_tcp_check,
            needs=(DNS,),
        ),
    ]
    if urlsplit(server).scheme.lower() == "https":
        checks.append(_tls_check(server, endpoint, tls_server_name, ca_pem, ca_source, verify, timeout))
    return tuple(checks)


def _tls_check(
    server: str,
    endpoint: Endpoint,
    tls_server_name: str | None,
    ca_pem: bytes | None,
    ca_source: str,
    verify: bool,
    timeout: float,
) -> Check:
    host = (urlsplit(server).hostname or "").lower()
    name = tls_server_name or host

    def derive(observed: Mapping[str, Observation]) -> object:
        if endpoint.via_proxy:
            return InspectProxy()
        resolved = observed.get(DNS)
        address = resolved.addresses[0] if isinstance(resolved, Resolved) and resolved.addresses else host
        return TlsHandshake(
            address=address,
            port=endpoint.port,
            server_name=name,
            ca_pem=ca_pem,
            verify=verify,
            timeout=timeout,
        )

    def judge(observed: Observation, _: Mapping[str, Finding]) -> Finding:
        if isinstance(observed, Finding):
            return observed
        if endpoint.via_proxy:
            return finding(
                TLS_VIA_PROXY,
                "Requests go through a proxy, so no direct handshake was made; the readiness request verifies TLS "
                "end to end through it.",
            )
        if not isinstance(observed, TlsAnswer):
            raise TypeError(f"a runner fed back {type(observed).__name__} for a TLS handshake")
        return judge_tls(observed.request, observed, ca_source=ca_source, server=server)

    return Check(id=TLS, title="TLS", request=None, derive=derive, judge=judge, needs=(TCP,))
