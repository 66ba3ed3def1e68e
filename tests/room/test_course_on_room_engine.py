"""Every lesson of the course solved end to end on one learner's room engine (rootless,
as the learner, its ports on the learner's own address, pulling through the mirror), in
course order, as a learner goes through them in a workshop: one lesson's containers
are still there when the next begins."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from room.seats import Room, Seat, new_room, seats

from dockdojo.runner import DockdojoError, Lesson, course, load_lesson, solve_lesson
from dockdojo.runner.context import context_for
from dockdojo.runner.privileged import firewall
from dockdojo.runner.room.config import Limits


@pytest.fixture(scope="module")
def seat(mirror_port: int) -> Iterator[Seat]:
    room: Room
    # the whole course leaves about 35 containers (each lesson's, exercises included) when
    # nothing is deleted between lessons: more than a room's default 30, which refuses
    # the next one with a sentence saying to delete some; this room allows them all
    course_room = Limits(containers=80, memory_mb=4096, pids=4096)
    with new_room(mirror_port, course_room) as room, seats(room, 1) as (one,):
        yield one


@pytest.mark.parametrize("lesson", course())
def test_each_lesson_solves_on_a_room_engine_in_course_order(
    lesson: str, seat: Seat, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the notebook's folder, the learner's own: what the solve writes there (a page to
    # share, a folder a container writes into) must be the learner's to read and write,
    # as the learner's kernel makes it; this test solves as root, so it opens them up
    folder = Path(seat.who.home) / f"notebook-{lesson}"
    folder.mkdir()
    folder.chmod(0o777)
    monkeypatch.chdir(folder)
    old_umask = os.umask(0)
    with context_for(
        load_lesson(lesson),
        seat.who.name,
        seat.docker_host,
        host_ip=firewall.address(seat.who.uid),
    ) as learner:
        for name in _named(learner.lesson):  # no container of a name the lesson gives is
            with contextlib.suppress(DockdojoError):  # left from elsewhere before it starts
                learner.engine.remove_container(name)
        for shared in _shared_folders(learner.lesson):  # the learner's, as they make them
            path = folder / shared
            path.mkdir(parents=True, exist_ok=True)
            os.chown(path, seat.who.uid, -1)
        try:
            report = solve_lesson(learner.engine, learner.lesson)
        finally:
            os.umask(old_umask)
    failed = [
        (s.step, s.errors, [r.message for r in s.results if not r.passed])
        for s in report.steps
        if not s.passed
    ]
    assert report.passed, failed


def _shared_folders(lesson: Lesson) -> list[str]:
    """The folders beside the notebook that the lesson's runs bind-mount (``./out``)."""
    return [
        str(mount).split(":")[0]
        for step in lesson.steps
        for action in (step.action, *step.solve)
        if action is not None and action.kind == "run"
        for mount in action.args.get("mounts") or ()
        if str(mount).startswith("./")
    ]


def _named(lesson: Lesson) -> list[str]:
    """The container names the lesson's steps run (``db``, ``my_site``...)."""
    return [
        str(action.args["name"])
        for step in lesson.steps
        for action in (step.action, *step.solve)
        if action is not None and action.kind == "run" and action.args.get("name")
    ]
