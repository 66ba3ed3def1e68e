"""One container as Docker Desktop's container page shows it: start it again, its
inspect data, the files inside (the Files tab) and its logs as they come (the Logs tab).

Files are read through the engine's archive API (``docker cp``'s), never by running a
program in the container, so a folder of an image with no ``ls`` opens too. What is read
is bounded: a folder's listing stops after :data:`MAX_ENTRIES` entries or
:data:`MAX_ARCHIVE_BYTES` of archive, a file's text after :data:`MAX_FILE_BYTES`, and
says so; a log stream keeps no more than its reader asks for.
"""

from __future__ import annotations

import posixpath
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from ..errors import ContainerNotFound, DockdojoError
from .connection import Connection, Json
from .translate import Op

MAX_ENTRIES = 1000
"""Entries of one folder listed, at most."""
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
"""Bytes of a folder's archive read to list it, at most (the archive holds the whole
tree under the folder)."""
MAX_FILE_BYTES = 64 * 1024
"""Bytes of a file shown, at most."""
FOLLOW_TIMEOUT = 7 * 24 * 3600.0
"""Seconds a followed log may stay silent (the stream ends when the container stops)."""


@dataclass(frozen=True)
class FileEntry:
    """One entry of a container's folder."""

    name: str
    """Its name in the folder."""
    kind: str
    """``folder``, ``file``, ``link`` or ``other``."""
    size: int
    """Bytes (files)."""
    mode: str
    """Permissions as ``ls -l`` shows them, e.g. ``-rw-r--r--``."""
    target: str = ""
    """Where a link points."""


@dataclass(frozen=True)
class Folder:
    """A folder of a container's file system."""

    path: str
    """Its absolute path."""
    entries: tuple[FileEntry, ...]
    """Its entries, folders first, then by name."""
    complete: bool = True
    """False when the listing stopped at a bound (not every entry is shown)."""


@dataclass(frozen=True)
class FileText:
    """The beginning of a file in a container."""

    path: str
    size: int
    """Its whole size in bytes."""
    text: str | None
    """Its first bytes as text; None when it is binary."""
    complete: bool
    """Whether ``text`` is the whole file."""


class ReadOnlyMountUnreadable(DockdojoError):
    """The engine cannot read a container's files because of a read-only bind mount
    (a rootless engine may not remount it read-only to read it)."""


class _Counted:
    """A file-like reader over the archive's chunks that stops at a byte budget."""

    def __init__(self, chunks: Iterator[bytes], budget: int) -> None:
        self.chunks = chunks
        self.budget = budget
        self.buffer = b""
        self.exhausted = False

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self.buffer) < size) and not self.exhausted:
            chunk = next(self.chunks, b"")
            if not chunk or self.budget <= 0:
                self.exhausted = True
                break
            self.budget -= len(chunk)
            self.buffer += chunk
        if size < 0:
            size = len(self.buffer)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def _kind(member: tarfile.TarInfo) -> str:
    if member.isdir():
        return "folder"
    if member.issym() or member.islnk():
        return "link"
    return "file" if member.isfile() else "other"


def _entry(name: str, member: tarfile.TarInfo) -> FileEntry:
    kind = _kind(member)
    type_bit = {"folder": stat.S_IFDIR, "link": stat.S_IFLNK, "file": stat.S_IFREG}.get(kind, 0)
    return FileEntry(
        name=name,
        kind=kind,
        size=member.size if kind == "file" else 0,
        mode=stat.filemode(type_bit | (member.mode & 0o7777)),
        target=member.linkname if kind == "link" else "",
    )


class ContainerExplorer:
    """One container's files, inspect data, logs, start and stop."""

    def __init__(self, conn: Connection, ref: str) -> None:
        self.conn = conn
        self.ref = ref

    def inspect(self) -> Json:
        """``docker inspect`` of the container."""
        api = self.conn.api()
        return self.conn.json(
            lambda: api.inspect_container(self.ref),
            Op("inspecting a container", "container", self.ref),
        )

    def start(self) -> None:
        """Start the (stopped) container again."""
        api = self.conn.api()
        self.conn.call(
            lambda: api.start(self.ref), Op(f"starting {self.ref}", "container", self.ref)
        )

    def _archive(self, path: str) -> tuple[Iterator[bytes], dict[str, Any]]:
        api = self.conn.api()
        try:
            answer = self.conn.call(
                lambda: api.get_archive(self.ref, path, chunk_size=256 * 1024),
                Op(f"reading {path} in {self.ref}", "container", self.ref),
            )
        except ContainerNotFound:
            self.inspect()  # the container itself is gone: that error stands
            raise DockdojoError(
                f"There is no {path} in the container {self.ref}.",
                "Open a folder of the listing, or go up to /.",
            ) from None
        except DockdojoError as error:
            if "remount-ro" not in str(error):
                raise
            # a rootless engine (a room's) mounts the container's volumes again to read
            # them, and may not make a read-only bind mount read-only again there
            raise ReadOnlyMountUnreadable(
                f"The engine cannot read the files of {self.ref}: it has a folder shared "
                "read-only (:ro), and this engine, a rootless one, cannot mount it again to "
                "read it (a limit of Docker's rootless mode).",
                f"Look from inside it instead (docker exec {self.ref} ls -la /), or share the "
                "folder without :ro while you look.",
            ) from None
        assert isinstance(answer, tuple)
        chunks, info = answer
        return iter(chunks), dict(info)

    def folder(self, path: str = "/") -> Folder:
        """The entries of the folder ``path`` (an absolute path; ``..`` resolved)."""
        path = posixpath.normpath("/" + path.lstrip("/"))
        chunks, _ = self._archive(path)
        reader = _Counted(chunks, MAX_ARCHIVE_BYTES)
        entries: dict[str, FileEntry] = {}
        complete = True
        top = posixpath.basename(path)  # the archive's members are "<top>/<entry>/..."
        depth = 2 if top else 1  # the root's are "<entry>/..."
        with tarfile.open(fileobj=reader, mode="r|") as archive:  # type: ignore[call-overload]
            for member in archive:
                parts = member.name.removeprefix("./").strip("/").split("/")
                if len(parts) == depth and parts[-1] not in ("", "."):
                    entries[parts[-1]] = _entry(parts[-1], member)
                if len(entries) >= MAX_ENTRIES:
                    complete = False
                    break
        if reader.exhausted and reader.budget <= 0:
            complete = False
        ordered = sorted(entries.values(), key=lambda e: (e.kind != "folder", e.name))
        return Folder(path, tuple(ordered), complete)

    def read_file(self, path: str) -> FileText:
        """The first :data:`MAX_FILE_BYTES` of the file ``path``, as text when it is."""
        path = posixpath.normpath("/" + path.lstrip("/"))
        chunks, info = self._archive(path)
        reader = _Counted(chunks, MAX_FILE_BYTES + 64 * 1024)
        data = b""
        size = int(info.get("size") or 0)
        with tarfile.open(fileobj=reader, mode="r|") as archive:  # type: ignore[call-overload]
            for member in archive:
                if member.isfile():
                    size = member.size
                    handle: IO[bytes] | None = archive.extractfile(member)
                    data = handle.read(MAX_FILE_BYTES) if handle else b""
                break
        try:
            text: str | None = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and "\0" in text:
            text = None
        return FileText(path, size, text, len(data) >= size)

    def follow_logs(self, *, tail: int = 50) -> LogStream:
        """The last ``tail`` log lines, then each new one as the container writes it,
        until the container stops or the stream is closed."""
        api = self.conn.api(FOLLOW_TIMEOUT)  # waits for lines as long as they take
        stream = self.conn.call(
            lambda: api.logs(self.ref, stream=True, follow=True, tail=tail),
            Op(f"following the logs of {self.ref}", "container", self.ref),
        )
        return LogStream(stream)


class LogStream:
    """Log lines as a container writes them; :meth:`close` ends the stream."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def lines(self) -> Iterator[str]:
        pending = b""
        for chunk in self.stream:
            pending += chunk
            *whole, pending = pending.split(b"\n")
            for line in whole:
                yield line.decode("utf-8", errors="replace")
        if pending:
            yield pending.decode("utf-8", errors="replace")

    def close(self) -> None:
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()


__all__ = [
    "ContainerExplorer",
    "FileEntry",
    "FileText",
    "Folder",
    "LogStream",
    "ReadOnlyMountUnreadable",
]
