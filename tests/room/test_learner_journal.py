"""A learner's past on a room engine: recorded by root from the engine's start, kept
after dockerd has forgotten it, and out of the learner's reach."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from room.seats import new_room, seats

from dockdojo.runner import Engine
from dockdojo.runner.engine.journal import Journal
from dockdojo.runner.hub.instructor import room_lessons
from dockdojo.runner.hub.progress import ProgressStore
from dockdojo.runner.hub.watch import CheckRequest, Watch

pytestmark = [pytest.mark.engine, pytest.mark.timeout(600)]
LESSON = "what-is-an-image"
EXECS = 1000


def _as(user: str, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "sh", "-c", command],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )


def _checked(watch: Watch, name: str, checks: int) -> dict[str, dict[str, str]]:
    watch.request(CheckRequest(name, LESSON, frozenset({"remove-nginx"})))
    deadline = time.monotonic() + 120
    while not (watch.checks_run >= checks and watch.idle()):
        assert time.monotonic() < deadline, "the view never checked the learner"
        time.sleep(0.1)
    row = {r["name"]: r for r in watch.grid(LESSON)["learners"]}[name]
    return dict(row["steps"])


def test_the_past_outlives_a_thousand_execs_and_a_restart_of_the_view(
    mirror_port: int, tmp_path: Path
) -> None:
    with new_room(mirror_port) as room, seats(room, 1) as (seat,):
        name = seat.who.name
        started = time.monotonic()
        with Engine(seat.docker_host, lesson=LESSON, learner=name) as engine:
            engine.pull("nginx")
            engine.remove_image("nginx")
            engine.pull("redis")
            engine.run("redis", name="busy")
            for _ in range(EXECS):
                engine.exec("busy", ["redis-cli", "PING"])
            remembered = list(
                engine.api_client().events(since=0, until=f"{time.time():.9f}", decode=True)
            )
            print(f"\n{EXECS} execs and the pulls took {time.monotonic() - started:.1f} s")
        # dockerd's own log has forgotten the pull of nginx ...
        assert not any("nginx" in str(e.get("Actor")) for e in remembered)
        # ... and the journal kept it, with no execs in it
        journal = Journal(seat.engine.journal)
        entries = journal.entries()
        assert any(e.action == "pull" and e.name.startswith("nginx") for e in entries)
        assert not any(e.action.startswith("exec") for e in entries)
        print(f"journal: {len(entries)} entries, {seat.engine.journal.stat().st_size} bytes")

        url = f"sqlite:///{tmp_path / 'progress.sqlite'}"
        # first as the learner's own notebook finds the journal (the engine's label) ...
        first = Watch(room_lessons(), ProgressStore(url), lambda _n: seat.docker_host, workers=1)
        try:
            steps = _checked(first, name, 1)
        finally:
            first.stop()
            first.store.close()
        assert steps["remove-nginx"]["status"] == "done", steps["remove-nginx"]
        assert steps["pull-images"]["status"] != "done"  # mongo was never pulled
        # ... then as the instructor's view does: the room names each learner's journal
        second = Watch(
            room_lessons(),
            ProgressStore(url),
            lambda _n: seat.docker_host,
            workers=1,
            journal_of=lambda _n: seat.engine.journal,
        )
        try:
            steps = _checked(second, name, 1)
        finally:
            second.stop()
            second.store.close()
        assert steps["remove-nginx"]["status"] == "done", steps["remove-nginx"]

        # the learner can read their journal, and neither add to it nor replace it
        path = seat.engine.journal
        assert path.stat().st_uid == 0
        assert path.parent.stat().st_uid == 0
        assert _as(name, f"head -c 1 {path}").returncode == 0
        before = path.read_bytes()
        for attack in (
            f'echo \'{{"at": 1, "kind": "image", "action": "pull", "name": "mongo"}}\' >> {path}',
            f"truncate -s 0 {path}",
            f"rm -f {path}",
            f"mv {path} {path}.old",
            f"ln -sf /tmp/forged {path}",
            f"chmod 666 {path}",
        ):
            done = _as(name, attack)
            assert done.returncode != 0, (attack, done.stdout, done.stderr)
        assert path.read_bytes()[: len(before)] == before
