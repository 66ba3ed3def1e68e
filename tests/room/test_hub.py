"""The room on a real JupyterHub: two learners log in, each gets a server running as their
own Unix user with their own engine, neither can reach the other's, and stopping a
server stops its engine."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from room.seats import Room, add_user, free_port, new_name, new_room, remove_user

from dockdojo.runner.cli import main
from dockdojo.runner.room.engines import LearnerEngine
from dockdojo.runner.room.learners import Learner
from dockdojo.runner.sandbox import engine_answers

pytestmark = [pytest.mark.engine, pytest.mark.timeout(600)]
PASSWORD = "dojo-trial"


@contextlib.contextmanager
def running_hub(room: Room, learners: list[Learner], port: int) -> Iterator[str]:
    config = room.config.state / "jupyterhub_config.py"
    argv = ["room", "--config", str(room.file), "hub-config", "--out", str(config)]
    argv += ["--port", str(port), "--password", PASSWORD]
    for who in learners:
        argv += ["--learner", who.name]
    assert main(argv) == 0
    log = (room.config.state / "hub.log").open("wb")
    bin_dir = Path(sys.executable).parent
    hub = subprocess.Popen(
        [str(bin_dir / "jupyterhub"), "-f", str(config)],
        cwd=room.config.state / "hub",
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/hub/api", timeout=2).status_code == 200:
                    break
            assert hub.poll() is None, (room.config.state / "hub.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the hub did not answer within 60 s"
            time.sleep(0.3)
        yield url
    finally:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(30)
        except subprocess.TimeoutExpired:
            hub.kill()
            hub.wait()
        proxy = room.config.state / "hub" / "proxy.pid"
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(proxy.read_text()), signal.SIGTERM)
        log.close()
        print((room.config.state / "hub.log").read_text()[-4000:], file=sys.stderr)


def log_in(url: str, who: Learner) -> tuple[requests.Session, str]:
    session = requests.Session()
    session.get(f"{url}/hub/login", timeout=10)
    xsrf = session.cookies.get("_xsrf") or ""
    answer = session.post(
        f"{url}/hub/login",
        data={"username": who.name, "password": PASSWORD, "_xsrf": xsrf},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session, session.cookies.get("_xsrf") or xsrf


def _ready(session: requests.Session, xsrf: str, url: str, who: Learner) -> bool:
    model = session.get(
        f"{url}/hub/api/users/{who.name}", headers={"X-XSRFToken": xsrf}, timeout=10
    ).json()
    server = (model.get("servers") or {}).get("") or {}
    return bool(server.get("ready"))


def server_process(who: Learner) -> int:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if b"jupyterhub-singleuser" in (entry / "cmdline").read_bytes() and (
                entry.stat().st_uid == who.uid
            ):
                return int(entry.name)
    raise AssertionError(f"no jupyterhub-singleuser runs as {who.name}")


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_two_learners_get_servers_as_themselves_each_with_an_engine_of_their_own(
    mirror_port: int,
) -> None:
    with new_room(mirror_port) as room:
        people = [add_user(new_name()), add_user(new_name())]
        try:
            with running_hub(room, people, free_port()) as url:
                _walk_through(url, room, people)
        finally:
            for who in people:
                with contextlib.suppress(Exception):
                    LearnerEngine(who.name, room.config).stop()
                remove_user(who)


def _walk_through(url: str, room: Room, people: list[Learner]) -> None:
    sessions = [log_in(url, who) for who in people]
    for (session, xsrf), who in zip(sessions, people, strict=True):
        started = session.post(
            f"{url}/hub/api/users/{who.name}/server",
            headers={"X-XSRFToken": xsrf},
            timeout=180,
        )
        assert started.status_code in (201, 202), started.text[:500]
    for (session, xsrf), who in zip(sessions, people, strict=True):
        deadline = time.monotonic() + 180
        while not _ready(session, xsrf, url, who):
            assert time.monotonic() < deadline, f"{who.name}'s server did not start"
            time.sleep(0.5)
        lab = session.get(f"{url}/user/{who.name}/lab", timeout=30)  # through the hub's OAuth
        assert lab.status_code == 200, lab.status_code
        assert lab.url.endswith(f"/user/{who.name}/lab")
        placed = who.home / "dockdojo-lessons" / "what-is-an-image.ipynb"
        assert placed.is_file(), "the lessons are not in the learner's home"
        assert placed.stat().st_uid == who.uid, "the lessons were not written as the learner"
        env = environ(server_process(who))
        assert env["DOCKER_HOST"] == who.docker_host
        assert env["DOCKDOJO_LEARNER"] == who.name
        assert engine_answers(who.socket), f"{who.name}'s engine does not answer"
    # neither learner can open the other's server
    (ada_session, _), bob = sessions[0], people[1]
    theirs = ada_session.get(f"{url}/user/{bob.name}/lab", timeout=30)
    assert theirs.status_code == 403 or f"/user/{bob.name}/" not in theirs.url, (
        theirs.status_code,
        theirs.url,
    )
    # stopping a server stops its engine
    (session, xsrf), who = sessions[0], people[0]
    stopped = session.delete(
        f"{url}/hub/api/users/{who.name}/server", headers={"X-XSRFToken": xsrf}, timeout=60
    )
    assert stopped.status_code in (202, 204), stopped.text[:500]
    engine = LearnerEngine(who.name, room.config)
    deadline = time.monotonic() + 60
    while engine.status().running:
        assert time.monotonic() < deadline, "the engine outlived its server"
        time.sleep(0.5)
