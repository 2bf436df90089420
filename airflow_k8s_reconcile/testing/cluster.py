"""The cluster a test session runs against: the local control plane, or one the user names.

``K8S_TEST_KUBECONFIG`` (plus optional ``K8S_TEST_CONTEXT``) points the suite at an existing cluster such as kind.
Because the suite creates and deletes objects, using a cluster you named also needs the explicit opt-in
``K8S_TEST_ALLOW_EXTERNAL=1``. On such a cluster the suite touches only objects it created, all labelled with
:data:`MANAGED_BY_LABEL` and :data:`RUN_LABEL`, and deletes only those.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_k8s_reconcile.testing.control_plane import ClusterState, LocalControlPlane

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "pytest-airflow-k8s-reconcile"
RUN_LABEL = "airflow-k8s-reconcile.test/run"
OPT_IN_VARIABLE = "K8S_TEST_ALLOW_EXTERNAL"


class ExternalClusterNotAllowedError(RuntimeError):
    """``K8S_TEST_KUBECONFIG`` is set without the explicit opt-in."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TestCluster:
    """A running cluster tests may use.

    :param kubeconfig_path: an admin kubeconfig for it.
    :param context: the context to use in that kubeconfig (``None``: its current context).
    :param server: the API server URL.
    :param ca_cert_path: a PEM file with the CA that signed the serving certificate.
    :param git_version: the server's ``/version`` ``gitVersion``, e.g. ``v1.20.2``.
    :param external: whether the user named this cluster (only labelled objects may be touched).
    :param run_id: identifies this test session in labels and names.
    :param has_controllers: whether a controller manager runs (namespace deletion completes, default SAs exist).
    """

    __test__ = False  # not a pytest test class

    kubeconfig_path: Path
    context: str | None
    server: str
    ca_cert_path: Path
    git_version: str
    external: bool
    run_id: str
    has_controllers: bool

    @property
    def version(self) -> tuple[int, int]:
        """Return ``(major, minor)`` of the server."""
        return parse_version(self.git_version)

    @property
    def labels(self) -> dict[str, str]:
        """Return the labels every object created by the suite carries."""
        return {MANAGED_BY_LABEL: MANAGED_BY_VALUE, RUN_LABEL: self.run_id}

    @classmethod
    def from_local(cls, plane: LocalControlPlane, state: ClusterState, run_id: str) -> TestCluster:
        """Describe a started :class:`~airflow_k8s_reconcile.testing.control_plane.LocalControlPlane`."""
        return cls(
            kubeconfig_path=plane.kubeconfig_path,
            context=None,
            server=state.server,
            ca_cert_path=plane.ca_cert_path,
            git_version="v" + state.version,
            external=False,
            run_id=run_id,
            has_controllers="kube-controller-manager" in state.pids,
        )

    def api_client(self) -> Any:
        """Return a new admin ``kubernetes.client.ApiClient`` on its own ``Configuration``."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig_path), context=self.context)


def parse_version(text: str) -> tuple[int, int]:
    """Parse ``"1.28"``, ``"v1.20.2"`` or ``"1.30.0+k3s1"`` into ``(major, minor)``."""
    match = re.match(r"v?(\d+)\.(\d+)", text.strip())
    if not match:
        raise ValueError(f"not a Kubernetes version: {text!r} (expected e.g. '1.28' or 'v1.20.2')")
    return int(match.group(1)), int(match.group(2))


def _server_version(client: Any) -> str:
    from kubernetes import client as k8s

    return str(k8s.VersionApi(client).get_code().git_version)


def _external(environ: Mapping[str, str], run_id: str, workdir: Path) -> TestCluster:
    kubeconfig = Path(environ["K8S_TEST_KUBECONFIG"]).expanduser()
    if environ.get(OPT_IN_VARIABLE) not in {"1", "true", "yes"}:
        raise ExternalClusterNotAllowedError(
            f"K8S_TEST_KUBECONFIG={kubeconfig} names an existing cluster. The suite creates namespaces, service "
            f"accounts and RBAC objects there (labelled {MANAGED_BY_LABEL}={MANAGED_BY_VALUE}) and deletes only "
            f"those. Set {OPT_IN_VARIABLE}=1 to allow it, or unset K8S_TEST_KUBECONFIG to use the local control "
            "plane."
        )
    if not kubeconfig.is_file():
        raise FileNotFoundError(f"K8S_TEST_KUBECONFIG={kubeconfig} does not exist")
    from kubernetes import config

    context = environ.get("K8S_TEST_CONTEXT") or None
    client = config.new_client_from_config(config_file=str(kubeconfig), context=context)
    cfg = client.configuration
    ca_path = workdir / "external-ca.crt"
    if cfg.ssl_ca_cert:
        shutil.copyfile(cfg.ssl_ca_cert, ca_path)
    else:
        ca_path.write_text("")  # the cluster's certificate is trusted through the system store
    with contextlib.closing(client):
        version = _server_version(client)
    return TestCluster(
        kubeconfig_path=kubeconfig,
        context=context,
        server=str(cfg.host),
        ca_cert_path=ca_path,
        git_version=version,
        external=True,
        run_id=run_id,
        has_controllers=True,
    )


@contextlib.contextmanager
def open_test_cluster(
    environ: Mapping[str, str] = os.environ,
    *,
    progress: Callable[[str], None] | None = None,
    keep_logs: Callable[[], bool] = lambda: False,
) -> Iterator[TestCluster]:
    """Yield the cluster for a test session and clean up after it.

    :param keep_logs: asked at the end; when true the local control plane's logs are kept (failed runs).
    """
    run_id = secrets.token_hex(3)
    workdir = Path(tempfile.mkdtemp(prefix=f"airflow-k8s-reconcile-{run_id}-"))
    if environ.get("K8S_TEST_KUBECONFIG"):
        try:
            yield _external(environ, run_id, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return
    from airflow_k8s_reconcile.testing.control_plane import LocalControlPlane

    say = progress or (lambda _line: None)
    plane = LocalControlPlane(workdir / "control-plane", die_with_parent=True, progress=progress)
    try:
        state = plane.start()
    except BaseException:
        plane.stop(keep_logs=True)
        say(f"control plane logs kept in {plane.logs_dir}")
        raise
    keep = True
    try:
        yield TestCluster.from_local(plane, state, run_id)
        keep = keep_logs()
    finally:
        plane.stop(keep_logs=True)
        if keep:
            say(f"control plane logs kept in {plane.logs_dir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
