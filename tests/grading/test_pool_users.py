"""Grading's pool removes only the users it made: a user someone else made with a pool
user's name survives cleanup, and a batch refuses to adopt it. Run as root on this
machine (real useradd and userdel); no engine is started."""

from __future__ import annotations

import pwd
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockdojo.runner.errors import DockdojoError
from dockdojo.runner.grading.isolation import Pool, clear_leftovers, pool_users
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
