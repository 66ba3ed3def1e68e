"""Grading throughput: 10 complete submissions of the seed lesson, side by side in one run.

- plain nbclient, sequential, on the test sandbox's engine: with the images already
  there (warm), and with redis and busybox removed before each notebook, so that each
  one pulls them as an isolated submission's fresh engine must (cold);
- ``dockdojo grade`` isolated (each submission a pool user with a fresh rootless engine
  pulling through the room's mirror, a confined kernel, checks, reports' data), with
  ``--jobs 1`` and ``--jobs 2``.

Plain cold and ``--jobs 2`` (the pair the target compares) run 3 times, alternated; the
others once. Prints submissions per minute, the ratios (medians), and the isolation's own
cost per submission: the time spent opening and clearing boxes (pool user's work folder,
engine start, cgroup; then killing, discarding the engine and unmounting), measured
inside the run; with more submissions than jobs, boxes are opened and cleared while
others run. Run by `make bench` on the test sandbox.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common_kit import free_port
from grading.kit import PROJECT, answers, submission
from room.seats import new_room

from dockdojo.runner import Engine, load_lesson
from dockdojo.runner.environ import TAG_SALT
from dockdojo.runner.grading import GradeOptions, grade_all, isolation
from dockdojo.runner.mirror import Mirror
from dockdojo.runner.room.salt import room_salt

COUNT = 10
PULLED = ("redis", "busybox")
ROUNDS = 3
"""Runs of the two the target compares, alternated (the machine's noise differs by run)."""


def clean(engine: Engine, *, images: bool = False) -> None:
    for container in engine.containers():
        engine.remove_container(container.id, force=True)
    if images:
        for image in PULLED:
            if engine.image(image) is not None:
                engine.remove_image(image, force=True)


def plain_nbclient(paths: list[Path], host: str, engine: Engine, *, cold: bool) -> None:
    for path in paths:
        clean(engine, images=cold)  # each notebook on an engine without the last one's containers
        nb = nbformat.read(path, as_version=4)
        env = {
            **os.environ,
            "DOCKER_HOST": host,
            "DOCKDOJO_LEARNER": path.stem,
            "DOCKDOJO_WIDGETS_SYNC": "1",
        }
        NotebookClient(nb, timeout=60, allow_errors=True).execute(env=env, cwd=str(path.parent))


class BoxClock:
    """Seconds spent in :meth:`Box.open` and :meth:`Box.close`, per call."""

    def __init__(self) -> None:
        self.opens: list[float] = []
        self.closes: list[float] = []
        self._saved: dict[str, Any] = {}

    def __enter__(self) -> BoxClock:
        for name, into in (("open", self.opens), ("close", self.closes)):
            original = getattr(isolation.Box, name)
            self._saved[name] = original
            setattr(isolation.Box, name, self._timed(original, into))
        return self

    @staticmethod
    def _timed(original: Callable[..., None], into: list[float]) -> Callable[..., None]:
        def timed(box: isolation.Box) -> None:
            started = time.perf_counter()
            try:
                original(box)
            finally:
                into.append(time.perf_counter() - started)

        return timed

    def __exit__(self, *_: object) -> None:
        for name, original in self._saved.items():
            setattr(isolation.Box, name, original)


def main() -> int:
    host = os.environ["DOCKDOJO_TEST_DOCKER_HOST"]
    registry = os.environ["DOCKDOJO_TEST_REGISTRY"]
    os.chdir(PROJECT)
    folder = Path(tempfile.mkdtemp(prefix="dockdojo-bench-grade-"))
    folder.chmod(0o700)
    lesson = load_lesson("what-is-an-image")
    timings: dict[str, list[float]] = {}
    clocks: dict[str, BoxClock] = {}
    with new_room(free_port()) as room, Engine(host) as engine:
        # the answers name each learner's values as the grader makes them: with the room's salt
        os.environ[TAG_SALT] = room_salt(room.config)
        paths = [submission(folder, f"s{n:02d}", answers(f"s{n:02d}")) for n in range(COUNT)]
        mirror = Mirror(room.config)
        mirror.start(pull_through=f"http://{registry}")
        options = GradeOptions(lesson=lesson, room=room.config)
        try:
            grade_all(paths[:1], options)  # the kernels' Python made, the mirror's cache filled
            runs: list[tuple[str, Callable[[], object]]] = [
                ("plain nbclient, warm", lambda: plain_nbclient(paths, host, engine, cold=False)),
                ("dockdojo grade --jobs 1", lambda: grade_all(paths, replace(options, jobs=1))),
            ]
            for _ in range(ROUNDS):  # the two the target compares, one after the other
                runs += [
                    (
                        "plain nbclient, cold",
                        lambda: plain_nbclient(paths, host, engine, cold=True),
                    ),
                    ("dockdojo grade --jobs 2", lambda: grade_all(paths, replace(options, jobs=2))),
                ]
            for label, run in runs:
                clean(engine)
                with BoxClock() as clock:
                    started = time.perf_counter()
                    results = run()
                    timings.setdefault(label, []).append(time.perf_counter() - started)
                clocks[label] = clock
                if isinstance(results, list):
                    scores = {r.points for r in results}
                    assert scores == {9}, f"{label}: scores {scores}"
            clean(engine)
        finally:
            mirror.stop()
    median = {label: statistics.median(times) for label, times in timings.items()}
    cold = median["plain nbclient, cold"]
    print(f"grading {COUNT} submissions of what-is-an-image ({os.cpu_count()} CPUs)")
    print(f"{'run':<26} {'seconds (median of runs)':>34} {'subs/min':>9} {'vs cold':>8}")
    for label, times in timings.items():
        each = " ".join(f"{t:.1f}" for t in times)
        seconds = median[label]
        print(
            f"{label:<26} {seconds:>8.1f} {'(' + each + ')':>25} "
            f"{COUNT * 60 / seconds:>9.1f} {cold / seconds:>7.2f}x"
        )
    one = clocks["dockdojo grade --jobs 1"]
    print(
        f"isolation per submission (--jobs 1): open {statistics.median(one.opens):.2f} s, "
        f"clear {statistics.median(one.closes):.2f} s (medians); "
        f"grade minus plain cold: {(median['dockdojo grade --jobs 1'] - cold) / COUNT:+.2f} s"
    )
    pairs = zip(timings["plain nbclient, cold"], timings["dockdojo grade --jobs 2"], strict=True)
    ratios = sorted(plain / two for plain, two in pairs)
    print(
        "--jobs 2 throughput vs plain nbclient cold, sequential: "
        f"{statistics.median(ratios):.2f}x (median of {ROUNDS} runs side by side: "
        f"{', '.join(f'{r:.2f}' for r in ratios)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
