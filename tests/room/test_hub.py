"""The room on a real JupyterHub: two learners log in, each gets a server running as their
own Unix user with their own engine, each opens their own nginx through their server's
port proxy, neither can reach the other's server or ports, and stopping a server stops
its engine."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import time

import pytest
from common_kit import free_port
from room.hubkit import environ, running_hub, server_process, start_servers
from room.seats import (
    Room,
    Seat,
    add_user,
    new_name,
    new_room,
    published,
    remove_user,
)

from dockdojo.runner import course, port_url
from dockdojo.runner.context import learner_tag
from dockdojo.runner.privileged import firewall
from dockdojo.runner.room.engines import LearnerEngine
from dockdojo.runner.room.learners import Learner
from dockdojo.runner.room.salt import room_salt, salt_path
from dockdojo.runner.sandbox import engine_answers

pytestmark = [pytest.mark.engine, pytest.mark.timeout(600)]


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
    sessions = start_servers(url, people)
    for (session, _), who in zip(sessions, people, strict=True):
        lab = session.get(f"{url}/user/{who.name}/lab", timeout=30)  # through the hub's OAuth
        assert lab.status_code == 200, lab.status_code
        assert lab.url.endswith(f"/user/{who.name}/lab")
        # the course's first lesson, not the Launcher
        landing = session.get(f"{url}/user/{who.name}/", timeout=30)
        first = course()[0]
        assert landing.url.endswith(f"/lab/tree/dockdojo-lessons/{first}.ipynb"), landing.url
        placed = who.home / "dockdojo-lessons" / "what-is-an-image.ipynb"
        assert placed.is_file(), "the lessons are not in the learner's home"
        assert placed.stat().st_uid == who.uid, "the lessons were not written as the learner"
        for folder in (who.home, placed.parent):  # theirs alone (useradd -m made it 755)
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        env = environ(server_process(who))
        assert env["DOCKER_HOST"] == who.docker_host
        assert env["DOCKDOJO_LEARNER"] == who.name
        assert env["DOCKDOJO_HOST_IP"] == firewall.address(who.uid)
        salt = room_salt(room.config)  # made by the hub's first spawn, root's alone
        assert stat.S_IMODE(salt_path(room.config).stat().st_mode) == 0o600
        tag = learner_tag("what-is-an-image", who.name, salt)
        assert f"what-is-an-image={tag}" in env["DOCKDOJO_LEARNER_TAG"].split(",")
        assert not [k for k, v in env.items() if salt in v], "the server holds the room's salt"
        assert engine_answers(who.socket), f"{who.name}'s engine does not answer"
    # each learner's port link opens their own nginx through the hub, and only theirs
    links = {}
    for (session, _), who in zip(sessions, people, strict=True):
        host, port = published(Seat(who, room.engine(who)))
        links[who.name] = (host, port)
        os.environ["JUPYTERHUB_SERVICE_PREFIX"] = f"/user/{who.name}/"
        try:
            link = port_url(port, host)
        finally:
            del os.environ["JUPYTERHUB_SERVICE_PREFIX"]
        page = session.get(f"{url}{link}", timeout=30)
        assert page.status_code == 200, (link, page.status_code, page.text[:300])
        assert "nginx" in page.text.lower()
    (ada_session, _), (ada, bob) = sessions[0], people
    # bob's shell cannot read ada's lessons
    peek = subprocess.run(
        ["cat", str(ada.home / "dockdojo-lessons" / "what-is-an-image.ipynb")],
        user=bob.uid,
        group=bob.gid,
        extra_groups=[],
        capture_output=True,
        text=True,
        check=False,
    )
    assert peek.returncode != 0, "bob read ada's lesson"
    assert "Permission denied" in peek.stderr, peek.stderr
    bob_host, bob_port = links[bob.name]
    for path in (f"proxy/{bob_host}:{bob_port}/", f"proxy/{bob_port}/"):
        stolen = ada_session.get(f"{url}/user/{ada.name}/{path}", timeout=30)
        assert stolen.status_code != 200, (path, stolen.status_code)
        assert "nginx" not in stolen.text.lower()
    # nor any 127.0.0.1 service of the server (here the room's mirror), by address or not
    mirror = room.config.mirror_port
    for path in (f"proxy/127.0.0.1:{mirror}/v2/_catalog", f"proxy/{mirror}/v2/_catalog"):
        served = ada_session.get(f"{url}/user/{ada.name}/{path}", timeout=30)
        assert served.status_code == 403, (path, served.status_code)
        assert "repositories" not in served.text
    # neither learner can open the other's server
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
