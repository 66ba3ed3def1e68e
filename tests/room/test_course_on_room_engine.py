"""Every lesson of the course solved end to end on one learner's room engine (rootless,
as the learner, its ports on the learner's own address, pulling through the mirror), in
course order, as a learner goes through them in a workshop: one lesson's containers
are still there when the next begins."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from room.seats import Room, Seat, new_room, seats

from dockdojo.runner import course, load_lesson, solve_lesson
from dockdojo.runner.context import context_for
from dockdojo.runner.privileged import firewall


@pytest.fixture(scope="module")
def seat(mirror_port: int) -> Iterator[Seat]:
    room: Room
    with new_room(mirror_port) as room, seats(room, 1) as (one,):
        yield one


@pytest.mark.parametrize("lesson", course())
def test_each_lesson_solves_on_a_room_engine_in_course_order(
    lesson: str, seat: Seat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Path(seat.who.home)
    monkeypatch.chdir(home if home.is_dir() else tmp_path)  # the notebook's folder
    with context_for(
        load_lesson(lesson),
        seat.who.name,
        seat.docker_host,
        host_ip=firewall.address(seat.who.uid),
    ) as learner:
        report = solve_lesson(learner.engine, learner.lesson)
    failed = [
        (s.step, s.errors, [r.message for r in s.results if not r.passed])
        for s in report.steps
        if not s.passed
    ]
    assert report.passed, failed
