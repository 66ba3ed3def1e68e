"""Every lesson in content/ works end to end: solved step by step on the engine, then
checked clean, the way `dockdojo run LESSON --solve` and `dockdojo check LESSON` do."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from dockdojo.runner import DockdojoError, Engine
from dockdojo.runner.authoring import lesson_sources
from dockdojo.runner.cli import main
from dockdojo.runner.context import learner_tag
from dockdojo.runner.engine import Ownership
from dockdojo.runner.environ import SHARED_ENGINE

ROOT = Path(__file__).resolve().parents[2]
LESSONS = [p.stem for p in lesson_sources(ROOT / "content")]


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_solves_end_to_end_then_checks_clean(
    lesson: str,
    docker_host: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    monkeypatch.chdir(tmp_path)  # a notebook's folder: files a lesson writes beside it go here
    with Engine(docker_host) as engine:
        before = {image.id for image in engine.images()}
    try:
        assert main(["run", lesson, "--solve", "--fresh"]) == 0, capsys.readouterr()
        assert "every check passed" in capsys.readouterr().out
        assert main(["check", lesson, "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["passed"]
        assert report["points"] == report["max_points"] > 0
        assert report["steps_passed"] == report["steps_total"] == len(report["steps"])
    finally:
        # What the lesson made goes, images it built too: a lesson that builds an image
        # under an official name (the guide's docker build -t nginx) must not leave it
        # standing in for the pulled one in the tests that follow.
        with Engine(docker_host) as engine:
            engine.remove_labelled(Ownership(lesson, "any").lesson_filter())
            # and the images its builds pulled (nginx:1.25, node:21), which no other
            # test expects to find
            for image in engine.images():
                if image.id not in before:
                    with contextlib.suppress(DockdojoError):
                        engine.remove_image(image.id, force=True)


def test_check_names_a_container_deleted_behind_the_lessons_back(
    docker_host: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    monkeypatch.chdir(ROOT)
    assert main(["run", "what-is-an-image", "--solve", "--fresh"]) == 0
    capsys.readouterr()
    main(["run", "what-is-an-image"])  # the plan only: nothing changes
    capsys.readouterr()
    tag = learner_tag("what-is-an-image", Engine().learner)
    with Engine(docker_host) as engine:
        engine.remove_container(f"cache-{tag}", force=True)  # deleted behind the lesson's back
    assert main(["check", "what-is-an-image", "--step", "redis-cache"]) == 1
    out = capsys.readouterr().out
    assert f"There is no container named cache-{tag}" in out
    assert f"docker run -d --name cache-{tag} redis" in out  # the hint, with this learner's tag


def test_each_learner_has_their_own_exercise_values(
    docker_host: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    monkeypatch.chdir(ROOT)
    assert learner_tag("what-is-an-image", "ada") != learner_tag("what-is-an-image", "bob")
    assert main(["run", "what-is-an-image", "--solve", "--learner", "ada"]) == 0
    capsys.readouterr()
    assert main(["check", "what-is-an-image", "--learner", "ada", "--step", "redis-cache"]) == 0
    assert main(["check", "what-is-an-image", "--learner", "bob", "--step", "redis-cache"]) == 1
    bob = learner_tag("what-is-an-image", "bob")
    assert f"There is no container named cache-{bob}" in capsys.readouterr().out


def test_on_a_shared_engine_one_learners_fresh_solve_leaves_anothers_containers(
    docker_host: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lesson = "what-is-an-image"
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    monkeypatch.setenv(SHARED_ENGINE, "1")
    monkeypatch.chdir(ROOT)
    ada = Ownership(lesson, "ada").labels()
    with Engine(docker_host, shared=False) as everything:
        try:
            assert main(["run", lesson, "--solve", "--learner", "ada"]) == 0, capsys.readouterr()
            before = sorted(c.name for c in everything.containers(labels=ada))
            assert f"cache-{learner_tag(lesson, 'ada')}" in before
            assert main(["run", lesson, "--solve", "--fresh", "--learner", "bob"]) == 0, (
                capsys.readouterr()
            )
            after = sorted(c.name for c in everything.containers(labels=ada))
            assert after == before, "bob's run removed ada's containers"
            capsys.readouterr()
            assert main(["check", lesson, "--learner", "ada", "--step", "redis-cache"]) == 0
        finally:
            everything.remove_labelled(Ownership(lesson, "any").lesson_filter())
