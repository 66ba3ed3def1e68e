"""Files beside the notebook: what a lesson may write and read in the learner's folder.

A lesson that shares a folder with a container (``-v ./public_html:/usr/local/apache2/
htdocs``) needs that folder where the relative path finds it: beside the notebook, which
is where Jupyter starts the kernel (the folder of ``dockdojo lab``, of a room learner's
``~/dockdojo-lessons``, of a graded submission). The ``write-file`` action and its widget
write there, and nowhere else:

- a path is relative to the notebook's folder: an absolute one (``/etc/passwd``,
  ``~/.bashrc``) and one that climbs out of it (``..``) are refused with a message;
- the path is walked one folder at a time from the notebook's folder, each opened
  without following a symbolic link, so a link planted in the folder (``public_html ->
  /etc``) leads nowhere: it is refused, not followed;
- what is written is text, at most :data:`MAX_BYTES`.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from .errors import DockdojoError
from .text import human_bytes

MAX_BYTES = 256 * 1024
"""Bytes one file written or read beside the notebook may have, at most."""

_HOW = "Give a path inside the notebook's folder, such as public_html/index.html."


def _parts(relative: str) -> tuple[str, ...]:
    text = str(relative).strip()
    if not text:
        raise DockdojoError("No file was named to write beside the notebook.", _HOW)
    if text.startswith(("/", "~", "\\")) or PurePosixPath(text).is_absolute():
        raise DockdojoError(
            f"{text!r} is an absolute path: dockdojo writes only inside the notebook's "
            "folder, never elsewhere on the machine.",
            _HOW,
        )
    parts = tuple(p for p in PurePosixPath(text).parts if p not in ("", "."))
    if ".." in parts:
        raise DockdojoError(
            f"{text!r} leads out of the notebook's folder (..): dockdojo writes only inside it.",
            _HOW,
        )
    if not parts:
        raise DockdojoError(f"{text!r} names the notebook's folder itself, not a file.", _HOW)
    if any("\0" in p for p in parts):
        raise DockdojoError(f"{text!r} holds a NUL character.", _HOW)
    return parts


@contextlib.contextmanager
def _folder(base: Path, parts: tuple[str, ...], *, create: bool) -> Iterator[int]:
    """A descriptor of the folder ``parts`` under ``base``, each opened without following
    links (made when ``create``)."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        walked = []
        for part in parts:
            walked.append(part)
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
            try:
                inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                raise
            except OSError as exc:
                raise _refusal("/".join(walked), exc, folder=True) from None
            os.close(fd)
            fd = inner
        yield fd
    finally:
        os.close(fd)


def _refusal(shown: str, exc: OSError, *, folder: bool = False) -> DockdojoError:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR) or (folder and exc.errno == errno.EEXIST):
        what = "a folder" if folder else "a file"
        return DockdojoError(
            f"{shown} beside the notebook is a symbolic link or not {what}: dockdojo "
            "writes only inside the notebook's folder and never through a link.",
            f"Remove or rename {shown}, then try again.",
        )
    if exc.errno == errno.EISDIR:
        return DockdojoError(f"{shown} beside the notebook is a folder, not a file.", _HOW)
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return DockdojoError(
            f"{shown} beside the notebook cannot be written ({exc.strerror}).",
            "Check the folder's permissions (it should be yours), then try again.",
        )
    return DockdojoError(f"{shown} beside the notebook: {exc.strerror or exc}.", _HOW)


def write_beside(relative: str, text: str, base: Path | None = None) -> Path:
    """Write ``text`` to ``relative`` inside ``base`` (the notebook's folder: by default
    the current one), making its folders; return the file's path. Refuses what leads
    out of the folder (see the module)."""
    parts = _parts(relative)
    shown = "/".join(parts)
    data = str(text).encode("utf-8")
    if len(data) > MAX_BYTES:
        raise DockdojoError(
            f"{shown} would have {human_bytes(len(data))}; a file written beside the "
            f"notebook may have {human_bytes(MAX_BYTES)} at most.",
            "Write a shorter file.",
        )
    folder = (base or Path.cwd()).absolute()
    try:
        with _folder(folder, parts[:-1], create=True) as fd:
            try:
                out = os.open(
                    parts[-1],
                    os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                    0o644,
                    dir_fd=fd,
                )
            except OSError as exc:
                raise _refusal(shown, exc) from None
            with os.fdopen(out, "wb") as handle:
                handle.write(data)
    except DockdojoError:
        raise
    except OSError as exc:
        raise _refusal(shown, exc, folder=True) from None
    return folder.joinpath(*parts)


def read_beside(relative: str, base: Path | None = None) -> str | None:
    """The text of ``relative`` inside ``base`` (as :func:`write_beside` finds it); None
    when there is no such file. Refuses what leads out of the folder, a link, a file
    that is not UTF-8 text or has more than :data:`MAX_BYTES`."""
    parts = _parts(relative)
    shown = "/".join(parts)
    folder = (base or Path.cwd()).absolute()
    try:
        with _folder(folder, parts[:-1], create=False) as fd:
            try:
                handle = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise _refusal(shown, exc) from None
            with os.fdopen(handle, "rb") as reader:
                data = reader.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except DockdojoError:
        raise
    except OSError as exc:
        raise _refusal(shown, exc) from None
    if len(data) > MAX_BYTES:
        raise DockdojoError(
            f"{shown} has more than {human_bytes(MAX_BYTES)}: too big to show here.",
            "Open it in JupyterLab's editor instead.",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise DockdojoError(
            f"{shown} is not UTF-8 text.", "Open it in JupyterLab's editor instead."
        ) from None


__all__ = ["MAX_BYTES", "read_beside", "write_beside"]
