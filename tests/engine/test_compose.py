"""Compose on the real engine with the installed Compose (Debian's docker-compose): up
with a build, the check that reads Compose's labels, down, and what a failure says."""

from __future__ import annotations

import contextlib
import shutil
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from common_kit import until
from lesson_kit import check, drop_image, lesson, step

from dockdojo.runner import Engine
from dockdojo.runner.engine import Snapshot, compose_projects, find_compose
from dockdojo.runner.errors import ComposeError
from dockdojo.runner.kinds import ACTIONS, run_check

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "content/multi-container-applications/nginx-node-redis"
LESSON = "cmp-compose-lesson"
COMPOSE = """services:
  redis:
    image: redis
  web1:
    build: ./web
    hostname: web1
    ports:
      - '127.0.0.1::5000'
"""
"""The guide's Compose file, smaller: a random host port, so tests never collide."""


@pytest.fixture
def project(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A Compose project of the test's own in the lesson's files beside the 'notebook'
    (the test's folder); whatever it left is removed afterwards."""
    for base in ("node:21", "redis"):
        if engine.image(base) is None:
            engine.pull(base)
    name = f"cmp{uuid.uuid4().hex[:8]}"
    app = tmp_path / LESSON / "app"
    shutil.copytree(SAMPLE / "web", app / "web")
    (app / "compose.yaml").write_text(COMPOSE)
    monkeypatch.chdir(tmp_path)
    yield name
    for container in engine.containers(labels={"com.docker.compose.project": name}):
        with contextlib.suppress(Exception):
            engine.remove_container(container.id, force=True)
    for network in engine.network_manager().names():
        if network.startswith(name):
            engine.network_manager().remove(network)
    for image in (f"{name}_web1", f"{name}-web1"):
        drop_image(engine, image)


def _act(engine: Engine, kind: str, **args: Any) -> str:
    the_step = step(kind)
    return ACTIONS[kind].perform(engine, lesson(LESSON, the_step), the_step, args)


def _running(engine: Engine, **args: Any) -> tuple[bool, str]:
    spec = check("compose_running", **args)
    the_step = step("up", spec)
    result = run_check(engine, lesson(LESSON, the_step), the_step, spec)
    return result.passed, result.message


def web1_image(engine: Engine, project: str) -> str:
    """The image Compose built for web1: ``PROJECT_web1`` (v1) or ``PROJECT-web1`` (v2)."""
    return next(i for i in (f"{project}_web1", f"{project}-web1") if engine.image(i))


def _removed(engine: Engine, project: str) -> tuple[bool, str]:
    spec = check("compose_removed", project=project)
    the_step = step("down", spec)
    result = run_check(engine, lesson(LESSON, the_step), the_step, spec)
    return result.passed, result.message


def test_the_installed_compose_is_found() -> None:
    argv = find_compose()
    assert argv[-1] in ("compose", "docker-compose") or argv[-1].endswith("docker-compose")


def test_compose_up_runs_the_project_and_down_removes_it(engine: Engine, project: str) -> None:
    said = _act(engine, "compose-up", folder="app", project=project)
    assert said == f"Compose started the project {project}: 2 services (redis, web1)."

    # what Compose left: its labels, whichever Compose it was
    found = {p.name: p for p in compose_projects(Snapshot.take(engine).containers)}
    assert found[project].running() == {"redis", "web1"}
    assert found[project].folder.endswith(f"{LESSON}/app")
    for containers in found[project].services.values():  # dockdojo's labels, as on any
        assert all(c.labels["dockdojo.lesson"] == LESSON for c in containers)
        assert all(c.labels["dockdojo.step"] == "compose-up" for c in containers)
    assert not _removed(engine, project)[0]
    built = engine.api_client().inspect_image(web1_image(engine, project))
    assert built["Config"]["Labels"]["dockdojo.lesson"] == LESSON  # images Compose built too

    passed, message = _running(engine, services=["redis", "web1"], project=project)
    assert passed, message
    assert message.startswith(f"The Compose project {project} runs redis, web1 (")
    assert _running(engine, services=["redis", "web1"])[0]  # any project will do

    web1 = next(c for c in found[project].services["web1"] if c.running)
    port = web1.ports[0].host_port
    pages: list[str] = []

    def counted() -> bool:
        url = f"http://127.0.0.1:{port}/"
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as page:
            pages.append(page.read().decode())
        return bool(pages) and "Number of visits is" in pages[-1]

    until(counted, "the counter page through Compose", seconds=30)
    assert pages[-1].startswith("web1: Number of visits is: ")

    # a service that stopped is named, with its state
    engine.stop_container(web1.id, timeout=1)
    passed, message = _running(engine, services=["redis", "web1"], project=project)
    assert not passed
    assert f"The Compose project {project} does not run web1 (" in message
    assert "exited" in message
    passed, message = _removed(engine, project)
    assert not passed
    assert f"The Compose project {project} still has 2 containers: " in message

    said = _act(engine, "compose-down", folder="app", project=project)
    assert said.startswith(f"Compose stopped and removed the project {project}")
    assert not engine.containers(labels={"com.docker.compose.project": project})
    passed, message = _running(engine, services=["redis", "web1"], project=project)
    assert not passed
    assert message.startswith(f"No Compose project named {project} is up")
    assert "compose down removes them, or up was never run" in message
    assert "docker compose up -d --build" in message
    passed, message = _removed(engine, project)
    assert passed, message
    assert message == f"No container of the Compose project {project} remains."


def test_a_failing_compose_says_what_compose_said(engine: Engine, project: str) -> None:
    compose = Path(LESSON) / "app" / "compose.yaml"
    compose.write_text("services:\n  db:\n    image: cmp-no-such-image:1\n")
    with pytest.raises(ComposeError) as failed:
        _act(engine, "compose-up", folder="app", project=project)
    assert failed.value.what.startswith("compose up --detach --build failed in ")
    assert "cmp-no-such-image" in failed.value.what
    assert "fix the Compose file" in failed.value.hint


def test_a_folder_without_a_compose_file_says_so(engine: Engine, project: str) -> None:
    (Path(LESSON) / "app" / "compose.yaml").unlink()
    with pytest.raises(ComposeError, match=r"There is no Compose file in .*compose.yaml"):
        _act(engine, "compose-up", folder="app", project=project)


def test_without_any_compose_the_message_says_how_to_install_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockdojo.runner.engine import compose

    monkeypatch.setattr(compose, "_found", {})  # forget the Compose found before
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with neither docker nor docker-compose
    with pytest.raises(ComposeError) as failed:
        find_compose()
    assert failed.value.what == (
        "No Compose is installed here (neither docker compose nor docker-compose)."
    )
    assert "apt-get install docker-compose" in failed.value.hint
