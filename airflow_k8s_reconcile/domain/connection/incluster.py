"""In-cluster (service account) credentials: is the pod environment complete, and what does it provide.

Decides the API server URL from ``KUBERNETES_SERVICE_HOST``/``KUBERNETES_SERVICE_PORT`` (unset and set-but-empty are
different faults; IPv6 hosts are bracketed), and checks the mounted service account files (``token``, ``ca.crt``,
``namespace``) with a fix for each fault, e.g. ``automountServiceAccountToken: false``. Called by
:mod:`~airflow_k8s_reconcile.domain.connection.resolution`.
"""

from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Mapping
from typing import TYPE_CHECKING

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error
from airflow_k8s_reconcile.domain.connection.files import content_of

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.files import FileState, FileView

DEFAULT_SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
HOST_VAR = "KUBERNETES_SERVICE_HOST"
PORT_VAR = "KUBERNETES_SERVICE_PORT"
_RUN_AS_FIX = (
    "Run the container as a user that can read it (pod securityContext fsGroup, or the volume's defaultMode)."
)
_AUTOMOUNT_FIX = (
    "The pod has no service account token mounted, usually because automountServiceAccountToken is false on the "
    "pod or its ServiceAccount (official Helm chart: workers/scheduler/triggerer/apiServer "
    ".serviceAccount.automountServiceAccountToken: true); enable it or add a projected serviceAccountToken volume."
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ServiceAccountPaths:
    """The files of a mounted service account.

    :param directory: the mount directory.
    :param token: the token file.
    :param ca: the cluster CA file.
    :param namespace: the namespace file.
    """

    directory: str
    token: str
    ca: str
    namespace: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InClusterCredentials:
    """What the pod environment provides.

    :param server: ``https://HOST:PORT``.
    :param paths: the service account files.
    :param token: the token read from :attr:`ServiceAccountPaths.token`. SECRET.
    :param ca_pem: the content of ``ca.crt`` (``None`` when not needed because ``ca_bundle`` overrides it).
    :param namespace: the content of the ``namespace`` file, if read and present.
    """

    server: str
    paths: ServiceAccountPaths
    token: str = dataclasses.field(repr=False)
    ca_pem: bytes | None = dataclasses.field(default=None, repr=False)
    namespace: str | None = None


def service_account_paths(directory: str | None) -> ServiceAccountPaths:
    """Return the service account file paths under ``directory`` (default: the kubelet's mount point).

    :param directory: the ``service_account_dir`` setting, if set.
    :return: the paths.
    """
    base = directory or DEFAULT_SERVICE_ACCOUNT_DIR
    return ServiceAccountPaths(
        directory=base,
        token=posixpath.join(base, "token"),
        ca=posixpath.join(base, "ca.crt"),
        namespace=posixpath.join(base, "namespace"),
    )


def incluster_server(environ: Mapping[str, str]) -> str:
    """Return the API server URL the pod environment points at.

    :param environ: the process environment.
    :return: ``https://HOST:PORT`` (IPv6 hosts in brackets).
    :raises ConnectionConfigError: ``CONN_INCLUSTER_ENV_UNSET``, ``CONN_INCLUSTER_ENV_EMPTY`` or ``CONN_BAD_VALUE``.
    """
    unset = [name for name in (HOST_VAR, PORT_VAR) if name not in environ]
    if unset:
        raise config_error(
            codes.CONN_INCLUSTER_ENV_UNSET,
            f"The environment variable{'s' if len(unset) > 1 else ''} {' and '.join(unset)} "
            f"{'are' if len(unset) > 1 else 'is'} not set, so this process is not running in a Kubernetes pod.",
            "Run the task in a pod (the kubelet always sets them), pass the environment through to subprocesses, "
            "or use a kubeconfig (auth_mode kubeconfig_file).",
            evidence={"unset": ", ".join(unset)},
        )
    empty = [name for name in (HOST_VAR, PORT_VAR) if not environ[name].strip()]
    if empty:
        raise config_error(
            codes.CONN_INCLUSTER_ENV_EMPTY,
            f"The environment variable{'s' if len(empty) > 1 else ''} {' and '.join(empty)} "
            f"{'are' if len(empty) > 1 else 'is'} set but empty.",
            "Something overrides the kubelet's values with empty ones (pod env, image ENV, a wrapper script); "
            "remove the override.",
            evidence={"empty": ", ".join(empty)},
        )
    host, port = environ[HOST_VAR].strip(), environ[PORT_VAR].strip()
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise config_error(
            codes.CONN_BAD_VALUE,
            f"The environment variable {PORT_VAR} is {port!r}, not a TCP port number.",
            "Remove whatever overrides the kubelet's value (it is normally 443).",
        )
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"https://{host}:{port}"


def load_incluster(
    *, environ: Mapping[str, str], directory: str | None, files: FileView, need_ca: bool, need_namespace: bool
) -> InClusterCredentials:
    """Read and check the in-cluster environment and service account files.

    :param environ: the process environment.
    :param directory: the ``service_account_dir`` setting, if set.
    :param files: file snapshots.
    :param need_ca: read ``ca.crt`` (``False`` when ``ca_bundle`` overrides it).
    :param need_namespace: read the ``namespace`` file (``False`` when the namespace is already decided).
    :return: the credentials.
    :raises ConnectionConfigError: for the first fault found, with the fix for it.
    """
    server = incluster_server(environ)
    paths = service_account_paths(directory)
    wanted = [paths.token] + ([paths.ca] if need_ca else []) + ([paths.namespace] if need_namespace else [])
    states = dict(zip(wanted, files.require(*wanted), strict=True))
    token = read_token(states[paths.token])
    ca_pem = _ca(states[paths.ca]) if need_ca else None
    namespace = None
    if need_namespace and states[paths.namespace].kind == "file":
        namespace = (states[paths.namespace].content or b"").decode("utf-8", "replace").strip() or None
    return InClusterCredentials(server=server, paths=paths, token=token, ca_pem=ca_pem, namespace=namespace)


def read_token(state: FileState) -> str:
    """Return the service account token from its snapshot.

    :param state: the snapshot of the token path.
    :return: the token, stripped. SECRET.
    :raises ConnectionConfigError: ``CONN_SA_TOKEN_MISSING`` (with the automount fix), ``CONN_FILE_UNREADABLE`` or
        ``CONN_SA_TOKEN_EMPTY``.
    """
    content = content_of(
        state,
        what="service account token file",
        missing=(codes.CONN_SA_TOKEN_MISSING, _AUTOMOUNT_FIX),
        unreadable=(codes.CONN_FILE_UNREADABLE, _RUN_AS_FIX),
    )
    token = content.decode("utf-8", "replace").strip()
    if not token:
        raise config_error(
            codes.CONN_SA_TOKEN_EMPTY,
            f"The service account token file {state.path!r} is empty.",
            "The kubelet has not written the token (yet); check the pod's events and the projected volume.",
            evidence={"path": state.path},
        )
    return token


def _ca(state: FileState) -> bytes:
    content = content_of(
        state,
        what="service account CA file",
        missing=(
            codes.CONN_SA_CA_MISSING,
            "Mount the full service account volume (token, ca.crt, namespace), or set ca_bundle in the connection.",
        ),
        unreadable=(codes.CONN_FILE_UNREADABLE, _RUN_AS_FIX),
    )
    if not content.strip():
        raise config_error(
            codes.CONN_SA_CA_EMPTY,
            f"The service account CA file {state.path!r} is empty.",
            "Check the kube-root-ca.crt ConfigMap in the pod's namespace, or set ca_bundle in the connection.",
            evidence={"path": state.path},
        )
    return content
