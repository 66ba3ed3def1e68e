"""Unix users dockdojo runs things as: their names, accounts, runtime folders, and making
and removing them.

A :class:`UserName` is made only by its constructors: :meth:`UserName.parse` for a
learner (it refuses the reserved prefixes), :meth:`UserName.pool` for grading's pool and
:meth:`UserName.rehearsal` for the doctor's rehearsal. Every user :func:`add` makes is
written down in :data:`RECORDS` (root's alone, mode 700) with its uid and home, and
:func:`made_users` names only users whose record is root's and still matches the
account: a user of the same name that someone else made is never removed.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import HostError, RoomError
from .run import run

NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}\Z")
"""User names dockdojo accepts: portable Unix user names (one also names a cgroup, a
folder and an authorization plugin)."""
POOL_PREFIX = "dd-grade-"
"""Grading's pool users: ``dd-grade-1`` ... ``dd-grade-N``."""
REHEARSAL_PREFIX = "dd-rehearsal-"
"""The doctor's throwaway learners: ``dd-rehearsal-<hex>``."""
RECORDS = Path("/var/lib/dockdojo/users")
"""Root's record of the users dockdojo made (``NAME.json``: name, uid, home)."""
_KEY = object()


class UserName(str):
    """A user name dockdojo accepts, from one of its constructors only."""

    __slots__ = ()

    def __new__(cls, value: str, key: object = None) -> UserName:
        if key is not _KEY:
            raise TypeError("make a UserName with UserName.parse, .pool or .rehearsal")
        return super().__new__(cls, value)

    @classmethod
    def parse(cls, name: str) -> UserName:
        """A learner's name; :class:`RoomError` for one that is no portable user name or
        that starts with a prefix dockdojo keeps for its own users."""
        if isinstance(name, UserName) and not name.reserved:
            return name
        if not NAME.match(name):
            raise RoomError(
                f"{name!r} is not a learner name dockdojo accepts.",
                "Use a Unix user name of lower-case letters, digits, - and _ "
                "(at most 32, not starting with a digit or -).",
            )
        for prefix, owner in ((POOL_PREFIX, "grading's pool"), (REHEARSAL_PREFIX, "rehearsals")):
            if name.startswith(prefix):
                raise RoomError(
                    f"{name!r} is not a learner name dockdojo accepts: names starting with "
                    f"{prefix} are kept for {owner}, whose users dockdojo makes and removes.",
                    "Give the learner another name: in room.toml's learners, in "
                    "dockdojo room engine start NAME, and in the hub's allowed users.",
                )
        return cls(name, _KEY)

    @classmethod
    def pool(cls, number: int) -> UserName:
        """Grading's pool user number ``number`` (from 1)."""
        if number < 1:
            raise ValueError(f"pool users are numbered from 1, not {number}")
        return cls(f"{POOL_PREFIX}{number}", _KEY)

    @classmethod
    def rehearsal(cls) -> UserName:
        """A fresh name for a rehearsal's throwaway learner."""
        return cls(f"{REHEARSAL_PREFIX}{uuid.uuid4().hex[:6]}", _KEY)

    @property
    def reserved(self) -> bool:
        """Whether the name is one dockdojo keeps for its own users."""
        return self.startswith((POOL_PREFIX, REHEARSAL_PREFIX))

    def __reduce__(self) -> tuple[Callable[[str], UserName], tuple[str]]:
        """Copies and pickles are the same name, made again by its constructor."""
        return _made_again, (str(self),)


def _made_again(value: str) -> UserName:
    return UserName(value, _KEY)


@dataclass(frozen=True)
class Account:
    """A user's Unix account."""

    name: str
    """User name."""
    uid: int
    """User id; an engine and its containers' root run as this id."""
    gid: int
    """Primary group id."""
    home: Path
    """Home directory (rootless Docker needs one; the Docker CLI's config lives there)."""

    @property
    def runtime_dir(self) -> Path:
        """``XDG_RUNTIME_DIR``: ``/run/user/UID``, the user's own (mode 700)."""
        return Path(f"/run/user/{self.uid}")

    @property
    def socket(self) -> Path:
        """The engine's socket."""
        return self.runtime_dir / "docker.sock"

    @property
    def docker_host(self) -> str:
        """``DOCKER_HOST`` for this user's engine."""
        return f"unix://{self.socket}"


def lookup(name: str) -> Account | None:
    """The account of ``name``, or None when there is no such user."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return Account(name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))


def add(name: UserName, *, records: Path = RECORDS) -> Account:
    """Make the user ``name`` (``useradd -m``) and write it down in ``records``."""
    run(["useradd", "-m", name], hint="Create the user by hand, then try again.")
    who = lookup(name)
    if who is None:
        raise HostError(f"useradd -m {name} made no user {name}.", "Create the user by hand.")
    who.home.chmod(0o700)  # theirs alone: useradd -m makes it 755
    write_record(who, records)
    return who


def write_record(who: Account, records: Path = RECORDS) -> None:
    """Write down in ``records`` (made root's alone) that dockdojo made ``who``."""
    records.mkdir(mode=0o700, parents=True, exist_ok=True)
    records.chmod(0o700)
    record = records / f"{who.name}.json"
    part = record.with_suffix(".part")
    part.write_text(json.dumps({"name": who.name, "uid": who.uid, "home": str(who.home)}) + "\n")
    part.chmod(0o600)
    part.replace(record)


def remove(name: str, *, wait: float = 60.0, records: Path = RECORDS) -> None:
    """Remove the user ``name`` (``userdel -r``), their runtime folder and their record.

    ``userdel`` refuses while a process of the user lives, and an exited process lingers
    until init collects it, so it is retried for up to ``wait`` seconds. A user that does
    not exist is no error; one that cannot be removed raises :class:`HostError`.
    """
    who = lookup(name)
    deadline = time.monotonic() + wait
    while True:
        done = run(["userdel", "-r", name], hint="", check=False)
        if done.returncode in (0, 6):  # 6: no such user
            break
        if time.monotonic() > deadline:
            raise HostError(
                f"The user {name} could not be removed: {done.stderr.strip()}",
                f"Stop what still runs as {name}, then: userdel -r {name}",
            )
        time.sleep(0.2)
    if who is not None:
        shutil.rmtree(who.runtime_dir, ignore_errors=True)
    (records / f"{name}.json").unlink(missing_ok=True)


def made_users(
    prefix: str,
    *,
    passwd: Iterable[str] | None = None,
    records: Path = RECORDS,
    owner: int = 0,
) -> list[UserName]:
    """Users named ``prefix...`` that :func:`add` made: their record in ``records`` (a
    folder of ``owner``'s that no one else may write) names their uid and home as the
    account database (``passwd``'s lines, ``/etc/passwd`` by default) has them now."""
    if prefix not in (POOL_PREFIX, REHEARSAL_PREFIX):
        raise ValueError(f"{prefix!r} is no prefix of dockdojo's own users")
    if passwd is None:
        try:
            passwd = Path("/etc/passwd").read_text().splitlines()
        except OSError:
            return []
    if not _owned_alone(records, owner):
        return []
    found = []
    for line in passwd:
        fields = line.split(":")
        if len(fields) < 6 or not fields[0].startswith(prefix) or not NAME.match(fields[0]):
            continue
        record = records / f"{fields[0]}.json"
        if not _owned_alone(record, owner):
            continue
        try:
            made = json.loads(record.read_text())
        except (OSError, ValueError):
            continue
        if made == {"name": fields[0], "uid": int(fields[2]), "home": fields[5]}:
            found.append(UserName(fields[0], _KEY))
    return found


def _owned_alone(path: Path, owner: int) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return not path.is_symlink() and info.st_uid == owner and info.st_mode & 0o022 == 0


def prepare_runtime_dir(who: Account) -> None:
    """Make ``/run/user/UID`` exist, owned by the user, mode 700.

    On a systemd server, logind owns these folders: it mounts a fresh one at the user's
    first login and removes it at the last logout, which would hide the engine's socket.
    There the user is made to linger (``loginctl enable-linger``), so logind keeps the
    folder for as long as the user exists.
    """
    folder = who.runtime_dir
    if Path("/run/systemd/system").is_dir() and not folder.is_mount():
        run(["loginctl", "enable-linger", who.name], hint="", check=False)
        deadline = time.monotonic() + 5.0
        while not folder.is_mount() and time.monotonic() < deadline:
            time.sleep(0.1)
    folder.parent.mkdir(mode=0o755, exist_ok=True)
    if not own_folder(folder, who):
        info = folder.lstat()
        if folder.is_symlink() or not folder.is_dir() or info.st_uid != who.uid:
            raise HostError(
                f"{folder} is not {who.name}'s own folder.",
                f"Remove it (rm -r {folder}) and start the engine again.",
            )
    folder.chmod(0o700)


def empty_runtime_dir(who: Account) -> None:
    """Delete what is in ``who``'s runtime folder (an engine's state, whose pid files name
    dead processes), keeping the folder."""
    for entry in who.runtime_dir.glob("*"):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def own_folder(folder: Path, who: Account, mode: int = 0o700) -> bool:
    """Make ``folder`` (``mode``) and give it to ``who``; False when it exists already
    (whoever owns it: the caller decides)."""
    try:
        folder.mkdir(mode=mode)
    except FileExistsError:
        return False
    hand_over(folder, who.uid, who.gid)
    return True


def hand_over(path: Path, uid: int, gid: int) -> None:
    """Give ``path`` to ``uid``/``gid``."""
    os.chown(path, uid, gid)


__all__ = [
    "NAME",
    "POOL_PREFIX",
    "RECORDS",
    "REHEARSAL_PREFIX",
    "Account",
    "UserName",
    "add",
    "empty_runtime_dir",
    "hand_over",
    "lookup",
    "made_users",
    "own_folder",
    "prepare_runtime_dir",
    "remove",
    "write_record",
]
