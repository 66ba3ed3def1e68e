"""Grading throughput: 10 complete submissions of the seed lesson.

Side by side in one run: ``grade`` with one job, with the CPU count, and plain nbclient
executing the same notebooks one after another (no proxy, no validation, no reports).
Prints submissions per minute and the ratios. Run by `make bench` on the test sandbox.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grading.kit import ROOT, answers, submission

from dockdojo.runner import Engine, load_lesson
from dockdojo.runner.grading import GradeOptions, grade_all

COUNT = 10


def clean(engine: Engine) -> None:
    for container in engine.containers():
        engine.remove_container(container.id, force=True)


def plain_nbclient(paths: list[Path], host: str) -> None:
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        env = {
            **os.environ,
            "DOCKER_HOST": host,
            "DOCKDOJO_LEARNER": path.stem,
            "DOCKDOJO_WIDGETS_SYNC": "1",
        }
        NotebookClient(nb, timeout=60, allow_errors=True).execute(env=env, cwd=str(path.parent))


def main() -> int:
    host = os.environ["DOCKDOJO_TEST_DOCKER_HOST"]
    jobs = os.cpu_count() or 1
    os.chdir(ROOT)
    folder = Path(tempfile.mkdtemp(prefix="dockdojo-bench-grade-"))
    paths = [submission(folder, f"s{n:02d}", answers(f"s{n:02d}")) for n in range(COUNT)]
    options = GradeOptions(lesson=load_lesson("what-is-an-image"), docker_host=host)
    timings: dict[str, float] = {}
    with Engine(host) as engine:
        for label, run in (
            ("plain nbclient, sequential", lambda: plain_nbclient(paths, host)),
            ("dockdojo grade --jobs 1", lambda: grade_all(paths, options, jobs=1)),
            (f"dockdojo grade --jobs {jobs}", lambda: grade_all(paths, options, jobs=jobs)),
        ):
            clean(engine)
            started = time.perf_counter()
            results = run()
            timings[label] = time.perf_counter() - started
            if results is not None:
                scores = {r.points for r in results}
                assert scores == {9}, f"{label}: scores {scores}"
        clean(engine)
    base = timings["plain nbclient, sequential"]
    print(f"grading {COUNT} submissions of what-is-an-image ({jobs} CPUs)")
    print(f"{'run':<30} {'seconds':>8} {'subs/min':>9} {'vs plain':>9}")
    for label, seconds in timings.items():
        print(f"{label:<30} {seconds:>8.1f} {COUNT * 60 / seconds:>9.1f} {seconds / base:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
