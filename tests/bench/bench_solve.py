"""`dockdojo run LESSON --solve` against a shell script of docker CLI commands, for each
lesson of the course.

Both do every step of the lesson (exercises included) from the same starting state (no
containers; the lesson's images pulled), interleaved, as separate processes. The ratio
is dockdojo's wall time over the script's (goal: at most 1.2).
Run by `make bench` against the test sandbox.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dockdojo.runner import Engine

ROUNDS = 3
HERE = Path(__file__).resolve().parent
DOCKDOJO = Path(sys.executable).parent / "dockdojo"


LESSONS = {
    "what-is-a-container": ("solve_what_is_a_container.sh", ("docker/welcome-to-docker",)),
    "what-is-an-image": ("solve_what_is_an_image.sh", ("nginx", "redis", "mongo")),
    "publishing-ports": (
        "solve_publishing_ports.sh",
        ("nginx", "redis", "docker/welcome-to-docker"),
    ),
    "overriding-container-defaults": (
        "solve_overriding_container_defaults.sh",
        ("postgres", "redis"),
    ),
    "persisting-container-data": ("solve_persisting_container_data.sh", ("postgres:18", "busybox")),
    "sharing-local-files": ("solve_sharing_local_files.sh", ("httpd:2.4", "busybox")),
    "multi-container-applications": (
        "solve_multi_container_applications.sh",
        ("nginx:1.25", "node:21", "redis", "busybox"),
    ),
}
"""Each lesson: its shell script, and the images both start with."""


def reset(engine: Engine, images: tuple[str, ...]) -> None:
    for container in engine.containers():
        engine.remove_container(container.id, force=True)
    api = engine.api_client(120)
    api.prune_volumes()
    api.prune_networks()
    for image in images:
        if engine.image(image) is None:
            engine.pull(image)


def timed(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of ``argv``, run in a new folder (the notebook's: what a lesson writes
    beside it goes there)."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        result = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=folder)
    took = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(argv)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return took


def main() -> int:
    host = os.environ["DOCKDOJO_TEST_DOCKER_HOST"]
    env = {**os.environ, "DOCKER_HOST": host}
    print(f"run --solve vs docker CLI script, median of {ROUNDS} interleaved rounds")
    with Engine(host) as engine:
        found = {row.name for row in engine.images()}
        for lesson, (script, images) in LESSONS.items():
            ours, theirs = [], []
            for _ in range(ROUNDS):
                reset(engine, images)
                ours.append(timed([str(DOCKDOJO), "run", lesson, "--solve"], env))
                reset(engine, images)
                theirs.append(timed(["bash", str(HERE / script)], env))
            reset(engine, images)
            a, b = statistics.median(ours), statistics.median(theirs)
            print(
                f"{lesson}: dockdojo run --solve {a:.2f} s, shell script {b:.2f} s, "
                f"ratio {a / b:.2f} (goal <= 1.2)"
            )
        for row in engine.images():  # what the builds made (web, counter-bench_web1...)
            if row.name not in found and row.tag != "<none>":
                engine.remove_image(row.name, force=True)
        engine.pull("nginx")  # the multi-container lesson builds an image of that name
        engine.api_client(120).prune_images(filters={"dangling": True})
    return 0


if __name__ == "__main__":
    sys.exit(main())
