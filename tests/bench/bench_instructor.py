"""The instructor's view under a workshop's load, on a real JupyterHub, in one run.

- 100 simulated learners (hub users with no engine: the service checks them and finds
  none) each ask to be checked now every 1 to 3 s for 60 s, through the hub's proxy with
  their own tokens;
- 2 real learners (Unix users with room engines) change their engines every 4 s (a
  redis container started, then removed) and never ask to be checked: one types the
  docker CLI as themselves, the other's widgets use the engine facade; the view learns
  of each change from the learner engine's events alone;
- 5 instructor pages follow the live grid (``api/events``) the whole time.

Printed: p50/p99 of the time from a change on a real learner's engine to each page
showing it, and from a simulated learner's request to each page showing its check;
updates lost (a request whose learner no page showed checked afterwards; a gap in any
page's numbered events); and, measured side by side, the same real checks run alone
(``check_lesson`` on the engine, no service): the view's own share is their difference.
Run by ``make bench`` (as root, on the test world).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common_kit import free_port
from room.hubkit import events, log_in, running_hub
from room.seats import add_user, new_name, new_room, remove_user

from dockdojo.runner import Engine, check_lesson, load_lesson
from dockdojo.runner.room.engines import LearnerEngine

SIMULATED = 100
REAL = 2
PAGES = 5
SECONDS = 60.0
LESSON = "what-is-an-image"
VIEW = "/services/dockdojo/"


class Page:
    """One instructor page's event stream: what it showed, and when."""

    def __init__(self, session: requests.Session, url: str) -> None:
        self.seen: list[tuple[float, dict[str, Any]]] = []
        self.gaps = 0
        self.seq = -1
        self.answer = session.get(url, stream=True, timeout=(10, 120))
        assert self.answer.status_code == 200, self.answer.status_code
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for kind, data in events(self.answer):
            if kind == "grid":
                self.seq = data["seq"]
            elif kind == "learner":
                if data["seq"] != self.seq + 1:
                    self.gaps += 1
                self.seq = data["seq"]
                self.seen.append((time.time(), data["row"]))

    def shown(self, name: str, after: float, what: Any = None) -> float | None:
        """When this page first showed ``name`` checked at or after ``after`` (and
        ``what(row)`` true, if given)."""
        for at, row in list(self.seen):
            if row["name"] == name and row["checked_at"] >= after and (what is None or what(row)):
                return at
        return None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    registry = os.environ["DOCKDOJO_TEST_REGISTRY"]
    port = int(registry.rpartition(":")[2])
    token = secrets.token_hex(16)
    more = (
        f"c.JupyterHub.services.append({{'name': 'bench', 'api_token': {token!r}}})\n"
        "c.JupyterHub.load_roles.append({'name': 'bench', 'services': ['bench'],\n"
        "    'scopes': ['admin:users', 'tokens']})\n"
    )
    simulated = [f"sim{n:03d}" for n in range(SIMULATED)]
    teacher = f"t{new_name()}"
    extra = f"[instructor]\nport = {free_port()}\nrecheck_seconds = 600\n"
    with new_room(port, extra=extra) as room:
        real = [add_user(new_name()) for _ in range(REAL)]
        try:
            for who in real:
                LearnerEngine(who.name, room.config).start()
                with Engine(who.docker_host) as engine:
                    engine.pull("redis")
            names = [*simulated, *(w.name for w in real)]
            with running_hub(room, names, free_port(), (teacher,), more, quiet=True) as url:
                return run(url, token, simulated, real, teacher)
        finally:
            for who in real:
                with contextlib.suppress(Exception):
                    LearnerEngine(who.name, room.config).stop()
                remove_user(who)


def tokens_for(url: str, admin: str, names: list[str]) -> dict[str, str]:
    api = {"Authorization": f"token {admin}"}
    requests.post(f"{url}/hub/api/users", json={"usernames": names}, headers=api, timeout=60)
    made = {}
    for name in names:
        answer = requests.post(
            f"{url}/hub/api/users/{name}/tokens",
            json={"scopes": ["access:services!service=dockdojo"], "note": "bench"},
            headers=api,
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        made[name] = answer.json()["token"]
    return made


def run(url: str, admin: str, simulated: list[str], real: list[Any], teacher: str) -> int:  # noqa: C901
    tokens = tokens_for(url, admin, [*simulated, *(w.name for w in real)])
    instructor, _ = log_in(url, teacher)
    assert instructor.get(f"{url}{VIEW}", timeout=30).status_code == 200
    pages = [Page(instructor, f"{url}{VIEW}api/events?lesson={LESSON}") for _ in range(PAGES)]
    sent: list[tuple[str, float]] = []
    changes: list[tuple[str, float, float, str]] = []  # name, begun, made, status
    refused = [0]
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def ask(name: str) -> bool:
        answer = requests.post(
            f"{url}{VIEW}api/recheck",
            data=json.dumps({"lesson": LESSON, "step": "run-redis"}),
            headers={"Authorization": f"token {tokens[name]}"},
            timeout=30,
        )
        return answer.status_code == 202

    def learner(name: str) -> None:
        time.sleep(random.uniform(0, 2))
        while time.monotonic() < stop:
            at = time.time()
            if ask(name):
                with lock:
                    sent.append((name, at))
            else:
                with lock:
                    refused[0] += 1
            time.sleep(random.uniform(1, 3))

    def working(who: Any, terminal: bool) -> None:
        """Change the engine without asking: the docker CLI as the learner, or the facade."""
        with Engine(who.docker_host) as engine:
            running = False
            while time.monotonic() < stop - 5:
                before = time.time()
                if terminal:
                    as_learner(
                        who,
                        ["rm", "-f", "cache"]
                        if running
                        else ["run", "-d", "--name", "cache", "redis"],
                    )
                elif running:
                    for container in engine.containers():
                        engine.remove_container(container.id, force=True)
                else:
                    engine.run("redis", name="cache")
                running = not running
                with lock:
                    changes.append(
                        (who.name, before, time.time(), "done" if running else "failing")
                    )
                time.sleep(4)
            for container in engine.containers():
                engine.remove_container(container.id, force=True)

    threads = [threading.Thread(target=learner, args=(n,)) for n in simulated]
    threads += [threading.Thread(target=working, args=(w, n == 0)) for n, w in enumerate(real)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - started
    time.sleep(5)  # the last requests' checks
    for page in pages:
        page.answer.close()

    return report(pages, sent, changes, refused[0], took, real)


def as_learner(who: Any, argv: list[str]) -> None:
    """The docker CLI typed by the learner in their terminal, against their own engine."""
    subprocess.run(
        ["runuser", "-u", who.name, "--", "env", f"DOCKER_HOST={who.docker_host}", "docker", *argv],
        check=True,
        capture_output=True,
        timeout=120,
    )


def report(
    pages: list[Page],
    sent: list[tuple[str, float]],
    changes: list[tuple[str, float, float, str]],
    refused: int,
    took: float,
    real: list[Any],
) -> int:
    sim_lat, real_lat, lost = [], [], 0
    for name, at in sent:
        for page in pages:
            shown = page.shown(name, at)
            if shown is None:
                lost += 1
            else:
                sim_lat.append(shown - at)
    for name, begun, made, status in changes:
        # A check begun after the command began and showing its outcome saw the change;
        # the time counts from when the command returned (the change was made).
        for page in pages:
            shown = page.shown(
                name, begun, lambda r, s=status: r["steps"]["run-redis"]["status"] == s
            )
            if shown is None:
                lost += 1
            else:
                real_lat.append(max(0.0, shown - made))
    alone = alone_checks(real)
    gaps = sum(page.gaps for page in pages)
    delivered = sum(len(p.seen) for p in pages)
    print(f"instructor view: {SIMULATED} simulated + {REAL} real learners, {PAGES} pages")
    print(f"  {took:.0f} s; recheck requests taken: {len(sent)} ({len(sent) / took:.1f}/s)")
    print(f"  refused (too soon): {refused}; updates delivered: {delivered}")
    print(f"  lost: {lost}; event gaps: {gaps}")
    print(
        "  real change, never asked for (terminal and widget) -> every page: "
        f"p50 {statistics.median(real_lat):.3f} s, "
        f"p99 {percentile(real_lat, 0.99):.3f} s ({len(real_lat)} samples; goal p99 < 2 s)"
    )
    print(
        f"  simulated request -> every page: p50 {statistics.median(sim_lat):.3f} s, "
        f"p99 {percentile(sim_lat, 0.99):.3f} s ({len(sim_lat)} samples)"
    )
    print(
        f"  the same real checks alone (check_lesson, no service): p50 "
        f"{statistics.median(alone):.3f} s, p99 {percentile(alone, 0.99):.3f} s; "
        f"the view's share at p50: {statistics.median(real_lat) - statistics.median(alone):.3f} s"
    )
    return 0 if lost == 0 and gaps == 0 else 1


def alone_checks(real: list[Any]) -> list[float]:
    """The checks the service runs for a real learner, timed alone, on the same engine."""
    lesson = load_lesson(LESSON)
    took = []
    for who in real:
        with Engine(who.docker_host, lesson=LESSON, learner=who.name, shared=False) as engine:
            for _ in range(10):
                started = time.monotonic()
                check_lesson(engine, lesson)
                took.append(time.monotonic() - started)
    return took


if __name__ == "__main__":
    sys.exit(main())
