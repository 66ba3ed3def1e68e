"""A room's tag salt: made once, root's alone, its own per room; learners' tags are made
with it, and a learner's server is handed their own tags, never the salt. (The hub and
the grader that use it are tested for real in tests/room/ and tests/grading/.)"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dockdojo.runner.context import learner_tag
from dockdojo.runner.environ import LEARNER, LEARNER_TAG, TAG_SALT, given_tag, handed_tags
from dockdojo.runner.errors import RoomError
from dockdojo.runner.hub.hub import room_lesson_ids, server_environment
from dockdojo.runner.room import RoomConfig
from dockdojo.runner.room.learners import Learner
from dockdojo.runner.room.pyenv import KernelEnv
from dockdojo.runner.room.salt import existing_salt, room_salt, salt_path

LESSON = "what-is-an-image"


def test_the_salt_is_made_once_and_kept_for_root_alone(tmp_path: Path) -> None:
    room = RoomConfig(state=tmp_path / "room")
    assert existing_salt(room) is None
    salt = room_salt(room)
    assert len(salt) == 64
    assert room_salt(room) == salt == existing_salt(room)
    info = salt_path(room).lstat()
    assert stat.S_ISREG(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == os.geteuid() == 0, "room commands run as root"
    assert [p.name for p in room.state.iterdir()] == ["tag-salt"]  # no draft left


def test_two_rooms_have_different_salts(tmp_path: Path) -> None:
    assert room_salt(RoomConfig(state=tmp_path / "a")) != room_salt(
        RoomConfig(state=tmp_path / "b")
    )


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_a_salt_others_may_read_is_refused_not_used(tmp_path: Path, mode: int) -> None:
    room = RoomConfig(state=tmp_path)
    room_salt(room)
    salt_path(room).chmod(mode)
    with pytest.raises(RoomError, match="not the room's own") as caught:
        room_salt(room)
    assert f"rm {salt_path(room)}" in caught.value.hint


def test_a_link_in_place_of_the_salt_is_refused(tmp_path: Path) -> None:
    room = RoomConfig(state=tmp_path)
    (tmp_path / "elsewhere").write_text("0" * 64)
    salt_path(room).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RoomError, match="cannot be read"):
        room_salt(room)


def test_the_salted_tag_differs_from_the_unsalted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TAG_SALT, raising=False)
    monkeypatch.delenv(LEARNER_TAG, raising=False)
    salt = room_salt(RoomConfig(state=tmp_path))
    salted = learner_tag(LESSON, "ada", salt)
    assert salted != learner_tag(LESSON, "ada")
    assert salted == learner_tag(LESSON, "ada", salt)  # stable
    assert salted != learner_tag(LESSON, "bob", salt)
    assert salted != learner_tag("another-lesson", "ada", salt)


def test_a_learners_server_holds_their_tags_and_never_the_salt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = RoomConfig(state=tmp_path)
    salt = room_salt(room)
    who = Learner("ada", 1501, 1501, Path("/home/ada"))
    python = KernelEnv(Path("/var/lib/dockdojo/learner/bin/python"), Path("/opt/code"))
    env = server_environment("ada", room, "unix:///run/user/1501/docker.sock", who, python, salt)
    assert LESSON in room_lesson_ids()
    assert env[LEARNER] == "ada"
    assert f"{LESSON}={learner_tag(LESSON, 'ada', salt)}" in env[LEARNER_TAG].split(",")
    assert TAG_SALT not in env
    assert not [k for k, v in env.items() if salt in v]
    # her server, given that environment, makes the room's tag without the salt
    for name in (LEARNER, LEARNER_TAG):
        monkeypatch.setenv(name, env[name])
    monkeypatch.delenv(TAG_SALT, raising=False)
    assert learner_tag(LESSON, "ada") == learner_tag(LESSON, "ada", salt)
    assert learner_tag(LESSON, "bob") != learner_tag(LESSON, "bob", salt)  # not bob's


def test_handed_tags_are_read_back_per_lesson_and_for_their_learner_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(LEARNER, "ada")
    monkeypatch.setenv(LEARNER_TAG, handed_tags({"one": "a1b2c3", "two": "d4e5f6"}))
    assert given_tag("one", "ada") == "a1b2c3"
    assert given_tag("two", "ada") == "d4e5f6"
    assert given_tag("three", "ada") is None
    assert given_tag("one", "bob") is None
