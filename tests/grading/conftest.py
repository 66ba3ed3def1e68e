"""Grading tests: ``dockdojo grade`` run for real, as root, on this machine.

Each submission runs as a pool user (``dd-grade-N``) on a throwaway rootless engine that
pulls through a read-only room mirror: here a pull-through cache of the test sandbox's
registry (DOCKDOJO_TEST_REGISTRY), started once for the session on a free port. These
tests fail, never skip, when that cannot run. Helpers are in :mod:`grading.kit`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from common_kit import free_port
from grading.kit import GradingRoom, leftovers
from room.seats import new_room

from dockdojo.runner.environ import TAG_SALT
from dockdojo.runner.mirror import Mirror
from dockdojo.runner.room.salt import room_salt

pytestmark = pytest.mark.engine


@pytest.fixture(scope="session")
def grading_room() -> Iterator[GradingRoom]:
    """A room with a running read-only mirror, for the whole session."""
    registry = os.environ.get("DOCKDOJO_TEST_REGISTRY")
    if not registry:
        pytest.fail(
            "DOCKDOJO_TEST_REGISTRY is not set: grading tests pull through the test sandbox's "
            "registry; run them through make test (or source the test environment)."
        )
    with new_room(free_port()) as room:
        mirror = Mirror(room.config)
        status = mirror.start(pull_through=f"http://{registry}")
        assert status.running, status.describe()
        try:
            yield GradingRoom(room.config, room.file)
        finally:
            mirror.stop()


@pytest.fixture(autouse=True)
def _nothing_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every grading test: no pool user, process, mount, cgroup or work folder."""
    yield
    if "grading_room" in request.fixturenames:
        left = leftovers()
        assert not left, f"left behind by grading: {left}"


@pytest.fixture
def subs(tmp_path: Path) -> Path:
    """A submissions folder closed to other users, as a grader keeps one."""
    folder = tmp_path / "submissions"
    folder.mkdir(mode=0o700)
    return folder


@pytest.fixture(autouse=True)
def _tags_as_the_grader_makes_them(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the grading room, the tests' own ``learner_tag`` makes tags with the room's
    salt, as the grader does (this process is root, as the grader is)."""
    if "grading_room" in request.fixturenames:
        room: GradingRoom = request.getfixturevalue("grading_room")
        monkeypatch.setenv(TAG_SALT, room_salt(room.config))
