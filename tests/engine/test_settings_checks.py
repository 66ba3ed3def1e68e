"""The checks of what a container was made with (port_bound, container_env,
container_limits, container_command, mounted) on the real engine, each passing for work
done with the docker SDK as a learner's CLI would, and failing with the flag that fixes it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lesson_kit import check, lesson, step

from dockdojo.runner import Engine
from dockdojo.runner.kinds import CheckResult, run_check

Namer = Callable[[str], str]


@pytest.fixture(scope="module", autouse=True)
def _busybox(images: Engine) -> None:
    images.pull("busybox")


def _check(engine: Engine, kind: str, **args: Any) -> CheckResult:
    spec = check(kind, **args)
    one = step("s1", spec)
    return run_check(engine, lesson(f"settings-{uuid.uuid4().hex[:6]}", one), one, spec)


def _docker_run(engine: Engine, image: str, name: str, cleanup: list[str], **options: Any) -> str:
    """What ``docker run -d`` does, through the SDK (no dockdojo labels)."""
    api = engine.api_client()
    host = options.pop("host_config", {})
    created = api.create_container(
        image, name=name, host_config=api.create_host_config(**host), **options
    )
    cleanup.append(created["Id"])
    api.start(created["Id"])
    return name


def test_port_bound_tells_loopback_from_every_address(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    local = _docker_run(
        images,
        "nginx",
        name("local"),
        cleanup,
        ports=[80],
        host_config={"port_bindings": {80: ("127.0.0.1", None)}},
    )
    every = _docker_run(
        images,
        "nginx",
        name("every"),
        cleanup,
        ports=[80],
        host_config={"port_bindings": {80: ("0.0.0.0", None)}},
    )
    assert _check(images, "port_bound", name=local, address="127.0.0.1").passed
    assert _check(images, "port_bound", name=local, address="loopback").passed
    assert not _check(images, "port_bound", name=every, address="loopback").passed
    wrong = _check(images, "port_bound", name=every, address="127.0.0.1")
    assert not wrong.passed
    assert "0.0.0.0" in wrong.message
    assert "-p 127.0.0.1:" in wrong.message
    port = images.settings(local).bound[0][2]
    assert _check(images, "port_bound", name=local, address="127.0.0.1", host_port=port).passed
    assert not _check(
        images, "port_bound", name=local, address="127.0.0.1", host_port=port + 1
    ).passed


def test_env_limits_and_command_pass_as_given_and_fail_with_the_flag(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    db = _docker_run(
        images,
        "busybox",
        name("db"),
        cleanup,
        command=["sleep", "60"],
        environment=["POSTGRES_PASSWORD=secret"],
        host_config={"mem_limit": 512 * 1024 * 1024, "nano_cpus": 500_000_000},
    )
    plain = _docker_run(images, "busybox", name("plain"), cleanup, command=["sleep", "60"])
    assert _check(images, "container_env", name=db, key="POSTGRES_PASSWORD").passed
    assert _check(images, "container_env", name=db, key="POSTGRES_PASSWORD", value="secret").passed
    wrong = _check(images, "container_env", name=db, key="POSTGRES_PASSWORD", value="other")
    assert not wrong.passed
    missing = _check(images, "container_env", name=plain, key="POSTGRES_PASSWORD")
    assert not missing.passed
    assert "-e POSTGRES_PASSWORD=" in missing.message
    assert _check(images, "container_limits", name=db, memory="512m", cpus=0.5).passed
    unlimited = _check(images, "container_limits", name=plain, memory="512m", cpus=0.5)
    assert not unlimited.passed
    assert "--memory" in unlimited.message
    assert "--cpus" in unlimited.message
    assert _check(images, "container_command", name=db, command=["sleep", "60"]).passed
    assert not _check(images, "container_command", name=db, command=["sleep", "6"]).passed


def test_mounted_tells_volumes_binds_and_read_only(
    images: Engine, cleanup: list[str], name: Namer, tmp_path: Path
) -> None:
    volume = name("pgdata")
    db = _docker_run(
        images,
        "busybox",
        name("db"),
        cleanup,
        command=["sleep", "60"],
        host_config={"binds": [f"{volume}:/var/lib/postgresql", f"{tmp_path}:/site:ro"]},
    )
    assert _check(images, "mounted", name=db, path="/var/lib/postgresql", volume=volume).passed
    other = _check(images, "mounted", name=db, path="/var/lib/postgresql", volume="nope")
    assert not other.passed
    assert f"volume {volume}" in other.message
    assert _check(images, "mounted", name=db, path="/site/", bind=True, read_only=True).passed
    rw = _check(images, "mounted", name=db, path="/site", bind=True, read_only=False)
    assert not rw.passed
    assert "drop :ro" in rw.message
    absent = _check(images, "mounted", name=db, path="/data", volume="x")
    assert not absent.passed
    assert "-v x:/data" in absent.message
    images.remove_container(db)
    images.api_client().remove_volume(volume)


def test_a_check_of_settings_with_no_container_says_so(images: Engine, name: Namer) -> None:
    result = _check(images, "container_env", name=name("ghost"), key="A")
    assert not result.passed
    assert "There is no container named" in result.message
