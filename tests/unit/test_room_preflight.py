"""Learner engines say exactly what is missing on the server or in the learner's account,
and the containers limit decides each create; no engine, no user is touched here."""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path

import pytest

from dockdojo.runner.errors import RoomError
from dockdojo.runner.privileged import users
from dockdojo.runner.privileged.authz import Gate, refusal
from dockdojo.runner.room import host, learners
from dockdojo.runner.room.learners import Learner


def test_not_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    with pytest.raises(RoomError, match="need a Linux server; this is Darwin") as err:
        host.check_can_run()
    assert "workshop's Linux server" in err.value.hint


def test_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(RoomError, match="needs root") as err:
        host.check_can_run()
    assert "sudo dockdojo room engine" in err.value.hint


def test_missing_programs_are_named_with_their_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda name, **_: None if name != "dockerd" else "/x")
    monkeypatch.setattr(host, "ROOTLESS_SCRIPT_PATHS", (Path("/nonexistent.sh"),))
    with pytest.raises(RoomError) as err:
        host.check_can_run()
    assert "rootlesskit (package rootlesskit)" in err.value.what
    assert "newuidmap (package uidmap)" in err.value.what
    assert "dockerd-rootless.sh (package docker.io)" in err.value.what
    assert "dockerd (package" not in err.value.what
    assert err.value.hint.startswith("Install them: apt-get install -y ")
    assert "slirp4netns uidmap" in err.value.hint


def _all_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(platform, "system", lambda: "Linux")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(shutil, "which", lambda name, **_: f"/usr/bin/{name}")
    script = tmp_path / "dockerd-rootless.sh"
    script.write_text("#!/bin/sh\n")
    monkeypatch.setattr(host, "ROOTLESS_SCRIPT_PATHS", (script,))


def test_missing_tun_says_how_to_load_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _all_installed(monkeypatch, tmp_path)
    monkeypatch.setattr(host, "TUN", tmp_path / "tun")
    with pytest.raises(RoomError, match="tun is missing") as err:
        host.check_can_run()
    assert "modprobe tun" in err.value.hint


def test_tun_is_opened_to_learners(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _all_installed(monkeypatch, tmp_path)
    tun = tmp_path / "tun"
    tun.touch(mode=0o600)
    tun.chmod(0o600)
    monkeypatch.setattr(host, "TUN", tun)
    programs = host.check_can_run()
    assert tun.stat().st_mode & 0o777 == 0o666
    assert programs.rootlesskit == "/usr/bin/rootlesskit"


def test_a_missing_user_says_how_to_make_one() -> None:
    with pytest.raises(RoomError, match="There is no Unix user dd-nobody-here") as err:
        learners.existing_learner("dd-nobody-here")
    assert "useradd -m dd-nobody-here" in err.value.hint
    assert "--create-user" in err.value.hint


@pytest.mark.parametrize("name", ["Ada", "1ada", "-ada", "a b", "a/b", "x" * 33])
def test_names_that_are_no_learner(name: str) -> None:
    with pytest.raises(RoomError, match="not a learner name"):
        learners.check_name(name)


def _account(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, uid: int = 1234) -> Learner:
    who = Learner("ada", uid, uid, tmp_path)
    monkeypatch.setattr(learners, "lookup", lambda name: who if name == "ada" else None)
    return who


def test_no_subordinate_ids_says_which_range_to_add(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _account(monkeypatch, tmp_path)
    subuid = tmp_path / "subuid"
    subuid.write_text("bob:100000:65536\ncyd:165536:65536\n")
    monkeypatch.setattr(learners, "SUBUID", subuid)
    monkeypatch.setattr(learners, "SUBGID", subuid)
    with pytest.raises(RoomError, match="fewer than 65536 subordinate ids") as err:
        learners.existing_learner("ada")
    assert err.value.hint == (
        "Give ada a range: usermod --add-subuids 231072-296607 --add-subgids 231072-296607 ada"
    )


def test_a_learner_with_ranges_by_name_or_uid_is_ready(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    who = _account(monkeypatch, tmp_path)
    subuid, subgid = tmp_path / "subuid", tmp_path / "subgid"
    subuid.write_text("ada:100000:65536\n")
    subgid.write_text("1234:100000:65536\n")
    monkeypatch.setattr(learners, "SUBUID", subuid)
    monkeypatch.setattr(learners, "SUBGID", subgid)
    assert learners.existing_learner("ada") == who


def test_root_is_no_learner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _account(monkeypatch, tmp_path, uid=0)
    with pytest.raises(RoomError, match="ada is root"):
        learners.existing_learner("ada")


def test_only_create_learner_makes_a_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    who = _account(monkeypatch, tmp_path, uid=0)  # root: found, then refused by the checks
    made: list[str] = []
    monkeypatch.setattr(users, "add", lambda name: made.append(name))
    with pytest.raises(RoomError, match="There is no Unix user bob"):
        learners.existing_learner("bob")
    with pytest.raises(RoomError, match="ada is root"):
        learners.create_learner(who.name)
    assert made == []
    with pytest.raises(RoomError, match="There is no Unix user bob"):
        learners.create_learner("bob")  # the stand-in useradd here makes no user
    assert made == ["bob"]


def test_the_containers_limit_counts_containers_and_creates_under_way(tmp_path: Path) -> None:
    (tmp_path / "c1").mkdir()
    gate = Gate(tmp_path, limit=3)
    assert gate.request("POST", "/v1.41/containers/create?name=web") == (True, "")
    assert gate.request("POST", "/containers/create") == (True, "")  # no version in the path
    refused = gate.request("POST", "/v1.41/containers/create")  # 1 made and 2 under way
    assert refused == (False, refusal(3, 1))
    gate.response("POST", "/v1.41/containers/create?name=web")  # one answered: it failed
    assert gate.request("POST", "/v1.41/containers/create")[0]
    for allowed in (
        ("GET", "/v1.41/containers/json"),
        ("POST", "/v1.41/containers/web/start"),
        ("POST", "/v1.41/containers/created"),
    ):
        assert gate.request(*allowed) == (True, "")


def test_the_refusal_says_what_to_do() -> None:
    text = refusal(30, 30)
    assert "This room allows 30 containers per learner, and your engine has 30" in text
    assert "docker rm NAME" in text
    assert "docker container prune" in text
