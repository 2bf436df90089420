"""helm-values/rbac.yaml on a real API server, as the Helm chart's service accounts see it.

The chart's accounts ``airflow-worker`` and ``airflow-triggerer`` are created (with no permissions) in a namespace
standing for ``airflow``, with TokenRequest tokens, in the in-cluster layout a pod sees; a second namespace stands
for ``default``, where the example DAGs work. The committed ``rbac.yaml`` is applied with only those two
namespace names substituted. Then the preflight of every example DAG task (its declared permissions, as
``airflow-k8s-reconcile rbac`` reads them) passes for the worker, and for the triggerer where the task defers;
deleting the Role makes each fail with RBAC_PERMISSION_MISSING naming exactly the task's verbs and resources.
"""

from __future__ import annotations

import contextlib
import time
import urllib.parse
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from kubernetes import client as k8s

from airflow_k8s_reconcile.cli.rbac import _dagbag, collect
from airflow_k8s_reconcile.domain.preflight.permissions import Permission
from airflow_k8s_reconcile.hooks.kubernetes import K8sReconcileHook
from airflow_k8s_reconcile.testing.identity import create_namespace, delete_namespace

ROOT = Path(__file__).resolve().parents[3]
HELM = ROOT / "helm-values"


@pytest.fixture
def airflow_namespace(k8s_admin, k8s_cluster):
    """A namespace standing for the chart's ``airflow`` (where its service accounts live)."""
    name = create_namespace(k8s_admin, k8s_cluster, prefix="airflow")
    try:
        yield name
    finally:
        delete_namespace(k8s_admin, k8s_cluster, name)


@pytest.fixture
def needs(monkeypatch):
    """Each example DAG task's declared checks, in namespace ``default`` (as the Makefile generates them)."""
    for name in ("K8S_RECONCILE_NAMESPACE", "K8S_RECONCILE_NAMESPACES"):
        monkeypatch.delenv(name, raising=False)
    found, problems = collect(_dagbag(ROOT / "dags"), ["default"])
    assert problems == []
    declaring = [need for need in found if need.checks]
    assert declaring
    return declaring


def _substituted(documents, *, dags_ns, airflow_ns):
    out = []
    for doc in documents:
        assert doc["metadata"]["namespace"] == "default"  # every grant is where the DAGs work, nothing else
        doc["metadata"]["namespace"] = dags_ns
        for subject in doc.get("subjects", ()):
            assert subject["namespace"] == "airflow"
            subject["namespace"] = airflow_ns
        out.append(doc)
    return out


def _permissions(need, dags_ns):
    return [
        Permission(
            verbs=(check.verb,),
            group=check.group,
            resource=check.resource,
            subresource=check.subresource,
            namespace=dags_ns if check.namespace else "",
            resource_name=check.name,
            url=check.url,
        )
        for check in need.checks
    ]


def _hook(identity):
    return K8sReconcileHook(
        auth_mode="in_cluster",
        service_account_dir=str(identity.in_cluster.service_account_dir),
        environ=dict(identity.in_cluster.env),
    )


def _reports(cases, dags_ns, *, until_ok, checks="rbac", timeout=15.0):
    """Run every (identity, need) preflight until all pass (or all fail): RBAC reads bindings from a cache."""
    deadline = time.monotonic() + timeout
    while True:
        reports = [
            (identity, need, _hook(identity).preflight(_permissions(need, dags_ns), [dags_ns], checks=checks))
            for identity, need in cases
        ]
        if all(report.ok == until_ok for _, _, report in reports) or time.monotonic() > deadline:
            return reports
        time.sleep(0.2)


def _apply(admin, documents):
    rbac = k8s.RbacAuthorizationV1Api(admin)
    for doc in documents:
        ns = doc["metadata"]["namespace"]
        if doc["kind"] == "Role":
            rbac.create_namespaced_role(ns, doc)
        else:
            rbac.create_namespaced_role_binding(ns, doc)


def _delete(admin, documents):
    rbac = k8s.RbacAuthorizationV1Api(admin)
    for doc in documents:
        name, ns = doc["metadata"]["name"], doc["metadata"]["namespace"]
        with contextlib.suppress(k8s.exceptions.ApiException):
            if doc["kind"] == "Role":
                rbac.delete_namespaced_role(name, ns)
            else:
                rbac.delete_namespaced_role_binding(name, ns)


def test_rbac_yaml_makes_every_example_task_pass_its_preflight_and_removing_it_fails_them(
    k8s_identity, k8s_admin, k8s_namespace, airflow_namespace, needs
):
    worker = k8s_identity(name="airflow-worker", namespace=airflow_namespace)
    triggerer = k8s_identity(name="airflow-triggerer", namespace=airflow_namespace)
    assert worker.username == f"system:serviceaccount:{airflow_namespace}:airflow-worker"
    cases = [(worker, need) for need in needs] + [(triggerer, need) for need in needs if need.deferrable]
    documents = _substituted(
        [d for d in yaml.safe_load_all((HELM / "rbac.yaml").read_text()) if d],
        dags_ns=k8s_namespace,
        airflow_ns=airflow_namespace,
    )
    _apply(k8s_admin, documents)
    try:
        granted = _reports(cases, k8s_namespace, until_ok=True)
        for identity, need, report in granted:
            assert report.verdict == "pass", f"{need.label} as {identity.name}:\n{report.render()}"
        # The whole preflight too (network, TLS, readiness, identity, RBAC), once per identity.
        everything = [c for n in needs for c in n.checks]
        whole = type(needs[0])("all", tuple(dict.fromkeys(everything)), False)
        ((_, _, full),) = _reports([(worker, whole)], k8s_namespace, until_ok=True, checks="all")
        assert full.verdict == "pass", full.render()
        assert full.identity["username"] == worker.username
    finally:
        _delete(k8s_admin, documents)

    revoked = _reports(cases, k8s_namespace, until_ok=False)
    for identity, need, report in revoked:
        assert report.verdict == "fail", f"{need.label} as {identity.name} still passes"
        missing = [f for f in report.findings if f.code == "RBAC_PERMISSION_MISSING"]
        assert missing, report.render()
        named = defaultdict(set)
        for finding in missing:
            assert finding.evidence["user"] == identity.username
            assert finding.evidence["namespace"] == k8s_namespace
            assert finding.cause.startswith(f"{identity.username} cannot ")
            named[(finding.evidence["group"], finding.evidence["resource"])] |= set(
                finding.evidence["verb"].split(",")
            )
        declared = defaultdict(set)
        for check in need.checks:
            resource = f"{check.resource}/{check.subresource}" if check.subresource else check.resource
            declared[(check.group, resource)].add(check.verb)
        assert dict(named) == dict(declared), need.label


def _api_server_endpoint(admin, cluster):
    """Return the API server's endpoint (IP, port): what ``kubectl get endpoints kubernetes -o wide`` shows.

    The local control plane runs no endpoint reconciler for the ``kubernetes`` Service; its endpoint is then the
    address the server listens on, which is the server URL's.
    """
    try:
        endpoints = k8s.CoreV1Api(admin).read_namespaced_endpoints("kubernetes", "default")
    except k8s.exceptions.ApiException as err:
        if err.status != 404:
            raise
        url = urllib.parse.urlsplit(cluster.server)
        return url.hostname, url.port
    subset = endpoints.subsets[0]
    return subset.addresses[0].ip, subset.ports[0].port


def test_networkpolicy_yaml_is_accepted_with_the_clusters_real_endpoint(
    k8s_admin, k8s_cluster, airflow_namespace
):
    address, port = _api_server_endpoint(k8s_admin, k8s_cluster)
    text = (HELM / "networkpolicy.yaml").read_text()
    text = text.replace("192.0.2.10/32", f"{address}/32").replace("port: 6443", f"port: {port}")
    policy = yaml.safe_load(text)
    policy["metadata"]["namespace"] = airflow_namespace
    api = k8s.NetworkingV1Api(k8s_admin)
    created = api.create_namespaced_network_policy(airflow_namespace, policy)
    assert created.spec.egress[0].to[0].ip_block.cidr == f"{address}/32"
    assert created.spec.egress[0].ports[0].port == port
    assert [p.port for p in created.spec.egress[-1].ports] == [53, 53]
    assert created.spec.pod_selector.match_expressions[0].values == ["worker", "triggerer", "api-server"]
