"""Reading a submitted file, which the grader does as root: only a regular file is read.

A symbolic link (to a file only root may read, say), a FIFO (which would hang the
grader), a socket, a device or a folder is not a notebook: it is refused with a message
that says what the path is and what to do, and never opened, or opened without
following links or blocking and checked again once open.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

_KINDS = (
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (a named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class NotRegularFile(OSError):
    """A submission that is not a regular file; its text says what it is and what to do."""


def kind_of(mode: int) -> str:
    """What a file of ``mode`` (``st_mode``) is, in words: ``a symbolic link``..."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def refusal(path: Path, mode: int) -> NotRegularFile:
    """The error for ``path``, which is a file of ``mode`` other than a regular one."""
    return NotRegularFile(
        f"{path} is {kind_of(mode)}, not a regular file, and only regular files are graded. "
        "Submit the notebook file itself (its .ipynb), not a link or anything else."
    )


def read_submission(path: Path) -> bytes:
    """The bytes of the regular file ``path``, its last component not followed if it is a
    link. Raises :class:`NotRegularFile` for anything else (without opening a FIFO or a
    device), and OSError when it cannot be read."""
    before = os.lstat(path)
    if not stat.S_ISREG(before.st_mode):
        raise refusal(path, before.st_mode)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # made a link since it was looked at
            raise refusal(path, stat.S_IFLNK) from exc
        raise
    with open(fd, "rb") as f:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode):
            raise refusal(path, now.st_mode)
        if (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
            raise NotRegularFile(f"{path} was replaced while it was read; grade it again.")
        return f.read()


__all__ = ["NotRegularFile", "kind_of", "read_submission", "refusal"]
