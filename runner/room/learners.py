"""Learners as Unix users: their names, their accounts checked for rootless Docker, and
their subordinate ids.

A learner's engine runs as the learner's own user, so the user must exist (``useradd
-m``, which also gives the ranges in ``/etc/subuid`` and ``/etc/subgid`` that rootless
Docker maps a container's users to). :func:`existing_learner` only finds and checks
the account; :func:`create_learner` (``--create-user``, grading's pool) may also make
it, through :mod:`dockdojo.runner.privileged.users`.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import RoomError
from ..privileged import users
from ..privileged.users import Account as Learner
from ..privileged.users import UserName

MIN_SUBORDINATE_IDS = 65536
"""How many subordinate uids and gids a learner needs (images use ids up to 65534)."""
SUBUID = Path("/etc/subuid")
SUBGID = Path("/etc/subgid")


def check_name(name: str) -> UserName:
    """``name`` when dockdojo accepts it as a learner, else :class:`RoomError` (a name of
    grading's pool or of a rehearsal is accepted only as made by their own code)."""
    return name if isinstance(name, UserName) else UserName.parse(name)


def lookup(name: str) -> Learner | None:
    """The learner's account, or None when there is no such user."""
    return users.lookup(check_name(name))


def existing_learner(name: str) -> Learner:
    """The learner's account, checked for rootless Docker; never makes a user. Raises
    :class:`RoomError` saying what to fix (for a missing user, how to make one)."""
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


def create_learner(name: str) -> Learner:
    """The learner's account, made with ``useradd -m`` when there is no such user, then
    checked as :func:`existing_learner` checks it."""
    if lookup(name) is None:
        users.add(check_name(name))
    return existing_learner(name)


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


__all__ = [
    "MIN_SUBORDINATE_IDS",
    "Learner",
    "check_name",
    "create_learner",
    "existing_learner",
    "free_range_start",
    "lookup",
    "subordinate_ids",
]
