"""Grading the "Running containers" lessons in isolation, each as a learner answers in
the answer cells (the docker CLI): an honest submission scores every point, an empty one
none, and another learner's values do not pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from grading.kit import PROJECT, GradingRoom, grade, submission

from dockdojo.runner import load_lesson
from dockdojo.runner.context import learner_tag
from dockdojo.runner.grading import GradeOptions

Answers = Callable[[str], dict[str, str]]


def publishing_ports(tag: str) -> dict[str, str]:
    return {
        "private-cache": (
            # in a room, ports listen on the learner's own loopback address: the engine
            # refuses -p 127.0.0.1::6379 and says to publish without an address
            f"!docker run -d --name cache-{tag} -p 6379 redis\n!docker port cache-{tag}\n"
        ),
        "two-sites": (
            f"!docker run -d --name site-a-{tag} -p 80 nginx\n"
            f"!docker run -d --name site-b-{tag} -P nginx\n"
        ),
    }


def overriding_defaults(tag: str) -> dict[str, str]:
    return {
        "database-of-your-own": (
            f"%%bash\nprintf 'POSTGRES_PASSWORD=secret\\nPOSTGRES_DB=shop_{tag}\\n' > shop.env\n"
            f"docker run -d --name shop-{tag} --env-file shop.env postgres\n"
            "sleep 8\n"
        ),
        "small-cache": (
            f"!docker run -d --name small-{tag} --memory 64m --cpus 0.25 redis "
            "redis-server --maxmemory 32mb\n"
        ),
    }


LESSONS: dict[str, tuple[Answers, int]] = {
    "publishing-ports": (publishing_ports, 7),
    "overriding-container-defaults": (overriding_defaults, 6),
}


@pytest.mark.parametrize("lesson", sorted(LESSONS))
def test_honest_empty_and_borrowed_submissions(
    lesson: str, tmp_path: Path, grading_room: GradingRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PROJECT)
    options = GradeOptions(
        lesson=load_lesson(lesson),
        room=grading_room.config,
        cell_timeout=30,
        submission_timeout=150,
    )
    answers, full = LESSONS[lesson]
    ada = answers(learner_tag(lesson, "ada"))
    paths = [
        submission(tmp_path, "ada", ada, lesson=lesson),
        submission(tmp_path, "eve", {}, lesson=lesson),
        submission(tmp_path, "bob", ada, lesson=lesson),  # ada's values
    ]
    got = grade(paths, options)
    assert (got["ada"].status, got["ada"].points, got["ada"].max_points) == (
        "graded",
        full,
        full,
    ), [(r.step, r.message) for s in got["ada"].report.steps for r in s.results]
    assert got["eve"].points == 0
    assert got["bob"].points == 0
    failed = [c for s in got["eve"].report.steps for c in s.results if not c.passed]
    assert {c.step for c in failed} == set(ada)
    assert all(c.hint for c in failed)
