"""Engine facade against the docker CLI, side by side in one run; sandbox start to pull.

Each round times the facade and the CLI doing the same thing, interleaved, so both see
the same machine load; medians and their ratio are printed (below 1: the facade is
faster). Run by `make bench` against the test sandbox.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from dockdojo.runner import Engine, Sandbox

ROUNDS = 25


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    host = os.environ["DOCKDOJO_TEST_DOCKER_HOST"]
    state = Path(os.environ["DOCKDOJO_TEST_SANDBOX_STATE"])
    docker = shutil.which("docker")
    if docker is None:
        print("the docker CLI is not installed", file=sys.stderr)
        return 1
    env = {**os.environ, "DOCKER_HOST": host}
    engine = Engine(host, lesson="bench", learner="bench")
    for image in ("nginx", "redis"):
        if engine.image(image) is None:
            engine.pull(image)
    redis = engine.run("redis", name="bench-redis")
    try:

        def cli(*args: str) -> Callable[[], object]:
            return lambda: subprocess.run([docker, *args], env=env, check=True, capture_output=True)

        pairs: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
            "image list": (engine.images, cli("images")),
            "container list": (engine.containers, cli("ps", "-a")),
            "one-shot exec": (
                lambda: engine.exec(redis.name, ["redis-cli", "PING"]),
                cli("exec", redis.name, "redis-cli", "PING"),
            ),
        }
        print(f"engine facade vs docker CLI ({docker}), median of {ROUNDS} interleaved rounds")
        print(f"{'operation':<16} {'facade ms':>10} {'CLI ms':>10} {'ratio':>7}")
        for label, (ours, theirs) in pairs.items():
            ours()  # warm-up: connection and API version negotiation
            theirs()
            a, b = [], []
            for _ in range(ROUNDS):
                a.append(timed(ours))
                b.append(timed(theirs))
            ma, mb = statistics.median(a), statistics.median(b)
            print(f"{label:<16} {ma * 1000:>10.1f} {mb * 1000:>10.1f} {ma / mb:>7.2f}")
    finally:
        engine.remove_container(redis.id, force=True)

    # sandbox start to first successful pull: nginx removed, sandbox stopped, then timed
    box = Sandbox(state)
    engine.remove_image("nginx", force=True)
    engine.close()
    box.stop()
    start = time.perf_counter()
    box.start()
    started = time.perf_counter() - start
    Engine(box.docker_host).pull("nginx")
    total = time.perf_counter() - start
    print(
        f"sandbox start to first successful pull of nginx: {total:.2f} s "
        f"(start {started:.2f} s, pull {total - started:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
