"""How fast the ``dockdojo`` command answers, beside bare Python start-up, in one run.

Each round runs ``python -c pass``, ``dockdojo --help`` and ``dockdojo check LESSON
--json`` (against the test sandbox, where the lesson finds nothing) one after another,
so all three see the same machine load. Medians are printed, with each command's time
beyond bare Python and its ratio to it. The goal: ``--help`` within 0.3 s of Python.
Run by ``make bench``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROUNDS = 15
BIN = Path(sys.executable).parent
GOAL = 0.3


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):  # check exits 1 when checks fail, as they do here
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-400:]}")
    return took


def main() -> int:
    env = {**os.environ, "DOCKER_HOST": os.environ["DOCKDOJO_TEST_DOCKER_HOST"]}
    dockdojo = str(BIN / "dockdojo")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "dockdojo --help": [dockdojo, "--help"],
        "dockdojo check --json": [dockdojo, "check", "what-is-an-image", "--json"],
    }
    for argv in commands.values():  # warm the file cache
        timed(argv, env)
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(ROUNDS):
        for label, argv in commands.items():
            times[label].append(timed(argv, env))
    medians = {label: statistics.median(values) for label, values in times.items()}
    base = medians["python -c pass"]
    print(f"command start-up beside bare Python, median of {ROUNDS} interleaved rounds")
    print(f"{'command':<24} {'ms':>8} {'beyond python ms':>17} {'ratio':>7}")
    for label, median in medians.items():
        print(
            f"{label:<24} {median * 1000:>8.0f} {(median - base) * 1000:>17.0f} "
            f"{median / base:>7.2f}"
        )
    beyond = medians["dockdojo --help"] - base
    verdict = "met" if beyond <= GOAL else "NOT met"
    print(f"goal: --help within {GOAL:g} s of bare Python: {verdict} ({beyond:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
