"""TLS material for the clients, kept off disk: PEM files exist only while a client loads them.

Python's ``ssl`` module loads a private key only from a file (``SSLContext.load_cert_chain``), and both client
libraries take paths. Files that live as long as the client are lost to cleanup on ``SIGKILL`` and can be deleted
by a forked child that exits. So the key is written to a fresh 0700 directory, loaded, and the directory removed at
once: the sync client gets a ready ``SSLContext`` (urllib3's ``ssl_context`` pool argument), and the async client
(``kubernetes_asyncio`` loads the PEMs into its ``SSLContext`` when it is built) has its files unlinked right after
it is built. Cleanup is fork-safe: only the process that created a directory removes it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import ssl
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from airflow_k8s_reconcile.domain.connection.credentials.kinds import tls_client_certificate

if TYPE_CHECKING:
    from airflow_k8s_reconcile.domain.connection.credentials.kinds import Credential
    from airflow_k8s_reconcile.domain.connection.resolution import ClusterSource


class PrivateFiles:
    """A 0700 temporary directory of 0600 files, removed by :meth:`remove` (or at exit) in its creating process.

    WARNING: blocking file I/O; async code creates, writes and removes it through a thread.
    """

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="k8s-reconcile-"))  # mkdtemp: mode 0700
        self.owner_pid = os.getpid()
        self._finalizer = weakref.finalize(self, _remove, self.directory, self.owner_pid)

    def write(self, name: str, data: bytes) -> str:
        """Write ``data`` to a new 0600 file and return its path."""
        path = self.directory / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return str(path)

    def remove(self) -> None:
        """Delete the directory, unless this process is a fork of the one that created it."""
        self._finalizer()


def _remove(directory: Path, owner_pid: int) -> None:
    # A forked child inherits the object (and the atexit finalizer); its exit must not delete the parent's files.
    if os.getpid() == owner_pid:
        shutil.rmtree(directory, ignore_errors=True)


def sync_ssl_context(source: ClusterSource, credential: Credential) -> ssl.SSLContext:
    """Return the ``SSLContext`` for urllib3: CA loaded from memory, client key loaded from a file removed at once.

    Built like urllib3's own default context, so verification and hostname checks behave as before.
    """
    from urllib3.util.ssl_ import create_urllib3_context

    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED if source.verify_ssl else ssl.CERT_NONE)
    if source.ca_pem:
        context.load_verify_locations(cadata=source.ca_pem.decode("ascii", "replace"))
    else:
        context.load_default_certs()
    if (client_cert := tls_client_certificate(credential)) is not None:
        files = PrivateFiles()
        try:
            cert = files.write("client.crt", client_cert.cert_pem)
            key = files.write("client.key", client_cert.key_pem)
            context.load_cert_chain(cert, key)
        finally:
            files.remove()
    return context


def write_for_async(source: ClusterSource, credential: Credential) -> tuple[PrivateFiles, dict[str, str]]:
    """Write the PEM files ``kubernetes_asyncio`` loads when its client is built; remove them right after.

    :return: the files and the ``Configuration`` attributes to set (``ssl_ca_cert``, ``cert_file``, ``key_file``).
    """
    files = PrivateFiles()
    paths: dict[str, str] = {}
    try:
        if source.ca_pem:
            paths["ssl_ca_cert"] = files.write("ca.crt", source.ca_pem)
        if (client_cert := tls_client_certificate(credential)) is not None:
            paths["cert_file"] = files.write("client.crt", client_cert.cert_pem)
            paths["key_file"] = files.write("client.key", client_cert.key_pem)
    except OSError:
        with contextlib.suppress(OSError):
            files.remove()
        raise
    return files, paths
