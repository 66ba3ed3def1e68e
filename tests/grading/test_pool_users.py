"""Grading's pool removes only the users it made: a user someone else made with a pool
user's name survives cleanup, and a batch refuses to adopt it. A batch leaves no file
of its users anywhere, and does not hand out a uid whose earlier owner left files. Run
as root on this machine (real useradd, userdel and find); no engine is started."""

from __future__ import annotations

import os
import pwd
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockdojo.runner.errors import DockdojoError
from dockdojo.runner.grading.isolation import Pool, clear_leftovers, pool_users
from dockdojo.runner.privileged import leftovers
from dockdojo.runner.room import RoomConfig
from dockdojo.runner.room.pyenv import KernelEnv

pytestmark = pytest.mark.engine

KERNEL = KernelEnv(Path("/nonexistent/bin/python"), Path("/nonexistent/code"))


@pytest.fixture
def someones_user() -> Iterator[str]:
    """``dd-grade-1``, made by hand as an administrator might (no pool record)."""
    name = "dd-grade-1"
    subprocess.run(["useradd", "-m", name], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", "-r", name], check=False, capture_output=True)


def test_cleanup_keeps_a_user_the_pool_did_not_make(someones_user: str, tmp_path: Path) -> None:
    assert someones_user not in pool_users()
    clear_leftovers(RoomConfig(state=tmp_path / "room"))
    assert pwd.getpwnam(someones_user).pw_name == someones_user


def test_a_batch_refuses_to_take_over_such_a_user(someones_user: str, tmp_path: Path) -> None:
    with (
        pytest.raises(DockdojoError, match="grading pool did not make"),
        Pool(RoomConfig(state=tmp_path / "room"), 1, KERNEL),
    ):
        pass
    assert pwd.getpwnam(someones_user).pw_name == someones_user


def _plant(folder: Path, name: str, uid: int) -> list[Path]:
    """What a submission's containers might leave in ``folder`` as ``uid``: a file, a
    set-uid program, a FIFO, a link to a root-only file, a folder holding a file."""
    made = [folder / f"{name}-file", folder / f"{name}-suid", folder / f"{name}-fifo"]
    made[0].write_bytes(b"x" * 4096)
    made[1].write_bytes(Path("/bin/true").read_bytes())
    made[1].chmod(0o4755)
    os.mkfifo(made[2])
    link = folder / f"{name}-link"
    link.symlink_to("/etc/shadow")
    inner = folder / f"{name}-dir"
    (inner / "deep").mkdir(parents=True)
    (inner / "deep" / "data").write_text("x")
    for path in [*made, inner, inner / "deep", inner / "deep" / "data"]:
        os.chown(path, uid, uid)
    os.lchown(link, uid, uid)
    made[1].chmod(0o4755)  # chown clears the set-uid bit
    return [*made, link, inner]


def test_a_batch_deletes_every_file_its_users_left_anywhere(tmp_path: Path) -> None:
    planted: list[Path] = []
    with Pool(RoomConfig(state=tmp_path / "room"), 1, KERNEL) as pool:
        who = pwd.getpwnam(pool.names[0])
        first = leftovers.subordinate_range(pool.names[0])
        assert first is not None, "a pool user has subordinate ids"
        for folder in (Path("/tmp"), Path("/var/tmp"), Path("/dev/shm")):
            planted += _plant(folder, f"dd-left-{os.getpid()}", who.pw_uid)
        planted += _plant(Path("/var/tmp"), f"dd-sub-{os.getpid()}", first[0] + 1000)
        assert all(p.exists() or p.is_symlink() for p in planted)
    left = [p for p in planted if p.exists() or p.is_symlink()]
    assert not left, f"files of the pool's users outlived the batch: {left}"
    assert not leftovers.find_owned([(who.pw_uid, who.pw_uid), first])


def test_a_uid_whose_last_owner_left_files_is_not_handed_out(tmp_path: Path) -> None:
    # the uid useradd gives next: that of a user made and removed just now
    subprocess.run(["useradd", "-m", "dd-probe"], check=True, capture_output=True)
    uid = pwd.getpwnam("dd-probe").pw_uid
    subprocess.run(["userdel", "-r", "dd-probe"], check=True, capture_output=True)
    kept = Path("/var/tmp") / f"dd-earlier-{os.getpid()}"
    kept.write_text("an earlier user's")
    os.chown(kept, uid, uid)
    try:
        with (
            pytest.raises(DockdojoError, match="Files of an earlier user") as raised,
            Pool(RoomConfig(state=tmp_path / "room"), 1, KERNEL),
        ):
            pass
        assert str(kept) in str(raised.value)
        assert kept.read_text() == "an earlier user's", "someone else's file was deleted"
        assert not pool_users(), "the refused pool's users were removed"
    finally:
        kept.unlink()
