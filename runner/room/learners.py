"""Learners as Unix users: who they are, their subordinate ids, their runtime directory.

A learner's engine runs as the learner's own user, so the user must exist (``useradd
-m``, which also gives the ranges in ``/etc/subuid`` and ``/etc/subgid`` that rootless
Docker maps a container's users to). dockdojo creates a user only when asked to
(``--create-user``).
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from ..errors import RoomError
from .host import PATH

NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}\Z")
"""Learner names dockdojo accepts: a portable Unix user name (it also names a cgroup, a
folder and an authorization plugin)."""
MIN_SUBORDINATE_IDS = 65536
"""How many subordinate uids and gids a learner needs (images use ids up to 65534)."""
SUBUID = Path("/etc/subuid")
SUBGID = Path("/etc/subgid")


@dataclass(frozen=True)
class Learner:
    """A learner's Unix account."""

    name: str
    """User name."""
    uid: int
    """User id; the engine and its containers' root run as this id."""
    gid: int
    """Primary group id."""
    home: Path
    """Home directory (rootless Docker needs one; the Docker CLI's config lives there)."""

    @property
    def runtime_dir(self) -> Path:
        """``XDG_RUNTIME_DIR``: ``/run/user/UID``, the learner's own (mode 700)."""
        return Path(f"/run/user/{self.uid}")

    @property
    def socket(self) -> Path:
        """The engine's socket."""
        return self.runtime_dir / "docker.sock"

    @property
    def docker_host(self) -> str:
        """``DOCKER_HOST`` for this learner's engine."""
        return f"unix://{self.socket}"


def check_name(name: str) -> str:
    """``name`` when dockdojo accepts it as a learner, else :class:`RoomError`."""
    if not NAME.match(name):
        raise RoomError(
            f"{name!r} is not a learner name dockdojo accepts.",
            "Use a Unix user name of lower-case letters, digits, - and _ "
            "(at most 32, not starting with a digit or -).",
        )
    return name


def lookup(name: str) -> Learner | None:
    """The learner's account, or None when there is no such user."""
    check_name(name)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return Learner(name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))


def learner(name: str, *, create: bool = False) -> Learner:
    """The learner's account, checked for rootless Docker; with ``create``, a missing
    user is made with ``useradd -m``. Raises :class:`RoomError` saying what to fix."""
    found = lookup(name)
    if found is None and create:
        result = subprocess.run(
            ["useradd", "-m", name], capture_output=True, text=True, env={"PATH": PATH}
        )
        if result.returncode != 0:
            raise RoomError(
                f"useradd -m {name} failed: {result.stderr.strip()}",
                "Create the user by hand, then start the engine again.",
            )
        found = lookup(name)
    if found is None:
        raise RoomError(
            f"There is no Unix user {name}; a learner's engine runs as the learner's own user.",
            f"Create it (useradd -m {name}), or start with --create-user to have dockdojo "
            "run useradd -m for you.",
        )
    if found.uid == 0:
        raise RoomError(
            f"{name} is root; a learner engine runs as an unprivileged user.",
            "Give each learner a Unix user of their own.",
        )
    if not found.home.is_dir():
        raise RoomError(
            f"{name}'s home {found.home} does not exist; rootless Docker needs one.",
            f"Create it: mkhomedir_helper {name} (or usermod -d /home/{name} -m {name}).",
        )
    for path in (SUBUID, SUBGID):
        if subordinate_ids(path, found) < MIN_SUBORDINATE_IDS:
            start = free_range_start()
            end = start + MIN_SUBORDINATE_IDS - 1
            raise RoomError(
                f"{name} has fewer than {MIN_SUBORDINATE_IDS} subordinate ids in {path}; "
                "rootless Docker maps a container's users to them.",
                f"Give {name} a range: usermod --add-subuids {start}-{end} "
                f"--add-subgids {start}-{end} {name}",
            )
    return found


def subordinate_ids(path: Path, who: Learner) -> int:
    """How many subordinate ids ``path`` (``/etc/subuid`` or ``/etc/subgid``) gives."""
    total = 0
    for owner, _, count in _ranges(path):
        if owner in (who.name, str(who.uid)):
            total += count
    return total


def free_range_start() -> int:
    """The first id after every range in /etc/subuid and /etc/subgid (at least 100000)."""
    ends = [start + count for p in (SUBUID, SUBGID) for _, start, count in _ranges(p)]
    return max([100000, *ends])


def _ranges(path: Path) -> list[tuple[str, int, int]]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            out.append((parts[0], int(parts[1]), int(parts[2])))
    return out


def prepare_runtime_dir(who: Learner) -> None:
    """Make ``/run/user/UID`` exist, owned by the learner, mode 700.

    On a systemd server, logind owns these folders: it mounts a fresh one at the
    learner's first login and removes it at the last logout, which would hide the
    engine's socket. There the learner is made to linger (``loginctl enable-linger``),
    so logind keeps the folder for as long as the user exists.
    """
    folder = who.runtime_dir
    if Path("/run/systemd/system").is_dir() and not folder.is_mount():
        subprocess.run(
            ["loginctl", "enable-linger", who.name],
            capture_output=True,
            check=False,
            env={"PATH": PATH},
        )
        deadline = time.monotonic() + 5.0
        while not folder.is_mount() and time.monotonic() < deadline:
            time.sleep(0.1)
    folder.parent.mkdir(mode=0o755, exist_ok=True)
    try:
        folder.mkdir(mode=0o700)
        os.chown(folder, who.uid, who.gid)
    except FileExistsError:
        info = folder.lstat()
        if folder.is_symlink() or not folder.is_dir() or info.st_uid != who.uid:
            raise RoomError(
                f"{folder} is not {who.name}'s own folder.",
                f"Remove it (rm -r {folder}) and start the engine again.",
            ) from None
    folder.chmod(0o700)


def processes_of(uids: Collection[int], *, zombies: bool = False) -> list[int]:
    """Processes whose real or effective user id is one of ``uids`` (a learner's, and
    their subordinate ids); exited ones (zombies) only with ``zombies``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        ids = [int(i) for i in fields.get("Uid", "").split()[:2]]
        zombie = fields.get("State", "").strip().startswith("Z")
        if any(i in uids for i in ids) and (zombies or not zombie):
            found.append(int(entry.name))
    return found


def remove(name: str, *, wait: float = 60.0) -> None:
    """Remove the user ``name`` (``userdel -r``) and their runtime folder.

    ``userdel`` refuses while a process of the user lives, and an exited process lingers
    until init collects it, so it is retried for up to ``wait`` seconds. A user that does
    not exist is no error; one that cannot be removed raises :class:`RoomError`.
    """
    who = lookup(name)
    deadline = time.monotonic() + wait
    while True:
        done = subprocess.run(
            ["userdel", "-r", name], capture_output=True, text=True, env={"PATH": PATH}
        )
        if done.returncode in (0, 6):  # 6: no such user
            break
        if time.monotonic() > deadline:
            raise RoomError(
                f"The user {name} could not be removed: {done.stderr.strip()}",
                f"Stop what still runs as {name}, then: userdel -r {name}",
            )
        time.sleep(0.2)
    if who is not None:
        shutil.rmtree(who.runtime_dir, ignore_errors=True)


__all__ = [
    "MIN_SUBORDINATE_IDS",
    "Learner",
    "check_name",
    "free_range_start",
    "learner",
    "lookup",
    "prepare_runtime_dir",
    "processes_of",
    "remove",
    "subordinate_ids",
]
