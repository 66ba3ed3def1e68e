"""The room mirror's errors, settings and lesson lists, with no registry running."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockdojo.runner.cli import main
from dockdojo.runner.lessons import load_lesson
from dockdojo.runner.mirror import (
    HeldImage,
    lesson_coverage,
    lesson_images,
    registry_config,
)


@pytest.fixture
def room(tmp_path: Path) -> list[str]:
    """``dockdojo room --config ROOM.TOML mirror`` for a room in tmp_path on a free port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "room.toml"
    config.write_text(f'state = "{tmp_path / "state"}"\nmirror_port = {port}\n')
    return ["room", "--config", str(config), "mirror"]


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def test_the_seed_lesson_declares_four_images() -> None:
    names = [r.familiar for r in lesson_images(load_lesson("what-is-an-image"))]
    assert names == ["nginx:latest", "redis:latest", "mongo:latest", "busybox:latest"]


def test_lesson_coverage_says_what_is_present_and_what_is_missing() -> None:
    held = [HeldImage("library/nginx", "latest", "sha256:" + "a" * 64, "x", 10)]
    (coverage,) = lesson_coverage([load_lesson("what-is-an-image")], held)
    assert not coverage.ready
    assert coverage.images[0].digest == "sha256:" + "a" * 64
    assert coverage.missing == ("redis:latest", "mongo:latest", "busybox:latest")


def test_the_mirror_is_read_only_and_has_no_blob_descriptor_cache(tmp_path: Path) -> None:
    served = registry_config(tmp_path / "s", "127.0.0.1:5100", readonly=True)
    assert "    readonly:\n      enabled: true\n" in served
    assert '  addr: "127.0.0.1:5100"\n' in served
    assert "cache" not in served
    assert "proxy" not in served
    private = registry_config(tmp_path / "s", tmp_path / "r.sock", readonly=False)
    assert "  net: unix\n" in private
    assert f'  addr: "{tmp_path / "r.sock"}"\n' in private
    assert "      enabled: false\n" in private.split("readonly:")[1]
    proxy = registry_config(tmp_path, "127.0.0.1:1", readonly=True, pull_through="https://x.io")
    assert proxy.endswith('proxy:\n  remoteurl: "https://x.io"\n')


@pytest.mark.parametrize("command", [["start"], ["stop"], ["load", "room.tar"]])
def test_only_root_runs_or_loads_the_mirror(
    room: list[str],
    command: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main([*room, *command]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Only root can ")
    assert "hint: Run it as root" in err


def test_a_missing_registry_names_its_package(
    room: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main([*room, "start"]) == 1
    err = capsys.readouterr().err
    assert "Distribution registry (docker-registry)" in err
    assert "apt-get install -y docker-registry" in err


def test_a_taken_port_is_named(
    tmp_path: Path,
    taken_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("PATH", str(tmp_path))
    fake = tmp_path / "docker-registry"  # found, never run: the port is checked first
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    config = tmp_path / "room.toml"
    config.write_text(f'state = "{tmp_path / "state"}"\nmirror_port = {taken_port}\n')
    assert main(["room", "--config", str(config), "mirror", "start"]) == 1
    err = capsys.readouterr().err
    assert f"Port {taken_port} on 127.0.0.1 is taken" in err
    assert "mirror_port" in err
    assert not (tmp_path / "state" / "mirror" / "registry.pid").exists()


def test_status_of_a_mirror_never_started(
    room: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*room, "status"]) == 3
    out = capsys.readouterr().out
    assert out.startswith("room mirror: stopped\n")
    assert "lesson what-is-an-image: missing nginx:latest, redis:latest" in out
    assert main([*room, "status", "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "dockdojo.room-mirror/v1"
    assert (data["running"], data["read_only"], data["images"]) == (False, True, [])
    lessons = {lesson["lesson"]: lesson for lesson in data["lessons"]}
    assert [i["present"] for i in lessons["what-is-an-image"]["images"]] == [False] * 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "There is nothing to pack."),
        (["ghcr.io/someone/app"], "serves only Docker Hub images, and ghcr.io/someone/app:latest"),
        (["nginx", "--from", "127.0.0.1:9"], "the registry at 127.0.0.1:9 does not answer"),
        (["nginx", "--from", "ftp://x"], "is not a registry address"),
    ],
)
def test_pack_says_what_it_cannot_do(
    room: list[str],
    tmp_path: Path,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([*room, "pack", *args, "-o", str(tmp_path / "out.tar")]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.tar").exists()


def test_load_of_a_missing_archive(
    room: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert main([*room, "load", str(tmp_path / "nowhere.tar")]) == 1
    assert f"error: There is no archive {tmp_path / 'nowhere.tar'}." in capsys.readouterr().err
