"""Snapshots of files the connection resolver asked to read.

The domain never touches the filesystem. :func:`~airflow_k8s_reconcile.domain.connection.resolution.plan_reads` names the
paths it needs; the hook reads them and hands back one :class:`FileState` per path; ``resolve`` then decides using
only those snapshots. This keeps every diagnosis testable with plain values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
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


class ReadsNeeded(Exception):  # control flow between plan_reads and the resolvers; never reaches users
    """Raised inside the resolver when it needs files that have not been read yet.

    :func:`~airflow_k8s_reconcile.domain.connection.resolution.plan_reads` catches it and returns :attr:`paths` to the hook.
    """

    def __init__(self, paths: frozenset[str]) -> None:
        super().__init__(", ".join(sorted(paths)))
        self.paths = paths


class FileView:
    """Read-only access to the snapshots the hook provided, recording which paths are still needed."""

    def __init__(self, files: Mapping[str, FileState]) -> None:
        self._files = files

    def require(self, *paths: str) -> tuple[FileState, ...]:
        """Return the snapshots of ``paths``, in order.

        :param paths: the paths the caller needs now.
        :return: one snapshot per path.
        :raises ReadsNeeded: when any of them has not been read yet (all missing ones are listed at once).
        """
        missing = frozenset(path for path in paths if path not in self._files)
        if missing:
            raise ReadsNeeded(missing)
        return tuple(self._files[path] for path in paths)
