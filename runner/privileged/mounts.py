"""Mounts: a size-limited tmpfs owned by a user, and unmounting whatever an engine or a
kernel left below a folder. (A graded kernel's own read-only view of the host is made
by :mod:`.confine`, in its own mount namespace.)"""

from __future__ import annotations

from pathlib import Path

from ..errors import HostError
from .run import run


def mount_points_under(root: Path) -> list[str]:
    """Mount points below ``root`` in our mount table, deepest first."""
    prefix = str(root) + "/"
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    points = [
        line.split()[4].encode().decode("unicode_escape")
        for line in lines
        if line.split()[4].startswith(prefix)
    ]
    return sorted(set(points), key=len, reverse=True)


def mounted(point: Path | str) -> bool:
    """Whether something is mounted on ``point`` in our mount table (unlike
    :meth:`Path.is_mount`, this sees a file bound from the same file system)."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return False
    wanted = str(point)
    return any(line.split()[4].encode().decode("unicode_escape") == wanted for line in lines)


def unmount(point: Path | str) -> None:
    """Detach the mount at ``point`` (``umount -l``); one that is gone is no error."""
    done = run(["umount", "-l", str(point)], hint="", check=False)
    if done.returncode != 0 and mounted(point):
        raise HostError(
            f"Could not unmount {point}: {done.stderr.strip()}",
            f"Unmount it by hand: umount -l {point}",
        )


def unmount_under(root: Path) -> None:
    """Unmount everything mounted below ``root`` (deepest first)."""
    for point in mount_points_under(root):
        unmount(point)


def mount_tmpfs(folder: Path, *, size_mb: int, uid: int, gid: int, name: str) -> None:
    """Mount a tmpfs of ``size_mb`` on ``folder``, owned by ``uid``/``gid`` (mode 700),
    without set-uid programs or devices."""
    options = f"size={size_mb}m,mode=0700,uid={uid},gid={gid},nosuid,nodev"
    run(
        ["mount", "-t", "tmpfs", "-o", options, name, str(folder)],
        hint="It needs root and tmpfs; check that the folder's file system is writable.",
    )


def bind_file(source: Path, target: Path) -> None:
    """Bind the file ``source`` (a socket, say) on ``target``, made as an empty file of
    root's: ``target`` then stays that very file, whatever later becomes of
    ``source``'s name (unlinked, replaced by another file or a link)."""
    while mounted(target):  # a bind left by a crash (or two)
        unmount(target)
    target.unlink(missing_ok=True)
    target.touch(mode=0o600)
    run(
        ["mount", "--bind", "--no-canonicalize", str(source), str(target)],
        hint=f"It needs root; check that {source} exists.",
    )


__all__ = ["bind_file", "mount_points_under", "mount_tmpfs", "mounted", "unmount", "unmount_under"]
