"""Build isolated Kubernetes API clients (sync and async) from a resolved :class:`ClusterSource`.

Every client gets its own ``Configuration``; the client library's process-wide default is never read or written
(two connections in one worker or triggerer must not overwrite each other). Request timeouts are always set: the
generated clients otherwise wait forever on a half-open connection. PEM material is written to private temporary
files (mode 0600) because the clients only accept paths; they are removed when the client is closed or the
process exits.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import tempfile
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_k8s_reconcile.domain.connection.credentials.kinds import (
    BasicAuthCredential,
    ClientCertCredential,
    Credential,
    NoCredential,
    TokenCredential,
)

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource

# Service-account tokens are rotated by the kubelet; re-read the file at most this often (client-go uses 1 min).
TOKEN_FILE_REFRESH_SECONDS = 60.0


class Material:
    """Private temporary files for PEM data; deleted with the owning client or at exit."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="k8s-reconcile-"))
        self._finalizer = weakref.finalize(self, _remove_tree, self.directory)

    def write(self, name: str, data: bytes) -> str:
        path = self.directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return str(path)

    def cleanup(self) -> None:
        self._finalizer()


def _remove_tree(directory: Path) -> None:
    for child in directory.glob("*"):
        with contextlib.suppress(OSError):
            child.unlink()
    with contextlib.suppress(OSError):
        directory.rmdir()


def _token_refresher(credential: TokenCredential) -> Any:
    """Return a ``refresh_api_key_hook`` that re-reads a rotated token file (kubelet rotation, ~80% of TTL)."""
    token_file = credential.token_file
    state = {"read_at": time.monotonic()}

    def refresh(configuration: Any) -> None:
        if token_file is None or time.monotonic() - state["read_at"] < TOKEN_FILE_REFRESH_SECONDS:
            return
        state["read_at"] = time.monotonic()
        with contextlib.suppress(OSError):
            token = Path(token_file).read_text().strip()
            if token:
                configuration.api_key["BearerToken"] = token

    return refresh


def configure(cfg: Any, source: ClusterSource, material: Material) -> None:
    """Fill a sync or async ``Configuration`` (they share these attribute names)."""
    cfg.host = source.server
    cfg.verify_ssl = source.verify_ssl
    if source.ca_pem:
        cfg.ssl_ca_cert = material.write("ca.crt", source.ca_pem)
    cfg.tls_server_name = source.tls_server_name
    # The sync Configuration reads HTTP(S)_PROXY in its constructor with HTTP_PROXY winning over HTTPS_PROXY,
    # unlike kubectl; an explicit proxy_url replaces that guess.
    if source.proxy_url:
        cfg.proxy = source.proxy_url
    _set_credential(cfg, source.credential, material)


def _set_credential(cfg: Any, credential: Credential, material: Material) -> None:
    cfg.api_key = {}
    cfg.api_key_prefix = {}
    match credential:
        case TokenCredential():
            cfg.api_key["BearerToken"] = credential.token.strip()
            cfg.api_key_prefix["BearerToken"] = "Bearer"
            if credential.token_file:
                cfg.refresh_api_key_hook = _token_refresher(credential)
        case ClientCertCredential():
            cfg.cert_file = material.write("client.crt", credential.cert_pem)
            cfg.key_file = material.write("client.key", credential.key_pem)
        case BasicAuthCredential():
            basic = base64.b64encode(f"{credential.username}:{credential.password}".encode()).decode()
            cfg.api_key["BearerToken"] = basic
            cfg.api_key_prefix["BearerToken"] = "Basic"
        case NoCredential():
            pass
        case _:
            # Exec plugins are run by the hook first and replaced by the token or certificate they return.
            raise TypeError(f"{type(credential).__name__} must be materialised before building a client")


@functools.cache
def _sync_client_class() -> type[Any]:
    # Imported on first use: the Kubernetes client costs ~0.5 s to import, which `doctor` skips on config errors.
    from kubernetes import client as k8s

    class _TimeoutApiClient(k8s.ApiClient):  # type: ignore[misc]
        """Sync client that applies a default timeout to every request and owns its PEM files."""

        def __init__(self, configuration: Any, *, timeout: float, material: Material) -> None:
            super().__init__(configuration=configuration)
            self._default_timeout = timeout
            self._material = material

        def call_api(self, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("_request_timeout") is None:
                kwargs["_request_timeout"] = self._default_timeout
            return super().call_api(*args, **kwargs)

        def close(self) -> None:
            super().close()
            self._material.cleanup()

    return _TimeoutApiClient


def build_sync_client(source: ClusterSource, *, retries: int | None = None) -> Any:
    """Return a sync ``ApiClient`` on a fresh ``Configuration`` with the source's timeout on every request.

    :param retries: urllib3 retries per request; ``0`` for probes (a dead endpoint otherwise costs 4x the timeout).
    """
    from kubernetes import client as k8s

    material = Material()
    cfg = k8s.Configuration()
    configure(cfg, source, material)
    if retries is not None:
        cfg.retries = retries
    return _sync_client_class()(cfg, timeout=source.request_timeout, material=material)
