"""Failure paths that need no engine: nothing answers, or the input is bad."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dockdojo.runner import DockdojoError, Engine, EngineUnavailable, InvalidReference
from dockdojo.runner.engine import describe_host, port_bindings


def test_no_engine_is_reported_quickly_with_where_and_what_to_do(tmp_path: Path) -> None:
    engine = Engine(f"unix://{tmp_path}/nothing.sock")
    started = time.monotonic()
    with pytest.raises(EngineUnavailable) as err:
        engine.ping()
    assert time.monotonic() - started < 5
    assert f"No Docker Engine answered at unix://{tmp_path}/nothing.sock" in err.value.what
    assert "Start Docker Desktop" in err.value.hint
    assert "dockdojo sandbox start" in err.value.hint


def test_every_operation_reports_a_missing_engine_the_same_way(tmp_path: Path) -> None:
    engine = Engine(f"unix://{tmp_path}/nothing.sock")
    for call in (
        engine.images,
        lambda: engine.pull("nginx"),
        lambda: engine.containers(),
        lambda: engine.exec("web", ["true"]),
        lambda: engine.remove_image("nginx"),
    ):
        with pytest.raises(EngineUnavailable):
            call()


def test_bad_reference_is_rejected_before_any_engine_is_contacted(tmp_path: Path) -> None:
    engine = Engine(f"unix://{tmp_path}/nothing.sock")
    with pytest.raises(InvalidReference):
        engine.pull("UPPER:case")


def test_host_comes_from_docker_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///somewhere/docker.sock")
    assert describe_host() == "unix:///somewhere/docker.sock"
    assert describe_host("tcp://10.0.0.1:2375") == "tcp://10.0.0.1:2375"


def test_host_falls_back_to_the_cli_context(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import hashlib
    import json

    meta = tmp_path / "contexts/meta" / hashlib.sha256(b"desktop").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps(
            {
                "Name": "desktop",
                "Metadata": {},
                "Endpoints": {
                    "docker": {"Host": "unix:///desktop/docker.sock", "SkipTLSVerify": False}
                },
            }
        )
    )
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "desktop"}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert describe_host() == "unix:///desktop/docker.sock"


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ({80: 0}, {"80/tcp": None}),
        ({"80": ""}, {"80/tcp": None}),
        ({"80/tcp": None}, {"80/tcp": None}),
        ({"80": "8088", "53/udp": 5353}, {"80/tcp": 8088, "53/udp": 5353}),
    ],
)
def test_host_port_zero_or_empty_means_random(
    ports: dict[str | int, int | str | None], expected: dict[str, int | None]
) -> None:
    assert port_bindings(ports) == expected


@pytest.mark.parametrize(
    ("ports", "message"),
    [
        ({"http": 0}, "is not a container port"),
        ({80: "eighty"}, "is not a number"),
        ({80: 70000}, "out of range"),
    ],
)
def test_bad_port_settings_say_what_is_wrong(
    ports: dict[str | int, int | str | None], message: str
) -> None:
    with pytest.raises(DockdojoError, match=message):
        port_bindings(ports)


def test_commands_must_be_argument_lists(tmp_path: Path) -> None:
    engine = Engine(f"unix://{tmp_path}/nothing.sock")
    with pytest.raises(DockdojoError, match="non-empty list of strings"):
        engine.exec("web", "redis-cli GET test")  # a str, which mypy takes for a Sequence[str]
