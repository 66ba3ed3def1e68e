"""Who listens on a UNIX socket: the peer's credentials as the kernel gives them
(``SO_PEERCRED``), checked against a process tree dockdojo started.

A learner engine's socket is in the learner's own runtime folder, where anything running
as the learner (their kernel, a container of their engine, whose root is the learner on
the host) may replace it with a program of theirs that answers as an engine would. So
root reads an engine only through its pinned socket (bound by
:func:`dockdojo.runner.privileged.mounts.bind_file` when the engine starts) and pins it
only once this module says that what listens there is that engine's ``dockerd``: the
process that the engine's own rootlesskit started, running the host's ``dockerd``
program (the same file: device and inode, not a name).
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import HostError


@dataclass(frozen=True)
class Peer:
    """The process at the other end of a UNIX socket connection."""

    pid: int
    uid: int
    gid: int

    def parent(self) -> int | None:
        """Its parent's pid; None when it is gone."""
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return None
        return int(stat.rpartition(")")[2].split()[1])

    def runs(self, program: Path) -> bool:
        """Whether it runs ``program`` (the same file, whatever its name in its own mount
        namespace)."""
        try:
            running = os.stat(f"/proc/{self.pid}/exe")
            wanted = os.stat(program)
        except OSError:
            return False
        return (running.st_dev, running.st_ino) == (wanted.st_dev, wanted.st_ino)

    def describe(self) -> str:
        try:
            command = Path(f"/proc/{self.pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            command = b"(gone)"
        return f"pid {self.pid}, uid {self.uid}: {command.decode(errors='replace')[:120].strip()}"


def peer(path: Path, timeout: float = 5.0) -> Peer:
    """The process listening on the UNIX socket ``path``; :class:`HostError` when none."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(timeout)
        try:
            client.connect(str(path))
        except OSError as exc:
            raise HostError(
                f"Nothing answers on {path} ({exc.strerror or exc}).",
                "Start the engine again.",
            ) from exc
        raw = client.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, gid = struct.unpack("3i", raw)
    return Peer(pid, uid, gid)


def is_engine(found: Peer, *, root: int, launcher: Path, program: Path) -> bool:
    """Whether ``found`` runs ``program`` as the child of ``root``'s own child running
    ``launcher``: rootlesskit (``root``) starts itself again in the engine's namespaces,
    and that copy starts dockerd. A container's process (whose parent is a shim) or a
    look-alike program of the learner's never is."""
    parent = found.parent()
    if found.pid <= 0 or parent is None or not found.runs(program):
        return False
    middle = Peer(parent, -1, -1)
    return middle.parent() == root and middle.runs(launcher)


__all__ = ["Peer", "is_engine", "peer"]
