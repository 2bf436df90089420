"""The read port of the connection resolver: one path to one :class:`~airflow_k8s_reconcile.domain.connection.files.FileState`."""

from __future__ import annotations

import errno
from pathlib import Path

from airflow_k8s_reconcile.domain.connection.files import FileState

# Kubeconfigs and service-account files are small; a larger file is almost certainly the wrong path.
MAX_BYTES = 4 * 1024 * 1024


def read_file(path: str) -> FileState:
    """Return what is at ``path``: its bytes, or why there are none."""
    target = Path(path)
    try:
        if target.is_dir():
            return FileState.directory(path)
        # Check the size first: read(n) would allocate n bytes up front even for a 2 KiB kubeconfig.
        if target.stat().st_size > MAX_BYTES:
            return FileState.unreadable(path, f"larger than {MAX_BYTES // (1024 * 1024)} MiB")
        content = target.read_bytes()
    except FileNotFoundError:
        return FileState.missing(path)
    except IsADirectoryError:
        return FileState.directory(path)
    except OSError as err:
        if err.errno == errno.ENOTDIR:
            return FileState.missing(path)
        return FileState.unreadable(path, err.strerror or type(err).__name__)
    return FileState.file(path, content)
