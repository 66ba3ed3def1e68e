"""The instructor's view on a real JupyterHub: two learners work on their own engines,
an instructor follows the grid live, and the service keeps what it learnt across a
restart. Every result comes from the service's own checks of the learners' engines."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from common_kit import free_port
from room.hubkit import (
    environ,
    events,
    log_in,
    running_hub,
    server_process,
    service_pid,
    start_servers,
)
from room.seats import Room, add_user, new_name, new_room, remove_user

from dockdojo.runner import Engine
from dockdojo.runner.room.engines import LearnerEngine
from dockdojo.runner.room.learners import Learner

pytestmark = [pytest.mark.engine, pytest.mark.timeout(900)]
VIEW = "/services/dockdojo/"
LESSON = "what-is-an-image"


class Stream:
    """The grid's event stream, read as the page reads it, in a thread."""

    def __init__(self, session: requests.Session, url: str) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.times: dict[int, float] = {}
        self.answer = session.get(url, stream=True, timeout=(10, 60))
        assert self.answer.status_code == 200, self.answer.text[:300]
        assert self.answer.headers["Content-Type"].startswith("text/event-stream")
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        for event in events(self.answer):
            self.times[id(event[1])] = time.time()
            self.events.append(event)

    def wait_for(self, what: Callable[[dict[str, Any]], bool], timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for kind, data in list(self.events):
                if kind == "learner" and what(data["row"]):
                    return data
            time.sleep(0.2)
        raise AssertionError(f"no such update within {timeout} s: {self.events[-3:]}")

    def seen_at(self, data: dict[str, Any]) -> float:
        return float(self.times[id(data)])

    def close(self) -> None:
        self.answer.close()


def terminal(who: Learner, *argv: str) -> None:
    """``docker ARGV`` as the learner types it in their terminal (as them, on their engine)."""
    subprocess.run(
        ["runuser", "-u", who.name, "--", "env", f"DOCKER_HOST={who.docker_host}", "docker", *argv],
        check=True,
        capture_output=True,
        timeout=120,
    )


def cell(row: dict[str, Any], step: str) -> str:
    return str(row["steps"][step]["status"])


def ask(url: str, token: str, body: object, raw: bytes | None = None) -> requests.Response:
    return requests.post(
        f"{url}{VIEW}api/recheck",
        data=raw if raw is not None else json.dumps(body),
        headers={"Authorization": f"token {token}"},
        timeout=10,
    )


HELPER = "helper"
LATE = "latecomer"
"""A learner of the room who never starts a server: on the grid from the start."""
"""A member of the room's instructor group, not a hub admin."""


@contextlib.contextmanager
def workshop(mirror_port: int) -> Iterator[tuple[Room, str, list[Learner], str]]:
    teacher = f"t{new_name()}"
    extra = (
        # no round in the test's time: every update comes from a request or an event
        f"[instructor]\nport = {free_port()}\nrecheck_seconds = 600\nstuck_minutes = 1\n"
        '[hub]\ninstructor_group = "helpers"\n'
    )
    # the hub's admins fill the group (in its admin page); here, its settings do
    helpers = f"c.JupyterHub.load_groups = {{'helpers': {{'users': [{HELPER!r}]}}}}\n"
    with new_room(mirror_port, extra=extra) as room:
        people = [add_user(new_name()), add_user(new_name())]
        try:
            listed: list[Learner | str] = [*people, LATE]
            with running_hub(room, listed, free_port(), admins=(teacher,), more=helpers) as url:
                yield room, url, people, teacher
        finally:
            for who in people:
                with contextlib.suppress(Exception):
                    LearnerEngine(who.name, room.config).stop()
                remove_user(who)


def test_the_instructor_follows_two_learners_live_and_only_the_instructor_may(
    mirror_port: int,
) -> None:
    with workshop(mirror_port) as (room, url, people, teacher):
        ada, bob = people
        start_servers(url, people)
        tokens = {who.name: environ(server_process(who))["JUPYTERHUB_API_TOKEN"] for who in people}
        assert environ(server_process(ada))["DOCKDOJO_RECHECK_URL"].endswith(f"{VIEW}api/recheck")

        # a learner is refused the page and the data; the instructor gets them
        learner_session, _ = log_in(url, ada)
        refused = learner_session.get(f"{url}{VIEW}", timeout=30)
        assert refused.status_code == 403, (refused.status_code, refused.url)
        assert "instructors" in refused.text
        for path in ("api/grid", "api/grid.csv", "api/events", f"api/history?learner={bob.name}"):
            answer = requests.get(
                f"{url}{VIEW}{path}", headers={"Authorization": f"token {tokens[ada.name]}"}
            )
            assert answer.status_code == 403, (path, answer.status_code)
        instructor, _ = log_in(url, teacher)
        page = instructor.get(f"{url}{VIEW}", timeout=30)
        assert page.status_code == 200, page.status_code
        assert "EventSource" in page.text
        # a member of the instructor group, no admin, lands on the view and may read it
        helper, _ = log_in(url, HELPER)
        landed = helper.get(f"{url}/hub/", timeout=30)
        assert landed.status_code == 200, (landed.status_code, landed.url)
        assert landed.url.startswith(f"{url}{VIEW}"), landed.url
        assert "EventSource" in landed.text
        grid = helper.get(f"{url}{VIEW}api/grid?lesson={LESSON}", timeout=30)
        assert grid.status_code == 200, grid.status_code
        assert "learners" in grid.json()
        rows = {r["name"]: r for r in grid.json()["learners"]}
        assert rows[LATE]["engine"] == "not started", rows.get(LATE)  # listed from the start
        # a learner lands on their own server
        assert learner_session.get(f"{url}/hub/", timeout=30).url.startswith(f"{url}/user/")
        stream = Stream(instructor, f"{url}{VIEW}api/events?lesson={LESSON}")
        try:
            _learners_work(url, room, ada, bob, tokens, instructor, stream)
        finally:
            stream.close()


def _learners_work(
    url: str,
    room: Room,
    ada: Learner,
    bob: Learner,
    tokens: dict[str, str],
    instructor: requests.Session,
    stream: Stream,
) -> None:
    # ada pulls the lesson's images on her engine, then selects Check: the grid follows
    with Engine(ada.docker_host) as engine:
        for image in ("nginx", "redis", "mongo"):
            engine.pull(image)
    asked = ask(url, tokens[ada.name], {"lesson": LESSON, "step": "pull-images"})
    assert asked.status_code == 202, asked.text
    assert asked.json()["learner"] == ada.name
    row = stream.wait_for(lambda r: r["name"] == ada.name and cell(r, "pull-images") == "done")
    assert row["row"]["current"] == "run-nginx"

    # bob's Check on a step he has not done: failing, with the check's reason
    assert ask(url, tokens[bob.name], {"lesson": LESSON, "step": "run-redis"}).status_code == 202
    data = stream.wait_for(lambda r: r["name"] == bob.name and cell(r, "run-redis") == "failing")
    assert data["row"]["steps"]["run-redis"]["message"]
    assert cell(data["row"], "pull-images") == "not_tried"
    assert data["summary"]["most_failing"]["step"] == "run-redis"

    # nothing bob sends can concern ada, or mark him done
    for body in (
        {"lesson": LESSON, "step": "run-redis", "learner": ada.name},
        {"lesson": LESSON, "step": "run-redis", "status": "done"},
        {"lesson": "../../etc/passwd"},
        {"lesson": LESSON, "step": "no-such-step"},
        ["run-redis"],
    ):
        answer = ask(url, tokens[bob.name], body)
        assert answer.status_code == 400, (body, answer.status_code)
    assert ask(url, tokens[bob.name], None, raw=b"{" + b" " * 2000 + b"}").status_code == 413
    assert ask(url, tokens[bob.name], None, raw=b"not json").status_code == 400
    anonymous = requests.post(f"{url}{VIEW}api/recheck", data="{}", timeout=10)
    assert anonymous.status_code in (302, 403), anonymous.status_code
    time.sleep(2)
    burst = [ask(url, tokens[bob.name], {"lesson": LESSON}).status_code for _ in range(15)]
    assert 429 in burst, burst
    assert 202 in burst, burst

    # the grid, the CSV and the history agree
    grid = instructor.get(f"{url}{VIEW}api/grid?lesson={LESSON}", timeout=30).json()
    rows = {r["name"]: r for r in grid["learners"]}
    assert cell(rows[ada.name], "pull-images") == "done"
    assert cell(rows[bob.name], "pull-images") == "not_tried"
    csv_text = instructor.get(f"{url}{VIEW}api/grid.csv?lesson={LESSON}", timeout=30).text
    line = next(x for x in csv_text.splitlines() if x.startswith(ada.name + ","))
    assert ",done," in line
    history = instructor.get(
        f"{url}{VIEW}api/history", params={"learner": ada.name}, timeout=30
    ).json()["attempts"]
    assert any(a["step"] == "pull-images" and a["status"] == "done" for a in history)

    # the service restarted: nothing is lost, and the grid catches up
    os.kill(service_pid(), signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(requests.RequestException, ValueError):
            again = instructor.get(f"{url}{VIEW}api/grid?lesson={LESSON}", timeout=10)
            if again.status_code == 200:
                rows = {r["name"]: r for r in again.json()["learners"]}
                break
        assert time.monotonic() < deadline, "the hub did not restart its service"
        time.sleep(0.5)
    assert cell(rows[ada.name], "pull-images") == "done"
    assert cell(rows[bob.name], "run-redis") == "failing"
    fresh = Stream(instructor, f"{url}{VIEW}api/events?lesson={LESSON}")
    try:
        time.sleep(3)  # the restarted service's first look at everyone is over
        # bob works in a terminal, without a Check: the grid follows his engine's events
        terminal(bob, "pull", "redis")
        made = time.time()
        terminal(bob, "run", "-d", "--name", "cache", "redis")
        data = fresh.wait_for(
            lambda r: r["name"] == bob.name and cell(r, "run-redis") == "done", timeout=20
        )
        print(f"docker run in bob's terminal -> the grid: {fresh.seen_at(data) - made:.2f} s")
        terminal(bob, "rm", "-f", "cache")
        fresh.wait_for(lambda r: r["name"] == bob.name and cell(r, "run-redis") == "failing")
        # his Start over sets the step back to not tried (his own steps only)
        over = {"lesson": LESSON, "step": "run-redis", "start_over": True}
        assert ask(url, tokens[bob.name], over).status_code == 202
        fresh.wait_for(lambda r: r["name"] == bob.name and cell(r, "run-redis") == "not_tried")
        assert ask(url, tokens[bob.name], {**over, "start_over": "yes"}).status_code == 400

        # ada's engine stops: the grid says so, and keeps her marks as last known
        LearnerEngine(ada.name, room.config).stop()
        data = fresh.wait_for(
            lambda r: r["name"] == ada.name and r["engine"] == "stopped", timeout=20
        )
        assert data["row"]["ready"] is None
        assert 0 < data["row"]["known_at"] < data["row"]["checked_at"]
        assert cell(data["row"], "pull-images") == "done"
    finally:
        fresh.close()
