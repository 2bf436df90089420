"""``make demo``: bring the local control plane up, show it answering, and stop it.

Shows the server version, the namespaces, and a real RBAC denial (HTTP 403 with the server's own message) for a
ServiceAccount that has no permissions, then stops every process.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

from airflow_k8s_reconcile.testing.cluster import TestCluster
from airflow_k8s_reconcile.testing.control_plane import LocalControlPlane


def _say(line: str) -> None:
    print(line, flush=True)


def _show(plane: LocalControlPlane, cluster: TestCluster, workdir: Path) -> None:
    from kubernetes import client as k8s, config
    from kubernetes.client.exceptions import ApiException

    from airflow_k8s_reconcile.testing.identity import IdentityFactory, create_namespace

    with cluster.api_client() as admin:
        version = k8s.VersionApi(admin).get_code()
        _say(
            f"\n== server version: {version.git_version} ({version.platform}, built with {version.go_version})"
        )
        namespaces = [ns.metadata.name for ns in k8s.CoreV1Api(admin).list_namespace().items]
        _say(f"== namespaces: {', '.join(namespaces)}")
        namespace = create_namespace(admin, cluster, prefix="demo")
        identity = IdentityFactory(admin, cluster, workdir, namespace)(rules=[])
        _say(f"== created ServiceAccount {identity.username} with no permissions (token via TokenRequest)")
    with config.new_client_from_config(config_file=str(identity.kubeconfig_path)) as api:
        review = k8s.AuthorizationV1Api(api).create_self_subject_access_review(
            k8s.V1SelfSubjectAccessReview(
                spec=k8s.V1SelfSubjectAccessReviewSpec(
                    resource_attributes=k8s.V1ResourceAttributes(
                        namespace=namespace, verb="list", resource="configmaps"
                    )
                )
            )
        )
        _say(f"== SelfSubjectAccessReview 'list configmaps in {namespace}': allowed={review.status.allowed}")
        try:
            k8s.CoreV1Api(api).list_namespaced_config_map(namespace)
            _say("!! listing configmaps was allowed: RBAC is not enforced")
            raise SystemExit(1)
        except ApiException as err:
            message = json.loads(err.body)["message"]
            _say(f"== list configmaps as that identity: HTTP {err.status} {err.reason}: {message}")
    _say(f"\n== airflow-k8s-reconcile doctor --kubeconfig <that identity's kubeconfig> -n {namespace}")
    _say(_doctor(identity.kubeconfig_path, namespace))


def _doctor(kubeconfig: Path, namespace: str) -> str:
    """Run the connection test the way ``doctor`` does and return its report."""
    from airflow_k8s_reconcile.domain.connection.settings import CONN_TYPE
    from airflow_k8s_reconcile.hooks.arguments import ConnectionFields
    from airflow_k8s_reconcile.hooks.diagnosis import diagnose

    arguments = {"auth_mode": "kubeconfig_file", "kube_config_path": str(kubeconfig)}
    fields = ConnectionFields("<demo>", CONN_TYPE, {}, found=False)
    return diagnose(arguments, fields, namespaces=(namespace,)).render()


def main() -> int:
    """Run the demo; return the exit code."""
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="airflow-k8s-reconcile-demo-") as tmp:
        workdir = Path(tmp)
        plane = LocalControlPlane(
            workdir / "cluster", die_with_parent=True, progress=lambda line: _say(f"-- {line}")
        )
        state = plane.start()
        try:
            cluster = TestCluster.from_local(plane, state, "demo")
            _show(plane, cluster, workdir)
        finally:
            plane.stop(keep_logs=False)
            _say(f"-- control plane stopped; demo took {time.monotonic() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
