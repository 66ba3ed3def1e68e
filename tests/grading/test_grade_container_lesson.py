"""Grading the course's first lesson, "What is a container?", in isolation: an honest
submission, written as a learner writes it in the answer cells (the docker CLI), scores
every point; an empty one scores none; another learner's values do not pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from grading.kit import PROJECT, GradingRoom, grade, submission

from dockdojo.runner import load_lesson
from dockdojo.runner.context import learner_tag
from dockdojo.runner.grading import GradeOptions

LESSON = "what-is-a-container"
FULL = 7
"""The exercises' points."""


def answers(learner: str) -> dict[str, str]:
    tag = learner_tag(LESSON, learner)
    return {
        "welcome-random-port": (
            f"!docker run -d --name hello-{tag} -p 80 docker/welcome-to-docker\n"
            f"!docker port hello-{tag}\n"
        ),
        "exited-keeps-logs": (
            f"!docker run --name echo-{tag} busybox echo hello {tag}\n"
            "!docker ps -a\n"
            f"!docker logs echo-{tag}\n"
        ),
    }


@pytest.fixture
def options(grading_room: GradingRoom, monkeypatch: pytest.MonkeyPatch) -> GradeOptions:
    monkeypatch.chdir(PROJECT)
    return GradeOptions(
        lesson=load_lesson(LESSON),
        room=grading_room.config,
        cell_timeout=30,
        submission_timeout=150,
    )


def test_honest_empty_and_borrowed_submissions(tmp_path: Path, options: GradeOptions) -> None:
    paths = [
        submission(tmp_path, "ada", answers("ada"), lesson=LESSON),
        submission(tmp_path, "eve", {}, lesson=LESSON),
        submission(tmp_path, "bob", answers("ada"), lesson=LESSON),  # ada's values
    ]
    got = grade(paths, options)
    assert (got["ada"].status, got["ada"].points, got["ada"].max_points) == ("graded", FULL, FULL)
    assert got["eve"].points == 0
    assert got["bob"].points == 0
    failed = [c for s in got["eve"].report.steps for c in s.results if not c.passed]
    assert {c.step for c in failed} == {"welcome-random-port", "exited-keeps-logs"}
    assert all(c.hint for c in failed)
