"""The course at the top of each lesson: every lesson in order, with this learner's
progress in each read from the real engine."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator

import pytest

from dockdojo.runner import ContainerNotFound, Engine, course
from dockdojo.runner.cli import main
from dockdojo.widgets import LessonView

LEARNER = "course-test"


@pytest.fixture
def solved(docker_host: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """What is a container? solved for LEARNER (as run --solve does); its containers
    removed afterwards."""
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    monkeypatch.setenv("DOCKDOJO_WIDGETS_SYNC", "1")
    with Engine(docker_host, lesson="what-is-a-container", learner=LEARNER) as engine:
        assert main(["run", "what-is-a-container", "--solve", "--fresh", "--learner", LEARNER]) == 0
        try:
            yield engine
        finally:
            for container in engine.containers(labels={"dockdojo.learner": LEARNER}):
                with contextlib.suppress(ContainerNotFound):
                    engine.remove_container(container.id)


def test_each_lesson_shows_the_course_with_the_learners_progress(solved: Engine) -> None:
    assert course()[:2] == ("what-is-a-container", "what-is-an-image")
    with Engine(solved.host, lesson="what-is-an-image", learner=LEARNER) as engine:
        view = LessonView("what-is-an-image", engine=engine)
        panel = view.progress()
        shown = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", panel.course.html.value)).split())
    assert re.search(r"1\. What is a container\? ?: ✅ 6 of 6 steps", shown), shown
    assert re.search(r"2\. What is an image\? \(this lesson\): \d+ of 11 steps", shown), shown
    assert 'href="what-is-a-container.ipynb"' in panel.course.html.value
