"""Learner engines side by side for 1, 2, 4 and 8 learners, in one run.

For each room size, that many throwaway learners (Unix users ``dd-<hex>``) get their
engines with ``dockdojo room engine start`` (one command each, all at once) and then do
the seed lesson's first step through their own engine, pulling from the mirror (the test
sandbox's registry, as in the room tests). Printed per room size, as the median and the
slowest learner:

- ``start→API``: from ``dockdojo room engine start`` until it returns (the API answers);
- ``→nginx``: until ``nginx`` is pulled (what the lesson's first pull does first);
- ``→step 1``: until the first step (nginx, redis, mongo pulled) passes its check;
- ``engine RSS``: resident memory of one learner's engine (rootlesskit, slirp4netns,
  dockerd, containerd), and ``limit RSS``: its containers limit (root's process);
- ``stop``: ``dockdojo room engine stop`` of all of them at once.

Run by ``make bench`` (as root, after the test world is up: DOCKDOJO_TEST_REGISTRY).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from room.seats import Room, add_user, new_name, new_room, remove_user

from dockdojo.runner import Engine, load_lesson
from dockdojo.runner.kinds import check_lesson
from dockdojo.runner.room.engines import LearnerEngine
from dockdojo.runner.room.learners import Learner

SIZES = (1, 2, 4, 8)
DOCKDOJO = str(Path(sys.executable).parent / "dockdojo")


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def one_learner(room: Room, who: Learner) -> dict[str, float]:
    lesson = load_lesson("what-is-an-image")
    started = time.perf_counter()
    done = subprocess.run(
        [DOCKDOJO, "room", "--config", str(room.file), "engine", "start", who.name],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"start of {who.name} failed: {done.stderr}")
    api = time.perf_counter() - started
    with Engine(who.docker_host, lesson=lesson.id, learner=who.name) as engine:
        engine.pull("nginx")
        nginx = time.perf_counter() - started
        for image in ("redis", "mongo"):
            engine.pull(image)
        report = check_lesson(engine, lesson, ["pull-images"])
        if not report.steps[0].passed:
            raise SystemExit(f"step 1 did not pass for {who.name}: {report}")
        step = time.perf_counter() - started
    engine_ = LearnerEngine(who.name, room.config)
    limits = int((room.config.state / "engines" / who.name / "limits.pid").read_text())
    return {
        "api": api,
        "nginx": nginx,
        "step": step,
        "rss": engine_.status().memory_bytes,
        "limit_rss": _rss(limits),
    }


def room_of(size: int, port: int) -> tuple[list[dict[str, float]], float]:
    with new_room(port) as room:
        people = [add_user(new_name()) for _ in range(size)]
        try:
            with ThreadPoolExecutor(max_workers=size) as pool:
                rows = list(pool.map(lambda who: one_learner(room, who), people))
            started = time.perf_counter()
            subprocess.run(
                [DOCKDOJO, "room", "--config", str(room.file), "engine", "stop", "--all"],
                check=True,
                capture_output=True,
            )
            return rows, time.perf_counter() - started
        finally:
            for who in people:
                LearnerEngine(who.name, room.config).stop()
                remove_user(who)


def main() -> int:
    port = int(os.environ["DOCKDOJO_TEST_REGISTRY"].rpartition(":")[2])
    print("learner engines: rootless dockerd per learner, pulling from the mirror")
    print(
        f"{'learners':>8} {'start→API s':>13} {'→nginx s':>11} {'→step 1 s':>11} "
        f"{'engine RSS MB':>14} {'limit RSS MB':>13} {'stop s':>7}"
    )
    for size in SIZES:
        rows, stop = room_of(size, port)

        def cell(key: str, rows: list[dict[str, float]] = rows) -> str:
            values = [r[key] for r in rows]
            return f"{statistics.median(values):.2f}/{max(values):.2f}"

        rss = statistics.median(r["rss"] for r in rows) / 1e6
        limit = statistics.median(r["limit_rss"] for r in rows) / 1e6
        print(
            f"{size:>8} {cell('api'):>13} {cell('nginx'):>11} {cell('step'):>11} "
            f"{rss:>14.0f} {limit:>13.0f} {stop:>7.2f}"
        )
    print("times: median/slowest learner; RSS: median per learner")
    return 0


if __name__ == "__main__":
    sys.exit(main())
