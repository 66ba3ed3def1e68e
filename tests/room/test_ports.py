"""Learners' published ports are theirs alone: each engine publishes on a loopback
address of its learner's own, and the host's firewall lets only that learner (and root:
the instructor's view, the grader) connect to it."""

from __future__ import annotations

import subprocess

import pytest
from room.seats import new_room, published, seats

from dockdojo.runner.privileged import firewall
from dockdojo.runner.room.learners import Learner

pytestmark = [pytest.mark.engine, pytest.mark.timeout(300)]

CONNECT = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
except OSError as exc:
    print(type(exc).__name__, exc)
    sys.exit(1)
"""


def connects(who: Learner | None, host: str, port: int) -> bool:
    """Whether ``who`` (root when None) can open a connection to ``host:port``."""
    done = subprocess.run(
        ["/usr/bin/python3", "-I", "-c", CONNECT, host, str(port)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd="/",
        user=None if who is None else who.uid,
        group=None if who is None else who.gid,
        extra_groups=None if who is None else [],
    )
    return done.returncode == 0


def test_a_learners_port_is_open_to_them_and_root_and_refused_to_another_learner(
    mirror_port: int,
) -> None:
    with new_room(mirror_port) as room, seats(room, 2) as (ada, bob):
        host, port = published(ada)
        assert host == firewall.address(ada.who.uid)
        assert firewall.address(ada.who.uid) != firewall.address(bob.who.uid)
        assert connects(ada.who, host, port), "ada cannot reach her own nginx"
        assert connects(None, host, port), "root (the instructor's view) cannot reach it"
        assert not connects(bob.who, host, port), "bob reached ada's nginx"
        assert not connects(bob.who, "127.0.0.1", port), "ada's port is open on 127.0.0.1"
        assert firewall.rules(host), "no rule guards ada's address"
        ada.engine.stop()
        assert not firewall.rules(host), "ada's rules outlived her engine"
        assert firewall.rules(firewall.address(bob.who.uid)), "bob lost his rules with hers"
    assert not firewall.rules(), "rules were left after the engines stopped"
