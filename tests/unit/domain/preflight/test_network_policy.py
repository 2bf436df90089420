"""The NetworkPolicy egress snippet: endpoint IPs and port, DNS, and the rewrite note."""

from __future__ import annotations

import pytest
import yaml

from airflow_k8s_reconcile.domain.preflight.network_policy import NOTE, network_policy_egress


def test_egress_to_endpoints_and_dns():
    text = network_policy_egress(
        ["10.0.0.7", "10.0.0.5", "10.0.0.7"], 6443, namespace="jobs", pod_labels={"app": "t"}
    )
    policy = yaml.safe_load(text)
    assert policy["kind"] == "NetworkPolicy"
    assert policy["metadata"] == {"name": "airflow-k8s-reconcile-egress", "namespace": "jobs"}
    assert policy["spec"]["podSelector"] == {"matchLabels": {"app": "t"}}
    assert policy["spec"]["policyTypes"] == ["Egress"]
    assert policy["spec"]["egress"] == [
        {
            "to": [{"ipBlock": {"cidr": "10.0.0.5/32"}}, {"ipBlock": {"cidr": "10.0.0.7/32"}}],
            "ports": [{"protocol": "TCP", "port": 6443}],
        },
        {"ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]},
    ]
    comment = " ".join(line[2:] for line in text.splitlines() if line.startswith("# "))
    assert comment == NOTE
    assert "after the Service address" in NOTE


def test_ipv6_and_the_service_address_too():
    policy = yaml.safe_load(
        network_policy_egress(["[fd00::1]"], 6443, namespace="j", pod_labels={}, service=("10.96.0.1", 443))
    )
    assert policy["spec"]["podSelector"] == {}
    assert policy["spec"]["egress"][0]["to"] == [{"ipBlock": {"cidr": "fd00::1/128"}}]
    assert policy["spec"]["egress"][1] == {
        "to": [{"ipBlock": {"cidr": "10.96.0.1/32"}}],
        "ports": [{"protocol": "TCP", "port": 443}],
    }


@pytest.mark.parametrize(
    ("endpoints", "port", "service"),
    [
        ([], 6443, None),
        (["api.example.com"], 6443, None),
        (["10.0.0.1"], 0, None),
        (["10.0.0.1"], 6443, ("10.96.0.1", 70000)),
    ],
)
def test_bad_input_is_refused(endpoints, port, service):
    with pytest.raises(ValueError):
        network_policy_egress(endpoints, port, namespace="j", pod_labels={}, service=service)


def test_match_expressions_select_several_components_of_a_release():
    expression = {"key": "component", "operator": "In", "values": ["worker", "triggerer"]}
    policy = yaml.safe_load(
        network_policy_egress(
            ["10.0.0.5"],
            6443,
            namespace="airflow",
            pod_labels={"tier": "airflow"},
            match_expressions=[expression],
        )
    )
    assert policy["spec"]["podSelector"] == {
        "matchLabels": {"tier": "airflow"},
        "matchExpressions": [expression],
    }
