"""Grading every lesson of the course in isolation, each as a learner answers in the
answer cells (the docker CLI, Compose, Python): an honest submission scores every point,
an empty one none, and another learner's values (ada's, handed in by bob) do not pass.

"What is an image?" is graded in :mod:`grading.test_grade`, with more kinds of
submission; a lesson of the course graded in neither fails
:func:`test_every_lesson_of_the_course_is_graded`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from grading import kit
from grading.kit import PROJECT, GradingRoom, grade, submission

from dockdojo.content import COURSE
from dockdojo.runner import load_lesson
from dockdojo.runner.context import learner_tag
from dockdojo.runner.grading import GradeOptions, SubmissionResult


@dataclass(frozen=True)
class Graded:
    answers: Callable[[str], dict[str, str]]
    """The learner's tag -> each exercise's answer cell."""
    full: int
    """The exercises' points."""
    cell_timeout: int = 30
    submission_timeout: int = 150
    also: Callable[[SubmissionResult], None] | None = None
    """More to assert of the honest submission's result."""


def what_is_a_container(tag: str) -> dict[str, str]:
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


def persisting_data(tag: str) -> dict[str, str]:
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


def sharing_files(tag: str) -> dict[str, str]:
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


def shared_through_the_container(result: SubmissionResult) -> None:
    """The grader read the shared file through the container, not the submission's
    folder."""
    seen = [c for s in result.report.steps for c in s.results if c.kind == "bind_file"]
    assert len(seen) == 2
    assert all("from the host folder /" in c.message for c in seen)


def multi_container(tag: str) -> dict[str, str]:
    # the sample app is beside the notebook, as in a learner's workspace: the grader
    # puts the lesson's own files there
    app = "multi-container-applications/nginx-node-redis"
    return {
        "web-of-your-own": f"!docker build -t web-{tag} {app}/web\n!docker history web-{tag}\n",
        "project-of-your-own": (
            f"!cd {app} && docker-compose -p counter-{tag} up -d --build\n"
            f"!cd {app} && docker-compose -p counter-{tag} ps\n"
        ),
    }


LESSONS: dict[str, Graded] = {
    "what-is-a-container": Graded(what_is_a_container, 7),
    "publishing-ports": Graded(publishing_ports, 7),
    "overriding-container-defaults": Graded(overriding_defaults, 6),
    "persisting-container-data": Graded(persisting_data, 8, 90, 300),
    "sharing-local-files": Graded(sharing_files, 9, 60, 240, shared_through_the_container),
    "multi-container-applications": Graded(multi_container, 4, 300, 600),
}


def test_every_lesson_of_the_course_is_graded() -> None:
    assert {kit.LESSON, *LESSONS} == set(COURSE)


@pytest.mark.parametrize("lesson", list(LESSONS))
def test_honest_empty_and_borrowed_submissions(
    lesson: str, tmp_path: Path, grading_room: GradingRoom, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PROJECT)
    graded = LESSONS[lesson]
    options = GradeOptions(
        lesson=load_lesson(lesson),
        room=grading_room.config,
        cell_timeout=graded.cell_timeout,
        submission_timeout=graded.submission_timeout,
    )
    ada = graded.answers(learner_tag(lesson, "ada"))
    paths = [
        submission(tmp_path, "ada", ada, lesson=lesson),
        submission(tmp_path, "eve", {}, lesson=lesson),
        submission(tmp_path, "bob", ada, lesson=lesson),  # ada's values
    ]
    got = grade(paths, options)
    honest = got["ada"]
    missed = [(c.step, c.message) for s in honest.report.steps for c in s.results if not c.passed]
    assert (honest.status, honest.points, honest.max_points) == (
        "graded",
        graded.full,
        graded.full,
    ), missed
    assert got["eve"].points == 0
    assert got["bob"].points == 0
    failed = [c for s in got["eve"].report.steps for c in s.results if not c.passed]
    assert {c.step for c in failed} == set(ada)
    assert all(c.hint for c in failed)
    if graded.also is not None:
        graded.also(honest)
