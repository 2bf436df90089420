"""pytest plugin (entry point ``pytest11``): fixtures for tests against a real Kubernetes API server.

- ``k8s_cluster`` (session): the local control plane, or the cluster named by ``K8S_TEST_KUBECONFIG``
  (+ ``K8S_TEST_CONTEXT``) with the opt-in ``K8S_TEST_ALLOW_EXTERNAL=1``.
- ``k8s_admin``: an admin ``kubernetes.client.ApiClient`` (fresh configuration, closed after the test).
- ``k8s_namespace``: a fresh labelled namespace per test, deleted afterwards.
- ``k8s_identity``: a factory ``k8s_identity(rules=[...], namespace=..., cluster_rules=[...])`` returning an
  :class:`~airflow_k8s_reconcile.testing.identity.Identity` (ServiceAccount, TokenRequest token, kubeconfig and
  in-cluster layout).
- ``@pytest.mark.min_k8s("1.28", reason=...)``: skip, saying why, when the server is older.

Tests that use any of these fixtures are marked ``integration`` automatically. Importing this module imports
neither Airflow nor the Kubernetes client, so it costs nothing in test runs that do not use it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from airflow_k8s_reconcile.testing.cluster import TestCluster
    from airflow_k8s_reconcile.testing.identity import IdentityFactory

_CLUSTER_FIXTURES = {"k8s_cluster", "k8s_admin", "k8s_namespace", "k8s_identity"}


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers this plugin uses."""
    config.addinivalue_line(
        "markers", "min_k8s(version, reason=''): skip unless the API server is at least this version"
    )
    config.addinivalue_line(
        "markers", "integration: talks to a real API server (local control plane or K8S_TEST_KUBECONFIG)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a cluster fixture as ``integration``."""
    for item in items:
        if _CLUSTER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def k8s_cluster(request: pytest.FixtureRequest) -> Iterator[TestCluster]:
    """Start (or attach to) the cluster for this session."""
    from airflow_k8s_reconcile.testing.cluster import open_test_cluster

    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")

    def progress(line: str) -> None:
        # Shown live even though test output is captured: starting a control plane takes seconds.
        if reporter is None or capture is None:
            print(f"[k8s_cluster] {line}", file=sys.stderr, flush=True)
            return
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"[k8s_cluster] {line}")

    with open_test_cluster(progress=progress, keep_logs=lambda: request.session.testsfailed > 0) as cluster:
        yield cluster


@pytest.fixture
def k8s_admin(k8s_cluster: TestCluster) -> Iterator[Any]:
    """Return an admin ApiClient for the test's own set-up and assertions."""
    client = k8s_cluster.api_client()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def k8s_namespace(k8s_cluster: TestCluster, k8s_admin: Any) -> Iterator[str]:
    """Create a fresh namespace for one test and delete it afterwards."""
    from airflow_k8s_reconcile.testing.identity import create_namespace, delete_namespace

    name = create_namespace(k8s_admin, k8s_cluster)
    try:
        yield name
    finally:
        delete_namespace(k8s_admin, k8s_cluster, name)


@pytest.fixture
def k8s_identity(
    k8s_cluster: TestCluster, k8s_admin: Any, k8s_namespace: str, tmp_path: Path
) -> Iterator[IdentityFactory]:
    """Return a factory of ServiceAccount identities with exactly the rules asked for."""
    from airflow_k8s_reconcile.testing.identity import IdentityFactory

    factory = IdentityFactory(k8s_admin, k8s_cluster, tmp_path, k8s_namespace)
    try:
        yield factory
    finally:
        factory.cleanup()


@pytest.fixture(autouse=True)
def _k8s_min_version(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("min_k8s")
    if marker is None:
        return
    from airflow_k8s_reconcile.testing.cluster import parse_version

    cluster: TestCluster = request.getfixturevalue("k8s_cluster")
    needed = marker.args[0]
    if cluster.version < parse_version(needed):
        reason = marker.kwargs.get("reason", "")
        suffix = f": {reason}" if reason else ""
        pytest.skip(f"needs Kubernetes >= {needed}, the server is {cluster.git_version}{suffix}")
