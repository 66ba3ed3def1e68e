"""Grading "Sharing local files with containers" in isolation: an honest submission, whose
answer cells make folders beside the notebook (the submission's own folder) and share
them with containers through relative bind mounts (the docker CLI), scores every point;
an empty one scores none; another learner's values do not pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from grading.kit import PROJECT, GradingRoom, grade, submission

from dockdojo.runner import load_lesson
from dockdojo.runner.context import learner_tag
from dockdojo.runner.grading import GradeOptions

LESSON = "sharing-local-files"
FULL = 9
"""The exercises' points."""


def answers(learner: str) -> dict[str, str]:
    tag = learner_tag(LESSON, learner)
    return {
        "tagged-page-read-only": (
            "import pathlib\n"
            f"pathlib.Path('site-{tag}').mkdir(exist_ok=True)\n"
            f"pathlib.Path('site-{tag}/index.html').write_text('<h1>Hello from {tag}</h1>')\n"
            f"!docker run -d --name page-{tag} -p 80 "
            f"-v ./site-{tag}:/usr/local/apache2/htdocs:ro httpd:2.4\n"
            f"!docker port page-{tag}\n"
        ),
        "container-writes-back": (
            f"!mkdir -p out-{tag}\n"
            f"!docker run --name writer-{tag} -v ./out-{tag}:/out busybox "
            f'sh -c "echo written by {tag} > /out/note.txt"\n'
            f"print(open('out-{tag}/note.txt').read())\n"
        ),
    }


@pytest.fixture
def options(grading_room: GradingRoom, monkeypatch: pytest.MonkeyPatch) -> GradeOptions:
    monkeypatch.chdir(PROJECT)
    return GradeOptions(
        lesson=load_lesson(LESSON),
        room=grading_room.config,
        cell_timeout=60,
        submission_timeout=240,
    )


def test_honest_empty_and_borrowed_submissions(tmp_path: Path, options: GradeOptions) -> None:
    paths = [
        submission(tmp_path, "ada", answers("ada"), lesson=LESSON),
        submission(tmp_path, "eve", {}, lesson=LESSON),
        submission(tmp_path, "bob", answers("ada"), lesson=LESSON),  # ada's values
    ]
    got = grade(paths, options)
    ada = got["ada"]
    failed = [(c.step, c.message) for s in ada.report.steps for c in s.results if not c.passed]
    assert (ada.status, ada.points, ada.max_points) == ("graded", FULL, FULL), failed
    assert got["eve"].points == 0
    assert got["bob"].points == 0
    failed_eve = [c for s in got["eve"].report.steps for c in s.results if not c.passed]
    assert {c.step for c in failed_eve} == {"tagged-page-read-only", "container-writes-back"}
    assert all(c.hint for c in failed_eve)
    # the grader read the shared file through the container, not the submission's folder
    seen = [c for s in ada.report.steps for c in s.results if c.kind == "bind_file"]
    assert len(seen) == 2
    assert all("from the host folder /" in c.message for c in seen)
