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
