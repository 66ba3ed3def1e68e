"""``check`` (in-process) against the docker CLI + curl doing the same checks.

The seed lesson is solved once on images of the benchmark's own (so nothing shared is
touched), then each round checks it both ways, interleaved. Three groups, because
they are bound by different things:

- state: images, containers, ports and HTTP (one shared snapshot against a CLI call
  per check);
- + redis-cli: adds the checks that run a command inside a container (``docker exec``
  costs the same ~50 ms of runc either way; dockdojo runs them concurrently);
- + mongosh: adds the mongo_document check, whose ~0.8 s is mongosh starting up inside
  the container, the same for both.

Run by `make bench` against the test sandbox.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lesson_kit import build_image, drop_image, seed_lesson

from dockdojo.runner import (
    LABEL_LESSON,
    LABEL_STEP,
    DockdojoError,
    Engine,
    Lesson,
    check_lesson,
    solve_lesson,
)

ROUNDS = 9
LESSON = "bench-checks"
GROUPS = {
    "state": ["pull-images", "view-images", "run-nginx", "run-redis", "run-mongo"],
    "+ redis-cli": ["redis-cli", "redis-cache"],
    "+ mongosh": ["mongosh"],
}


def main() -> int:
    host = os.environ["DOCKDOJO_TEST_DOCKER_HOST"]
    docker, curl = shutil.which("docker"), shutil.which("curl")
    if docker is None or curl is None:
        print("the docker CLI and curl are needed", file=sys.stderr)
        return 1
    env = {**os.environ, "DOCKER_HOST": host}

    def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([docker, *args], env=env, capture_output=True, check=False)

    with Engine(host, lesson=LESSON, learner="bench") as engine:
        own = _own_images(engine)
        cache = f"bench-cache-{os.getpid()}"
        lesson = seed_lesson(
            LESSON, nginx=own["nginx"], redis=own["redis"], mongo=own["mongo"], cache=cache
        )
        every = [s for group in GROUPS.values() for s in group]
        try:
            solved = solve_lesson(engine, lesson, step_ids=every)
            if not solved.passed:
                print("solving failed:", solved.to_json(), file=sys.stderr)
                return 1
            _compare(engine, lesson, _by_cli(engine, cli, curl, own, cache))
        finally:
            _clean_up(engine, own)
    return 0


def _own_images(engine: Engine) -> dict[str, str]:
    """The benchmark's own tags of nginx, redis and mongo, by base image."""
    for image in ("nginx", "redis", "mongo"):
        if engine.image(image) is None:
            engine.pull(image)
    return {base: build_image(engine, base) for base in ("nginx", "redis", "mongo")}


def _by_cli(
    engine: Engine, cli: Callable[..., object], curl: str, own: dict[str, str], cache: str
) -> dict[str, Callable[[], object]]:
    """For each step, the docker CLI (and curl) calls that check what its checks check."""

    def made(step: str) -> str:
        return engine.containers(labels={LABEL_LESSON: LESSON, LABEL_STEP: step})[0].name

    web, kv, db = made("run-nginx"), made("run-redis"), made("run-mongo")
    port = str(engine.container(web).ports[0].host_port)
    return {
        "pull-images": lambda: [cli("image", "inspect", i) for i in ("nginx", "redis", "mongo")],
        "view-images": lambda: [cli("image", "inspect", i) for i in ("nginx", "redis", "mongo")],
        "run-nginx": lambda: (
            cli("ps", "--filter", f"ancestor={own['nginx']}"),
            cli("port", web, "80"),
            subprocess.run(
                [curl, "-s", f"http://127.0.0.1:{port}/"], capture_output=True, check=False
            ),
        ),
        "run-redis": lambda: cli("ps", "--filter", f"ancestor={own['redis']}"),
        "run-mongo": lambda: cli("ps", "--filter", f"ancestor={own['mongo']}"),
        "redis-cli": lambda: (
            cli("ps", "--filter", f"ancestor={own['redis']}"),
            cli("exec", kv, "redis-cli", "GET", "test"),
        ),
        "redis-cache": lambda: (
            cli("ps", "--filter", f"name={cache}"),
            cli("exec", cache, "redis-cli", "GET", "dojo"),
        ),
        "mongosh": lambda: (
            cli("ps", "--filter", f"ancestor={own['mongo']}"),
            cli(
                "exec",
                db,
                "mongosh",
                "--quiet",
                "--eval",
                'db.test.findOne({email: "moby@docker.com"})',
            ),
        ),
    }


def _compare(engine: Engine, lesson: Lesson, by_cli: dict[str, Callable[[], object]]) -> None:
    """Time ``check`` against the CLI calls, group by growing group, and print the table."""
    print(f"check (in-process) vs docker CLI + curl, median of {ROUNDS} interleaved rounds")
    print(f"{'checks':<14} {'n':>3} {'check ms':>9} {'CLI ms':>8} {'speed-up':>9}")
    steps: list[str] = []
    for label, group in GROUPS.items():
        steps += group
        chosen = list(steps)
        count = sum(len(lesson.step(s).checks) for s in chosen)

        def ours(chosen: list[str] = chosen) -> None:
            report = check_lesson(engine, lesson, chosen)
            if not report.passed:
                raise AssertionError(report.to_json())

        def theirs(chosen: list[str] = chosen) -> None:
            for step in chosen:
                by_cli[step]()

        ours()
        theirs()
        a, b = [], []
        for _ in range(ROUNDS):
            a.append(_timed(ours))
            b.append(_timed(theirs))
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"{label:<14} {count:>3} {ma * 1000:>9.1f} {mb * 1000:>8.1f} {mb / ma:>8.1f}x")


def _clean_up(engine: Engine, own: dict[str, str]) -> None:
    with contextlib.suppress(DockdojoError):  # e.g. removed by someone else already
        engine.remove_labelled({LABEL_LESSON: LESSON})
    for tag in own.values():
        with contextlib.suppress(DockdojoError):
            drop_image(engine, tag)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
