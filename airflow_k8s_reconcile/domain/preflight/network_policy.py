"""The NetworkPolicy egress snippet that lets task pods reach the API server and DNS.

Why the endpoint addresses and not the ``kubernetes`` Service: the docs leave open whether the Service address is
rewritten before or after NetworkPolicy runs, and with iptables kube-proxy (and Cilium) the DNAT happens first, so
the policy sees the endpoint IP and port (often 6443), never ``10.96.0.1:443`` (cilium/cilium#20550, #31434;
connection-and-preflight facts §3.3). The API server runs with ``hostNetwork``, so pod or namespace selectors
cannot select it: ``ipBlock`` per endpoint address it is. A default-deny egress also blocks DNS, hence port 53
over UDP and TCP (TCP for large answers). Cilium users can use ``toEntities: [kube-apiserver]`` instead.
"""

from __future__ import annotations

import ipaddress
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

NOTE = (
    "NetworkPolicy applies after the Service address (kubernetes.default.svc, e.g. 10.96.0.1:443) has been "
    "rewritten to an API server endpoint address, so the policy must allow the endpoint IPs and their port "
    "(kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes), not only the Service IP. "
    "On Cilium, 'toEntities: [kube-apiserver]' is the robust alternative."
)


def _cidr(address: str) -> str:
    """Return ``address`` as a single-host CIDR (``/32`` or ``/128``); raise ``ValueError`` if not an IP."""
    ip = ipaddress.ip_address(address.strip().strip("[]"))
    return f"{ip}/{ip.max_prefixlen}"


def _pod_selector(labels: Mapping[str, str], expressions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    selector: dict[str, Any] = {}
    if labels:
        selector["matchLabels"] = dict(sorted(labels.items()))
    if expressions:
        selector["matchExpressions"] = [dict(expression) for expression in expressions]
    return selector


def network_policy_egress(
    endpoints: Sequence[str],
    port: int,
    *,
    namespace: str,
    pod_labels: Mapping[str, str],
    name: str = "airflow-k8s-reconcile-egress",
    service: tuple[str, int] | None = None,
    match_expressions: Sequence[Mapping[str, Any]] = (),
) -> str:
    """Return a NetworkPolicy YAML (with the rewrite note as a comment) allowing egress to the API server and DNS.

    :param endpoints: the API server endpoint IPs (from the ``kubernetes`` EndpointSlice or the server URL).
    :param port: their port, e.g. ``6443``.
    :param namespace: the task pods' namespace.
    :param pod_labels: labels selecting the task pods (empty selects every pod of the namespace).
    :param name: the policy name.
    :param service: the Service ``(ClusterIP, port)`` to allow as well, e.g. ``("10.96.0.1", 443)``.
    :param match_expressions: label selector requirements ANDed with ``pod_labels``, e.g. ``component In
        [worker, triggerer]`` to select several components of a Helm release with one policy.
    :return: the YAML text.
    :raises ValueError: when an endpoint or the service address is not an IP address, or a port is out of range.
    """
    if not endpoints:
        raise ValueError("no API server endpoint address given")
    targets = [(tuple(sorted({_cidr(address) for address in endpoints})), port)]
    if service is not None:
        targets.append(((_cidr(service[0]),), service[1]))
    for _, target_port in targets:
        if not 0 < target_port < 65536:
            raise ValueError(f"port {target_port} is out of range")
    egress: list[dict[str, Any]] = [
        {
            "to": [{"ipBlock": {"cidr": cidr}} for cidr in cidrs],
            "ports": [{"protocol": "TCP", "port": to_port}],
        }
        for cidrs, to_port in targets
    ]
    egress.append({"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]})
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "podSelector": _pod_selector(pod_labels, match_expressions),
            "policyTypes": ["Egress"],
            "egress": egress,
        },
    }
    comment = "".join(f"# {line}\n" for line in textwrap.wrap(NOTE, 100))
    return comment + yaml.safe_dump(policy, sort_keys=False, default_flow_style=False)
