"""User names: a room refuses the names dockdojo keeps for its own users, only the pool
and the rehearsal make theirs, and grading's cleanup removes only the users the pool
made. The account database here is a fake (lines of an /etc/passwd written by the
test) and the record folder a temporary one owned by the test's user; no user is made
or removed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockdojo.runner.cli import main
from dockdojo.runner.errors import RoomError
from dockdojo.runner.grading import isolation
from dockdojo.runner.privileged import users
from dockdojo.runner.privileged.users import POOL_PREFIX, Account, UserName
from dockdojo.runner.room import RoomConfig, load_config
from dockdojo.runner.room.engines import LearnerEngine
from dockdojo.runner.room.learners import check_name

ME = os.getuid()


@pytest.mark.parametrize("name", ["dd-grade-1", "dd-grade-", "dd-rehearsal-ab12cd"])
def test_a_room_refuses_reserved_names_and_says_where_to_change_them(name: str) -> None:
    with pytest.raises(RoomError, match="kept for") as err:
        UserName.parse(name)
    assert "room.toml's learners" in err.value.hint
    assert "dockdojo room engine start NAME" in err.value.hint
    assert "hub's allowed users" in err.value.hint
    with pytest.raises(RoomError, match="kept for"):
        check_name(name)
    with pytest.raises(RoomError, match="kept for"):
        LearnerEngine(name, RoomConfig(state=Path("/nonexistent")))


def test_room_config_refuses_a_reserved_learner(tmp_path: Path) -> None:
    config = tmp_path / "room.toml"
    config.write_text(f'state = "{tmp_path}"\n[hub]\nlearners = ["ada", "dd-grade-2"]\n')
    with pytest.raises(RoomError, match=r"room.toml: hub.learners: 'dd-grade-2'"):
        load_config(config)


def test_room_engine_start_refuses_a_reserved_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "room.toml"
    config.write_text(f'state = "{tmp_path}"\n')
    code = main(["room", "--config", str(config), "engine", "start", "dd-grade-1"])
    assert code == 1
    err = capsys.readouterr().err
    assert "names starting with dd-grade- are kept for grading's pool" in err
    assert "dockdojo room engine start NAME" in err


def test_only_the_constructors_make_names() -> None:
    with pytest.raises(TypeError, match=r"UserName\.parse"):
        UserName("dd-grade-1")
    assert UserName.parse("ada") == "ada"
    assert UserName.pool(3) == "dd-grade-3"
    assert UserName.rehearsal().startswith("dd-rehearsal-")
    assert UserName.pool(1).reserved
    assert not UserName.parse("ada").reserved
    assert check_name(UserName.pool(1)) == "dd-grade-1"  # the pool's own: accepted
    with pytest.raises(ValueError, match="from 1"):
        UserName.pool(0)


def _passwd(*entries: tuple[str, int]) -> list[str]:
    return [f"{name}:x:{uid}:{uid}::/home/{name}:/bin/sh" for name, uid in entries]


def _records(tmp_path: Path, *made: tuple[str, int]) -> Path:
    folder = tmp_path / "records"
    for name, uid in made:
        users.write_record(Account(name, uid, uid, Path(f"/home/{name}")), folder)
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def test_only_users_the_pool_made_are_its_own(tmp_path: Path) -> None:
    passwd = _passwd(
        ("root", 0),
        ("dd-grade-1", 1500),  # made by the pool
        ("dd-grade-2", 1501),  # someone's own user of that name
        ("dd-grade-3", 1600),  # made by the pool once, now another user of that name
        ("ada", 1001),
    )
    records = _records(tmp_path, ("dd-grade-1", 1500), ("dd-grade-3", 1502), ("ada", 1001))
    found = isolation.pool_users(passwd, records=records, owner=ME)
    assert found == ["dd-grade-1"]
    assert all(isinstance(n, UserName) for n in found)


def test_a_record_folder_others_may_write_is_not_believed(tmp_path: Path) -> None:
    records = _records(tmp_path, ("dd-grade-1", 1500))
    passwd = _passwd(("dd-grade-1", 1500))
    records.chmod(0o777)
    assert isolation.pool_users(passwd, records=records, owner=ME) == []
    records.chmod(0o700)
    assert isolation.pool_users(passwd, records=records, owner=ME + 1) == []  # not root's
    assert isolation.pool_users(passwd, records=records, owner=ME) == ["dd-grade-1"]


def test_cleanup_removes_only_what_the_pool_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """clear_leftovers with the fake account database: a pre-existing dd-grade-2 stays."""
    passwd = _passwd(("dd-grade-1", 1500), ("dd-grade-2", 1501))
    records = _records(tmp_path, ("dd-grade-1", 1500))

    def made(prefix: str, **_: object) -> list[UserName]:
        return users.made_users(prefix, passwd=passwd, records=records, owner=ME)

    removed: list[str] = []
    monkeypatch.setattr(isolation, "made_users", made)
    monkeypatch.setattr(isolation, "lookup", lambda n: Account(n, 1, 1, Path("/nowhere")))
    monkeypatch.setattr(isolation, "_clear", lambda *_: None)
    monkeypatch.setattr(isolation, "remove", removed.append)
    monkeypatch.setattr(isolation, "WORK_ROOT", tmp_path / "work")
    isolation.clear_leftovers(RoomConfig(state=tmp_path / "room"))
    assert removed == ["dd-grade-1"]
    assert POOL_PREFIX == "dd-grade-"
