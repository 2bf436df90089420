"""The read port: how the pure resolver sees files without touching the filesystem.

The resolver asks for a path exactly when it needs it, through a :data:`FileReader` its caller supplies (the sync
hook reads the disk directly; the async hook runs the whole resolution in a worker thread; tests pass a dict). What
comes back is a :class:`FileState` snapshot: content, or why there is none (missing, a directory, unreadable). Each
path is read at most once per resolution (:class:`FileView` caches), so a kubeconfig is read and parsed once and
resolution is a single pass; every diagnosis stays testable with plain values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Literal

from airflow_k8s_reconcile.domain.common import catalogue as codes
from airflow_k8s_reconcile.domain.common.catalogue import config_error

FileKind = Literal["file", "missing", "directory", "unreadable"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FileState:
    """What the hook found at one path.

    :param path: the path exactly as the resolver asked for it.
    :param kind: ``file`` (content read), ``missing``, ``directory`` or ``unreadable`` (permission or I/O error).
    :param content: the bytes read when ``kind`` is ``file``; may hold secrets, so it is never shown in ``repr``.
    :param error: for ``unreadable``, the OS error text (e.g. ``Permission denied``); never file content.
    """

    path: str
    kind: FileKind
    content: bytes | None = dataclasses.field(default=None, repr=False)
    error: str = ""

    def __post_init__(self) -> None:
        if self.kind == "file" and self.content is None:
            raise ValueError(f"FileState for {self.path!r} has kind 'file' but no content")
        if self.kind != "file" and self.content is not None:
            raise ValueError(f"FileState for {self.path!r} has kind {self.kind!r} but carries content")

    @classmethod
    def file(cls, path: str, content: bytes | str) -> FileState:
        """Return the state of a readable file.

        :param path: the path as requested.
        :param content: the file's bytes (``str`` is encoded as UTF-8, for tests).
        :return: the snapshot.
        """
        data = content.encode() if isinstance(content, str) else content
        return cls(path=path, kind="file", content=data)

    @classmethod
    def missing(cls, path: str) -> FileState:
        """Return the state of a path that does not exist.

        :param path: the path as requested.
        :return: the snapshot.
        """
        return cls(path=path, kind="missing")

    @classmethod
    def directory(cls, path: str) -> FileState:
        """Return the state of a path that is a directory.

        :param path: the path as requested.
        :return: the snapshot.
        """
        return cls(path=path, kind="directory")

    @classmethod
    def unreadable(cls, path: str, error: str) -> FileState:
        """Return the state of a path that exists but could not be read.

        :param path: the path as requested.
        :param error: the OS error text, e.g. ``Permission denied``.
        :return: the snapshot.
        """
        return cls(path=path, kind="unreadable", error=error)


FileReader = Callable[[str], "FileState"]
"""The read port: return the snapshot of one path. Must not raise for missing, directory or unreadable paths."""


class FileView:
    """The resolver's access to files: reads each path through the port at most once, in the order first needed."""

    def __init__(self, read: FileReader) -> None:
        self._read = read
        self._seen: dict[str, FileState] = {}

    @classmethod
    def of(cls, files: Mapping[str, FileState]) -> FileView:
        """Return a view over fixed snapshots; a path not among them is ``missing`` (for tests and embedding).

        :param files: snapshots by path.
        :return: the view.
        """
        return cls(lambda path: files.get(path) or FileState.missing(path))

    def require(self, *paths: str) -> tuple[FileState, ...]:
        """Return the snapshots of ``paths``, in order, reading those not read yet.

        :param paths: the paths the caller needs now.
        :return: one snapshot per path.
        """
        for path in paths:
            if path not in self._seen:
                self._seen[path] = self._read(path)
        return tuple(self._seen[path] for path in paths)

    @property
    def paths_read(self) -> tuple[str, ...]:
        """Return every path read so far, in order (for the explanation and for tests)."""
        return tuple(self._seen)


def content_of(
    state: FileState,
    *,
    what: str,
    named_by: str = "",
    detail: str = "",
    missing: tuple[str, str],
    directory: tuple[str, str] | None = None,
    unreadable: tuple[str, str] | None = None,
) -> bytes:
    """Return the bytes of a snapshot, or raise the finding for what is at the path instead.

    The one mapper from a missing, directory or unreadable path to an error, for kubeconfig files, the files they
    reference and the service account files, so the same fault reads the same way whichever file it hits.

    :param state: the snapshot.
    :param what: how the cause names the file before its path, e.g. ``kubeconfig file`` or ``CA file``.
    :param named_by: what named the path, e.g. ``$KUBECONFIG`` (added as ``named by ...``).
    :param detail: what the file is for, e.g. ``CA of cluster 'prod'`` (added in parentheses after the path).
    :param missing: ``(code, fix)`` when the path does not exist.
    :param directory: ``(code, fix)`` when it is a directory; default: ``unreadable``'s.
    :param unreadable: ``(code, fix)`` when it cannot be read; default: ``CONN_FILE_UNREADABLE`` with the
        permissions fix.
    :return: the content.
    :raises ConnectionConfigError: the code for the fault, naming the path.
    """
    if state.kind == "file" and state.content is not None:
        return state.content
    unreadable = unreadable or (codes.CONN_FILE_UNREADABLE, PERMISSIONS_FIX)
    if state.kind == "missing":
        (code, fix), reason = missing, "does not exist"
    elif state.kind == "directory":
        (code, fix), reason = directory or unreadable, "is a directory, not a file"
    else:
        (code, fix), reason = unreadable, f"cannot be read ({state.error or 'unknown error'})"
    by = f" named by {named_by}" if named_by else ""
    about = f" ({detail})" if detail else ""
    raise config_error(
        code, f"The {what} {state.path!r}{about}{by} {reason}.", fix, evidence={"path": state.path}
    )


PERMISSIONS_FIX = (
    "Give the Airflow user read access to a regular file (for mounted Secrets check the volume's defaultMode and "
    "the pod's fsGroup)."
)
