"""Diagnose what went wrong on the wire or at the API server, from plain facts the hooks extract.

Hooks turn client exceptions (urllib3/aiohttp transport errors, ``ApiException``) into a :class:`TransportFailure`
or an :class:`ApiFailure`; this module decides what it means and what to do, following the order of the
connection path: DNS, TCP, proxy, TLS, authentication (401 vs anonymous 403), authorization (RBAC 403), request.
Kubernetes' own rules are cited where they decide the diagnosis. Called by ``hooks._errors``.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

from airflow_k8s_reconcile.domain.common.catalogue import (
    API_CONFLICT,
    API_INVALID,
    API_NOT_FOUND,
    API_RATE_LIMITED,
    API_SERVER_ERROR,
    API_UNEXPECTED_STATUS,
    AUTH_ANONYMOUS,
    AUTH_CREDENTIALS_REJECTED,
    NET_CONNECT_TIMEOUT,
    NET_CONNECTION_REFUSED,
    NET_CONNECTION_RESET,
    NET_DNS_FAILURE,
    NET_PROXY_FAILURE,
    NET_READ_TIMEOUT,
    NET_REQUEST_FAILED,
    NET_UNREACHABLE,
    RBAC_FORBIDDEN,
    TLS_CERT_EXPIRED,
    TLS_CERT_NOT_YET_VALID,
    TLS_HANDSHAKE_FAILED,
    TLS_HOSTNAME_MISMATCH,
    TLS_VERIFY_FAILED,
    TLS_WRONG_PROTOCOL,
    finding,
)
from airflow_k8s_reconcile.domain.common.redaction import redact_text
from airflow_k8s_reconcile.findings import Finding, Status

TransportKind = Literal[
    "dns",
    "refused",
    "connect_timeout",
    "read_timeout",
    "proxy",
    "proxy_unreachable",
    "reset",
    "unreachable",
    "tls",
    "other",
]
_ANONYMOUS = "system:anonymous"
# Format of RBAC denials, from k8s.io/apiserver endpoints/handlers/responsewriters/errors.go (forbiddenMessage).
_FORBIDDEN = re.compile(
    r'User "(?P<user>[^"]*)" cannot (?P<verb>\S+) (?:resource "(?P<resource>[^"]*)"'
    r'(?: in API group "(?P<group>[^"]*)")?(?: in the namespace "(?P<namespace>[^"]*)"| at the cluster scope)?'
    r'|path "(?P<path>[^"]*)")'
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TransportFailure:
    """No HTTP response arrived. ``detail`` is the innermost error text (already free of secrets)."""

    kind: TransportKind
    detail: str
    server: str
    proxy: str | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ApiFailure:
    """The API server answered with an error ``Status``."""

    status: int
    reason: str
    message: str
    audit_id: str = ""
    action: str = ""


def _finding(code: str, cause: str, fix: str, **evidence: str) -> Finding:
    return finding(code, cause, fix, status=Status.FAIL, evidence={k: v for k, v in evidence.items() if v})


def _tls_finding(failure: TransportFailure) -> Finding:
    detail = failure.detail
    lowered = detail.lower()
    server = failure.server
    if "mismatch" in lowered or "doesn't match" in lowered or "not valid for" in lowered:
        return _finding(
            TLS_HOSTNAME_MISMATCH,
            f"The certificate served by {server} is not valid for the host name or IP used to reach it ({detail}).",
            "Connect with a name listed in the certificate's SANs, or set tls_server_name (kubeconfig "
            "tls-server-name) to one of them.",
            server=server,
        )
    if "has expired" in lowered:
        return _finding(
            TLS_CERT_EXPIRED,
            f"The certificate served by {server} has expired, or this machine's clock is ahead ({detail}).",
            "Rotate the API server certificate, or fix this machine's clock (NTP).",
            server=server,
        )
    if "not yet valid" in lowered:
        return _finding(
            TLS_CERT_NOT_YET_VALID,
            f"The certificate served by {server} is not valid yet: this machine's clock is probably behind "
            f"({detail}).",
            "Fix this machine's clock (NTP).",
            server=server,
        )
    if "wrong version number" in lowered or "record layer failure" in lowered or "http request" in lowered:
        return _finding(
            TLS_WRONG_PROTOCOL,
            f"{server} answered without TLS ({detail}); the port is probably an HTTP port or a load balancer.",
            "Use the API server's HTTPS address and port (the kubeconfig's cluster.server).",
            server=server,
        )
    if "verify failed" in lowered or "self-signed" in lowered or "unknown authority" in lowered:
        return _finding(
            TLS_VERIFY_FAILED,
            f"The certificate served by {server} was not issued by the configured CA ({detail}).",
            "Use this cluster's CA: the kubeconfig's certificate-authority-data, the service account's ca.crt, "
            "or the connection's ca_bundle. Do not disable verification.",
            server=server,
        )
    return _finding(
        TLS_HANDSHAKE_FAILED,
        f"The TLS handshake with {server} failed ({detail}).",
        "Check the server address, the CA bundle and any TLS-intercepting proxy on the way.",
        server=server,
    )


def diagnose_transport(failure: TransportFailure) -> Finding:
    """Return the finding for a request that got no HTTP response."""
    server, detail = failure.server, redact_text(failure.detail)
    failure = dataclasses.replace(failure, detail=detail)
    via = f" through proxy {failure.proxy}" if failure.proxy else ""
    proxy = f"Proxy {failure.proxy}" if failure.proxy else "The proxy"
    match failure.kind:
        case "dns":
            return _finding(
                NET_DNS_FAILURE,
                f"The host of {server} could not be resolved ({detail}).",
                "Check the server name for typos; cluster-internal names (*.svc, *.cluster.local) resolve only "
                "inside the cluster, and 'Temporary failure' means DNS itself is unreachable (port 53 egress).",
                server=server,
            )
        case "refused":
            return _finding(
                NET_CONNECTION_REFUSED,
                f"Nothing accepts connections at {server}{via} ({detail}).",
                "Check the server address and port and that the API server is running; a loopback address in a "
                "pod means the kubeconfig was made for a workstation (use in-cluster mode).",
                server=server,
            )
        case "connect_timeout":
            return _finding(
                NET_CONNECT_TIMEOUT,
                f"Connecting to {server}{via} timed out ({detail}): packets are being dropped on the way.",
                "Check NetworkPolicy egress to the API server's endpoint IPs and port, firewalls and authorized "
                "networks; raise request_timeout only if the network is merely slow.",
                server=server,
            )
        case "read_timeout":
            return _finding(
                NET_READ_TIMEOUT,
                f"{server} accepted the connection but sent no response before the timeout ({detail}).",
                "Check the API server's health and load balancer; raise request_timeout for slow control planes.",
                server=server,
            )
        case "proxy_unreachable":
            return _finding(
                NET_PROXY_FAILURE,
                f"{proxy} is unreachable ({detail}): the connection to the proxy itself failed, so the request "
                f"never reached {server}.",
                "Check the proxy address and port (proxy_url, HTTPS_PROXY) and that the proxy is running and "
                "reachable from here; or add the API server to NO_PROXY to go direct.",
                server=server,
            )
        case "proxy":
            return _finding(
                NET_PROXY_FAILURE,
                f"{proxy} answered but could not reach {server} ({detail}).",
                "Check that the proxy allows CONNECT to the API server's host and port and accepts the proxy "
                "credentials (proxy_url), or add the API server to NO_PROXY.",
                server=server,
            )
        case "reset":
            return _finding(
                NET_CONNECTION_RESET,
                f"{server}{via} closed the connection abruptly ({detail}).",
                "Check that the URL uses https:// and the API server port, and look for a proxy or load balancer "
                "that drops the connection.",
                server=server,
            )
        case "unreachable":
            return _finding(
                NET_UNREACHABLE,
                f"No route to {server} ({detail}).",
                "Check routing and the server address.",
                server=server,
            )
        case "tls":
            return _tls_finding(failure)
        case _:
            return _finding(
                NET_REQUEST_FAILED,
                f"The request to {server}{via} failed ({detail}).",
                "Check the server address and the network.",
                server=server,
            )


def parse_forbidden(message: str) -> dict[str, str]:
    """Extract user, verb, resource, group, namespace (or path) from an RBAC 403 message."""
    match = _FORBIDDEN.search(message)
    if not match:
        return {}
    return {key: value for key, value in match.groupdict().items() if value is not None}


def _forbidden(failure: ApiFailure) -> Finding:
    parts = parse_forbidden(failure.message)
    user = parts.get("user", "")
    message = redact_text(failure.message, limit=600)
    if user == _ANONYMOUS:
        return _finding(
            AUTH_ANONYMOUS,
            f"The API server treated the request as {_ANONYMOUS} ({message}), so no usable credentials reached it.",
            "Configure credentials: a missing kubeconfig user, a failed exec plugin or an unsupported "
            "auth-provider all end up anonymous; run `airflow-k8s-reconcile doctor` for the cause.",
            audit_id=failure.audit_id,
        )
    if "path" in parts:
        fix = f"Grant get on the non-resource URL {parts['path']} with a ClusterRole (nonResourceURLs) bound to {user}."
    elif parts:
        resource, group = parts.get("resource", ""), parts.get("group", "")
        namespace, verb = parts.get("namespace"), parts.get("verb", "")
        resource_ref = f"{resource}.{group}" if group else resource
        if namespace:
            fix = (
                f"Grant the verb in that namespace (least privilege): kubectl create role <name> -n {namespace} "
                f"--verb={verb} --resource={resource_ref} and kubectl create rolebinding <name> -n {namespace} "
                f"--role=<name> {subject_flag(user)}."
            )
        else:
            fix = (
                f"Grant it cluster-wide only if it is cluster-scoped: kubectl create clusterrole <name> "
                f"--verb={verb} --resource={resource_ref} and a clusterrolebinding for {subject_flag(user)}."
            )
    else:
        fix = "Grant the missing permission to this identity with a Role and RoleBinding."
    return _finding(
        RBAC_FORBIDDEN,
        message.rstrip(".") + ".",
        fix,
        user=user,
        verb=parts.get("verb", ""),
        resource=parts.get("resource", ""),
        namespace=parts.get("namespace", ""),
        audit_id=failure.audit_id,
    )


def subject_flag(user: str) -> str:
    """Return the kubectl flag naming ``user`` as a binding subject (``--serviceaccount=ns:name`` or ``--user``)."""
    if user.startswith("system:serviceaccount:"):
        namespace, _, name = user.removeprefix("system:serviceaccount:").partition(":")
        return f"--serviceaccount={namespace}:{name}"
    return f"--user={user}"


def diagnose_api(failure: ApiFailure) -> Finding:
    """Return the finding for an error ``Status`` from the API server."""
    action = f" while trying to {failure.action}" if failure.action else ""
    message = redact_text(failure.message, limit=600)
    if failure.status == 401:
        # Kubernetes authentication: an invalid bearer token gets 401; a request with no credentials is anonymous.
        return _finding(
            AUTH_CREDENTIALS_REJECTED,
            f"The API server answered 401 Unauthorized{action}: the token or client certificate was sent but is "
            "wrong, expired, revoked, or belongs to another cluster.",
            "Renew the credentials (a fresh service-account token, an exec plugin instead of a copied token, or a "
            "renewed client certificate) and make sure they belong to this cluster.",
            audit_id=failure.audit_id,
        )
    if failure.status == 403:
        return _forbidden(failure)
    table = {
        404: (
            API_NOT_FOUND,
            "Check the name, namespace and that the API is served by this cluster.",
        ),
        409: (API_CONFLICT, "Re-read the object and apply the change again."),
        422: (API_INVALID, "Fix the object the message names."),
        429: (API_RATE_LIMITED, "Retry later; the API server is throttling this client."),
    }
    if failure.status in table:
        code, fix = table[failure.status]
    elif failure.status >= 500:
        code, fix = (
            API_SERVER_ERROR,
            "Retry; if it persists, check the control plane.",
        )
    else:
        code, fix = (
            API_UNEXPECTED_STATUS,
            "Check the request and the server.",
        )
    return _finding(
        code,
        f"The API server answered {failure.status} {failure.reason}{action}: {message}",
        fix,
        audit_id=failure.audit_id,
    )
