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

from dockdojo.runner import DockdojoError, Engine, Lesson, course, load_lesson, solve_lesson
from dockdojo.runner.context import context_for
from dockdojo.runner.privileged import firewall
from dockdojo.runner.privileged.cgroups import GROUP, Cgroup
from dockdojo.runner.room.config import Limits


@pytest.fixture(scope="module")
def seat(mirror_port: int) -> Iterator[Seat]:
    room: Room
    # a room's default limits: the whole course, nothing deleted between lessons
    with new_room(mirror_port, Limits()) as room, seats(room, 1) as (one,):
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


def test_the_whole_course_fits_a_rooms_default_limits(seat: Seat) -> None:
    """After every lesson, nothing deleted between them (each lesson's containers,
    exercises included, some still running): the containers, the memory the engine and
    its containers hold, and their processes, against the room's defaults."""
    defaults = Limits()
    with Engine(seat.docker_host) as engine:
        containers = len(engine.containers())
    memory_mb, pids = _usage(Cgroup(seat.who.name))
    print(
        f"after the course: {containers} containers (limit {defaults.containers}), "
        f"{memory_mb:.0f} MB resident (limit {defaults.memory_mb}), "
        f"{pids} processes (limit {defaults.pids})"
    )
    assert containers > 20  # the course really ran here
    assert containers <= defaults.containers * 0.75
    assert memory_mb <= defaults.memory_mb * 0.75
    assert pids <= defaults.pids * 0.75


def _usage(group: Cgroup) -> tuple[float, int]:
    """Resident memory (MB, page cache left out: the kernel reclaims it before it
    refuses) and processes (threads counted) of an engine's cgroup, v1 or v2."""
    memory = group.root / ("" if group.v2 else "memory") / GROUP / group.name
    pids = group.root / ("" if group.v2 else "pids") / GROUP / group.name
    stat = dict(line.split() for line in (memory / "memory.stat").read_text().splitlines())
    resident = int(stat["anon"]) if group.v2 else int(stat["total_rss"])
    return resident / 2**20, int((pids / "pids.current").read_text())


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
