"""The room's tag salt: the secret mixed into every learner's tag, made with the room.

A learner's tag (:func:`dockdojo.runner.context.learner_tag`) is a digest of the lesson,
the learner's id and a secret. Without the secret anyone works out every learner's tag
offline, and with it their container names and keys; so a room makes one of its own,
32 random bytes, the first time a room command needs it (``dockdojo room hub-config``,
the hub's first spawn, the instructor's view, the first ``dockdojo grade``), and keeps
it in ``STATE/tag-salt``: a regular file, root's, mode 0600, in the root-owned state
folder. Whoever made it first, every later reader gets the same one.

Who reads it: root's processes that act for the room, and nobody else: the grader
(isolated grading), the hub (which hands each learner's server their own tags,
``DOCKDOJO_LEARNER_TAG``, never the salt) and the instructor's view. A submission's
kernel gets its one tag the same way. Outside a room (a laptop, and ``grade --trusted``)
there is no salt unless ``DOCKDOJO_TAG_SALT`` sets one: a learner's tags there are
anyone's to work out, which is fine on an engine of one's own.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from ..errors import RoomError
from .config import RoomConfig

SALT_FILE = "tag-salt"
"""The salt's file in the room's state folder."""


def salt_path(room: RoomConfig) -> Path:
    """Where ``room`` keeps its salt."""
    return room.state / SALT_FILE


def room_salt(room: RoomConfig) -> str:
    """``room``'s salt, made now if it has none (as root). Raises :class:`RoomError` when
    it cannot be read (not root) or is not what the room made (not a regular file of
    root's, mode 0600)."""
    salt = existing_salt(room)
    if salt is not None:
        return salt
    try:
        _make(room)
    except OSError as exc:
        raise RoomError(
            f"The room's tag salt cannot be made in {room.state} ({exc.strerror}).",
            "Run room commands and grading as root: the salt is root's alone.",
        ) from None
    salt = existing_salt(room)
    assert salt is not None  # just made, or made meanwhile by another room command
    return salt


def existing_salt(room: RoomConfig) -> str | None:
    """``room``'s salt, or None when it has made none yet (see :func:`room_salt`)."""
    path = salt_path(room)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RoomError(
            f"The room's tag salt {path} cannot be read ({exc.strerror}).",
            "Run room commands and grading as root: the salt is root's alone.",
        ) from None
    with os.fdopen(fd, "rb") as file:
        st = os.fstat(file.fileno())
        if (
            not stat.S_ISREG(st.st_mode)
            or st.st_uid != os.geteuid()
            or st.st_mode & 0o077
            or st.st_size > 1024
        ):
            raise RoomError(
                f"The room's tag salt {path} is not the room's own (it must be a regular "
                "file of root's, mode 0600).",
                f"Remove it (rm {path}) if you do not know who made it; the next room "
                "command makes a new one (learners' tags then change: restart their servers).",
            )
        salt = file.read().decode("ascii", "replace").strip()
    if len(salt) < 32:
        raise RoomError(
            f"The room's tag salt {path} is too short to be a secret.",
            f"Remove it (rm {path}); the next room command makes a new one.",
        )
    return salt


def _make(room: RoomConfig) -> None:
    """Write a new salt unless one exists: whole or not at all, and never over another's."""
    room.state.mkdir(mode=0o711, parents=True, exist_ok=True)
    path = salt_path(room)
    draft = path.with_name(f".{SALT_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_hex(32).encode("ascii") + b"\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another command made it first: theirs
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)


__all__ = ["SALT_FILE", "existing_salt", "room_salt", "salt_path"]
