"""Grading "Persisting container data" in isolation: an honest submission, written as a
learner writes it in the answer cells (the docker CLI: a volume shared by two
containers, a database kept across containers), scores every point; an empty one
scores none; another learner's values do not pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from grading.kit import PROJECT, GradingRoom, grade, submission

from dockdojo.runner import load_lesson
from dockdojo.runner.context import learner_tag
from dockdojo.runner.grading import GradeOptions

LESSON = "persisting-container-data"
FULL = 8
"""The exercises' points."""


def answers(learner: str) -> dict[str, str]:
    tag = learner_tag(LESSON, learner)
    ready = "until docker exec {0} pg_isready -qh 127.0.0.1; do sleep 1; done"
    return {
        "share-a-volume": (
            f"!docker run --name writer-{tag} -v share-{tag}:/data busybox "
            f'sh -c "echo hello {tag} > /data/hello.txt"\n'
            f"!docker run --name reader-{tag} -v share-{tag}:/data:ro busybox "
            "cat /data/hello.txt\n"
        ),
        "outlive-the-container": (
            f"!docker run -d --name pg-{tag} -e POSTGRES_PASSWORD=secret "
            f"-v pgdata-{tag}:/var/lib/postgresql postgres:18\n"
            f"!{ready.format(f'pg-{tag}')}\n"
            f'!docker exec pg-{tag} psql -U postgres -c "CREATE TABLE notes (note TEXT)" '
            f"-c \"INSERT INTO notes VALUES ('kept {tag}')\"\n"
            f"!docker rm -f pg-{tag}\n"
            f"!docker run -d --name pg2-{tag} -v pgdata-{tag}:/var/lib/postgresql postgres:18\n"
            f"!{ready.format(f'pg2-{tag}')}\n"
        ),
    }


@pytest.fixture
def options(grading_room: GradingRoom, monkeypatch: pytest.MonkeyPatch) -> GradeOptions:
    monkeypatch.chdir(PROJECT)
    return GradeOptions(
        lesson=load_lesson(LESSON),
        room=grading_room.config,
        cell_timeout=90,
        submission_timeout=300,
    )


def test_honest_empty_and_borrowed_submissions(tmp_path: Path, options: GradeOptions) -> None:
    paths = [
        submission(tmp_path, "ada", answers("ada"), lesson=LESSON),
        submission(tmp_path, "eve", {}, lesson=LESSON),
        submission(tmp_path, "bob", answers("ada"), lesson=LESSON),  # ada's values
    ]
    got = grade(paths, options)
    missed = [c.message for s in got["ada"].report.steps for c in s.results if not c.passed]
    assert not missed, missed
    assert (got["ada"].status, got["ada"].points, got["ada"].max_points) == ("graded", FULL, FULL)
    assert got["eve"].points == 0
    assert got["bob"].points == 0
    failed = [c for s in got["eve"].report.steps for c in s.results if not c.passed]
    assert {c.step for c in failed} == {"share-a-volume", "outlive-the-container"}
    assert all(c.hint for c in failed)
