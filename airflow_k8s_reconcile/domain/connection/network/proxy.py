"""The effective proxy for API requests: one decision, made here, and applied by the hooks exactly as decided.

Decides, as kubectl (client-go) does on the same inputs, whether requests to the API server go through a proxy:

1. the connection's ``proxy_url`` (this provider's own setting) wins;
2. else the kubeconfig cluster's ``proxy-url``: client-go installs it with ``http.ProxyURL``, so it is used for every
   request and ``NO_PROXY`` does not apply;
3. else the environment, with the rules of Go's ``golang.org/x/net/http/httpproxy`` (used by
   ``http.ProxyFromEnvironment``, which client-go wraps in ``utilnet.NewProxierWithNoProxyCIDR``):
   ``HTTPS_PROXY`` for ``https`` servers and ``HTTP_PROXY`` only for ``http`` ones (each upper case first, then lower
   case; the first non-empty wins), never for ``localhost`` or loopback IPs, and not when ``NO_PROXY`` covers the
   host: ``*``, an IP, a CIDR, or a domain (``example.com`` covers itself and its subdomains, ``.example.com`` and
   ``*.example.com`` only its subdomains), optionally with a port. Matching is by suffix of the name as written, so
   ``.cluster.local`` does not cover ``kubernetes.default.svc``, and no DNS lookup is made.

The Python clients decide differently (the sync ``Configuration()`` takes ``HTTP_PROXY`` even for https and lets it
beat ``HTTPS_PROXY``; both bypass a kubeconfig ``proxy-url`` when ``NO_PROXY`` matches), which is why the hooks
apply :attr:`ProxyDecision.url` and nothing else. Called by
:mod:`~airflow_k8s_reconcile.domain.connection.resolution`.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

from airflow_k8s_reconcile.domain.common.redaction import redact_url
from airflow_k8s_reconcile.domain.connection.setting_parsers import validate_proxy_url

_DEFAULT_PORTS = {"https": "443", "http": "80"}
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ProxyDecision:
    """The proxy requests use, and why.

    :param url: the proxy URL, or ``None`` for direct connections; may hold credentials, so not in ``repr``.
    :param origin: where it came from, e.g. ``environment variable HTTPS_PROXY``; empty when direct.
    :param reason: one sentence, secret-free, saying why this proxy (or none) is used.
    """

    url: str | None = dataclasses.field(default=None, repr=False)
    origin: str = ""
    reason: str = "No proxy is configured."

    @property
    def url_redacted(self) -> str | None:
        """Return the proxy URL with any ``user:password@`` replaced by ``***@``."""
        return redact_url(self.url) if self.url else None


def decide_proxy(
    server: str,
    *,
    connection: tuple[str | None, str],
    kubeconfig: tuple[str | None, str],
    environ: Mapping[str, str],
) -> ProxyDecision:
    """Return the proxy for requests to ``server``.

    :param server: the API server URL.
    :param connection: the validated ``proxy_url`` setting (or ``None``) and what set it, e.g.
        ``connection field 'proxy_url'``.
    :param kubeconfig: the selected cluster's validated ``proxy-url`` (or ``None``) and its label, e.g.
        ``proxy-url of cluster 'prod'``.
    :param environ: the process environment.
    :return: the decision.
    :raises ConnectionConfigError: ``CONN_BAD_PROXY_URL`` for an environment proxy that is not a proxy URL.
    """
    (connection_proxy, connection_origin), (kubeconfig_proxy, kubeconfig_origin) = connection, kubeconfig
    if connection_proxy:
        return ProxyDecision(
            url=connection_proxy,
            origin=connection_origin,
            reason=f"The {connection_origin} is used; it beats the kubeconfig and the environment.",
        )
    if kubeconfig_proxy:
        return ProxyDecision(
            url=kubeconfig_proxy,
            origin=kubeconfig_origin,
            reason=f"The {kubeconfig_origin} is used for every request, as kubectl does (NO_PROXY does not apply).",
        )
    return _from_environment(server, environ)


def _from_environment(server: str, environ: Mapping[str, str]) -> ProxyDecision:
    parts = urlsplit(server)
    scheme = parts.scheme.lower()
    names = ("HTTPS_PROXY", "https_proxy") if scheme == "https" else ("HTTP_PROXY", "http_proxy")
    name, value = _first_set(environ, names)
    if not value:
        ignored = _first_set(environ, ("HTTP_PROXY", "http_proxy"))[0] if scheme == "https" else ""
        if ignored:
            return ProxyDecision(
                reason=f"Direct: {ignored} is set but applies only to http:// servers, and {server} is https "
                "(kubectl ignores it too; set HTTPS_PROXY for https)."
            )
        return ProxyDecision()
    url = validate_proxy_url(value if "://" in value else f"http://{value}", f"environment variable {name}")
    host = (parts.hostname or "").lower()
    port = str(parts.port) if parts.port else _DEFAULT_PORTS.get(scheme, "")
    shown = redact_url(url)
    if is_loopback(host):
        return ProxyDecision(
            reason=f"Direct: {host} is a loopback address, which Go (kubectl) never sends through {name} ({shown})."
        )
    no_name, no_proxy = _first_set(environ, ("NO_PROXY", "no_proxy"))
    entry = _no_proxy_match(host, port, no_proxy)
    if entry is not None:
        return ProxyDecision(
            reason=f"Direct: {no_name} entry {entry!r} covers {host}, so {name} ({shown}) is not used."
        )
    return ProxyDecision(
        url=url,
        origin=f"environment variable {name}",
        reason=f"The environment variable {name} is used for {server}"
        + (f" ({no_name} does not cover {host})." if no_proxy else "."),
    )


def _first_set(environ: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str]:
    """Return the first variable with a non-empty value, as Go's ``getEnvAny`` does (upper case first)."""
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return name, value
    return "", ""


def is_loopback(host: str, *, broad: bool = False) -> bool:
    """Return whether ``host`` is a loopback name or address.

    :param host: a host name or IP (IPv6 with or without brackets).
    :param broad: also count ``*.localhost`` and the unspecified addresses (``0.0.0.0``, ``::``), which reach this
        machine too; without it, exactly Go's httpproxy rule (``localhost`` or a loopback IP).
    :return: the answer.
    """
    host = host.lower()
    if host == "localhost" or (broad and host.endswith(".localhost")):
        return True
    address = _ip(host)
    return address is not None and (address.is_loopback or (broad and address.is_unspecified))


def _ip(host: str) -> _IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _no_proxy_match(host: str, port: str, no_proxy: str) -> str | None:
    """Return the ``NO_PROXY`` entry that covers ``host:port``, or ``None`` (httpproxy ``config.init``/``useProxy``)."""
    address = _ip(host)
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return raw.strip()
        if "/" in entry:
            if address is not None and _in_network(address, entry):
                return raw.strip()
            continue
        entry_host, entry_port = _split_host_port(entry)
        entry_ip = _ip(entry_host)
        if entry_ip is not None:
            if address is not None and entry_ip == address and entry_port in ("", port):
                return raw.strip()
            continue
        if entry_host and _domain_covers(entry_host, host) and entry_port in ("", port):
            return raw.strip()
    return None


def no_proxy_entry(host: str, port: str, no_proxy: str) -> str | None:
    """Return the ``NO_PROXY`` entry that covers ``host:port``, or ``None``; the same rule :func:`decide_proxy` uses.

    Public for the preflight, which asks whether an entry that does not cover the host would cover the name the
    user probably meant (``.cluster.local`` and ``kubernetes.default.svc``).
    """
    return _no_proxy_match(host, port, no_proxy)


def _domain_covers(entry: str, host: str) -> bool:
    """Apply httpproxy's ``domainMatch``.

    ``example.com`` covers itself and its subdomains; ``.example.com`` and ``*.example.com`` only its subdomains.
    """
    if entry.startswith("*."):
        entry = entry[1:]
    if entry.startswith("."):
        return host.endswith(entry)
    return host == entry or host.endswith("." + entry)


def _in_network(address: _IPAddress, cidr: str) -> bool:
    try:
        return address in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def _split_host_port(entry: str) -> tuple[str, str]:
    """Split ``host:port`` / ``[v6]:port`` like ``net.SplitHostPort``; a bare host (or bare IPv6) has no port."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else ""
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        return host, port
    return entry, ""
