"""The pytest plugin's fixtures behave as documented, including against a cluster named by the user."""

from __future__ import annotations

import textwrap
import urllib.parse

import pytest
import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from kubernetes.config.incluster_config import InClusterConfigLoader
from kubernetes.config.kube_config import KubeConfigLoader

from airflow_k8s_reconcile.testing.cluster import MANAGED_BY_LABEL, MANAGED_BY_VALUE, RUN_LABEL
from airflow_k8s_reconcile.testing.identity import IdentityFactory


def test_namespace_is_fresh_and_labelled(k8s_cluster, k8s_admin, k8s_namespace):
    core = k8s.CoreV1Api(k8s_admin)
    ns = core.read_namespace(k8s_namespace)
    assert ns.metadata.labels[MANAGED_BY_LABEL] == MANAGED_BY_VALUE
    assert ns.metadata.labels[RUN_LABEL] == k8s_cluster.run_id
    # Seed one object so an empty listing (a broken list call, the wrong namespace) cannot pass for "fresh".
    core.create_namespaced_config_map(
        k8s_namespace, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="seed"), data={"k": "v"})
    )
    names = {cm.metadata.name for cm in core.list_namespaced_config_map(k8s_namespace).items}
    assert names - {"kube-root-ca.crt"} == {"seed"}


def test_identity_token_authenticates_as_the_service_account(k8s_identity):
    identity = k8s_identity(rules=[])
    cfg = k8s.Configuration()
    KubeConfigLoader(config_dict=yaml.safe_load(identity.kubeconfig_path.read_text())).load_and_set(cfg)
    with k8s.ApiClient(cfg) as api:
        rules = k8s.AuthorizationV1Api(api).create_self_subject_rules_review(
            k8s.V1SelfSubjectRulesReview(spec=k8s.V1SelfSubjectRulesReviewSpec(namespace=identity.namespace))
        )
    granted = {(tuple(r.resources or ()), tuple(r.verbs)) for r in rules.status.resource_rules}
    assert (("selfsubjectaccessreviews", "selfsubjectrulesreviews"), ("create",)) in granted
    assert not any("configmaps" in resources for resources, _ in granted)
    assert identity.username == f"system:serviceaccount:{identity.namespace}:{identity.name}"
    assert identity.token not in repr(identity)


def test_in_cluster_layout_works_with_the_in_cluster_loader(k8s_cluster, k8s_identity, k8s_namespace):
    identity = k8s_identity(rules=[{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list"]}])
    layout = identity.in_cluster
    assert {p.name for p in layout.service_account_dir.iterdir()} == {"token", "ca.crt", "namespace"}
    assert (layout.service_account_dir / "namespace").read_text() == identity.namespace
    assert urllib.parse.urlsplit(k8s_cluster.server).port == int(layout.env["KUBERNETES_SERVICE_PORT"])
    cfg = k8s.Configuration()
    InClusterConfigLoader(
        token_filename=str(layout.service_account_dir / "token"),
        cert_filename=str(layout.service_account_dir / "ca.crt"),
        environ=dict(layout.env),
    ).load_and_set(cfg)
    with k8s.ApiClient(cfg) as api:
        k8s.CoreV1Api(api).list_namespaced_config_map(k8s_namespace)
        with pytest.raises(ApiException) as denied:
            k8s.CoreV1Api(api).list_namespaced_secret(k8s_namespace)
    assert denied.value.status == 403


def test_identity_objects_are_deleted_after_the_test(k8s_cluster, k8s_admin, k8s_namespace, tmp_path):
    factory = IdentityFactory(k8s_admin, k8s_cluster, tmp_path, k8s_namespace)
    identity = factory(
        rules=[], cluster_rules=[{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]
    )
    rbac = k8s.RbacAuthorizationV1Api(k8s_admin)
    cluster_role = f"{identity.namespace}-{identity.name}"
    assert rbac.read_cluster_role(cluster_role).metadata.labels[RUN_LABEL] == k8s_cluster.run_id
    factory.cleanup()
    reads = [
        lambda: rbac.read_cluster_role(cluster_role),
        lambda: rbac.read_cluster_role_binding(cluster_role),
        lambda: rbac.read_namespaced_role(identity.name, identity.namespace),
        lambda: k8s.CoreV1Api(k8s_admin).read_namespaced_service_account(identity.name, identity.namespace),
    ]
    for read in reads:
        with pytest.raises(ApiException) as gone:
            read()
        assert gone.value.status == 404


def _inner_suite(pytester) -> None:
    pytester.makepyfile(
        test_inner=textwrap.dedent(
            """
            import pytest

            @pytest.mark.min_k8s("99.0", reason="needs a future API")
            def test_future(k8s_cluster):
                pass

            @pytest.mark.min_k8s("1.0")
            def test_present(k8s_cluster, k8s_namespace):
                assert k8s_cluster.external
            """
        )
    )


def test_external_cluster_requires_opt_in(k8s_cluster, pytester, monkeypatch):
    _inner_suite(pytester)
    monkeypatch.setenv("K8S_TEST_KUBECONFIG", str(k8s_cluster.kubeconfig_path))
    monkeypatch.delenv("K8S_TEST_ALLOW_EXTERNAL", raising=False)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*K8S_TEST_ALLOW_EXTERNAL=1*"])


def test_external_cluster_runs_the_suite_and_min_k8s_skips_with_reason(k8s_cluster, pytester, monkeypatch):
    _inner_suite(pytester)
    monkeypatch.setenv("K8S_TEST_KUBECONFIG", str(k8s_cluster.kubeconfig_path))
    monkeypatch.setenv("K8S_TEST_ALLOW_EXTERNAL", "1")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [f"*needs Kubernetes >= 99.0, the server is {k8s_cluster.git_version}: needs a future API*"]
    )
