"""How fast the panels follow the engine, and how often a pull redraws its widget.

- **CLI change to panel:** a container card is shown (threaded, as in a notebook); the
  container is removed with ``docker rm -f`` in a terminal's way (a subprocess); the time
  from starting that command to the card saying the container was deleted. The docker
  CLI's own time (the command alone, no panel) is measured in the same rounds,
  interleaved, so the panel's share shows beside it. 20 rounds; p50 and p95.
- **Pull redraws:** mongo pulled through a Pull widget (threaded) on an engine without
  it; updates of its progress bar per second (goal: at most 10).

Run by `make bench` against the test sandbox.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from dockdojo.runner import Engine
from dockdojo.widgets import ContainerCard, PullWidget

ROUNDS = 20


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main() -> int:
    host = os.environ["DOCKDOJO_TEST_DOCKER_HOST"]
    env = {"DOCKER_HOST": host, "PATH": "/usr/bin:/bin"}
    os.environ.pop("DOCKDOJO_WIDGETS_SYNC", None)
    engine = Engine(host, lesson="bench-live", learner="bench")
    if engine.image("redis") is None:
        engine.pull("redis")
    panel: list[float] = []
    cli: list[float] = []
    for n in range(ROUNDS):
        shown = engine.run("redis", name=f"bench-live-{n}")
        card = ContainerCard(engine, shown)
        bare = engine.run("redis", name=f"bench-live-bare-{n}")
        started = time.perf_counter()
        subprocess.run(["docker", "rm", "-f", bare.id], env=env, check=True, capture_output=True)
        cli.append(time.perf_counter() - started)
        started = time.perf_counter()
        subprocess.run(["docker", "rm", "-f", shown.id], env=env, check=True, capture_output=True)
        deadline = started + 10
        while "was deleted" not in card.html.value and time.perf_counter() < deadline:
            time.sleep(0.002)
        assert "was deleted" in card.html.value, "the card never showed the removal"
        panel.append(time.perf_counter() - started)
        card.unsubscribe()
    print(f"CLI change to panel ({ROUNDS} rounds, docker rm -f of a shown container)")
    print(f"{'':<28} {'p50':>7} {'p95':>7}")
    print(
        f"{'docker rm -f alone':<28} {percentile(cli, 0.5):>6.3f}s {percentile(cli, 0.95):>6.3f}s"
    )
    print(
        f"{'docker rm -f, card updated':<28} {percentile(panel, 0.5):>6.3f}s "
        f"{percentile(panel, 0.95):>6.3f}s   (goal: p95 < 1 s)"
    )
    print(f"panel's own share, median: {statistics.median(panel) - statistics.median(cli):.3f} s")

    for container in engine.containers(image="mongo"):
        engine.remove_container(container.id, force=True)
    if engine.image("mongo") is not None:
        engine.remove_image("mongo", force=True)
    widget = PullWidget(engine, ["mongo"])
    updates: list[float] = []
    widget.bar.observe(lambda _: updates.append(time.perf_counter()), names="value")
    started = time.perf_counter()
    widget.pull("mongo")
    widget.worker.wait(300)
    took = time.perf_counter() - started
    per_second = len(updates) / took if took else 0.0
    print(
        f"pull of mongo: {len(updates)} progress-bar updates in {took:.1f} s = "
        f"{per_second:.1f}/s (goal: at most 10/s)"
    )
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
