"""Learners' published ports are theirs alone: each engine publishes on a loopback
address of its learner's own, and the host's firewall lets only that learner (and root:
the instructor's view, the grader) connect to it. An engine reaches the host only at the
mirror's port: not the server's services on 127.0.0.1 (which slirp4netns calls
10.0.2.2), nor the host's other addresses."""

from __future__ import annotations

import contextlib
import socket
import subprocess
from collections.abc import Iterator

import docker
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


@contextlib.contextmanager
def listener(address: str) -> Iterator[int]:
    """A root service listening on ``address`` (what a server runs beside the room)."""
    server = socket.create_server((address, 0))
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def _host_address() -> str:
    """This server's first address that is not loopback."""
    for line in subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split():
        if "." in line and not line.startswith("127."):
            return line
    pytest.fail("the server has no IPv4 address besides loopback")


def _reaches(client: docker.DockerClient, host: str, port: int) -> str:
    """What a container of the engine gets when it connects to ``host:port``."""
    out = client.containers.run(
        "busybox",
        ["sh", "-c", f"nc -w 3 {host} {port} </dev/null && echo OPEN || echo CLOSED"],
        remove=True,
    )
    return out.decode().strip()


def test_an_engine_reaches_the_host_only_at_the_mirror(mirror_port: int) -> None:
    with (
        new_room(mirror_port) as room,
        seats(room, 2) as (ada, bob),
        listener("127.0.0.1") as loopback_port,
        listener("0.0.0.0") as any_port,
    ):
        client = docker.DockerClient(base_url=ada.docker_host)
        try:
            client.images.pull("busybox")  # through the mirror: the one way out
            assert _reaches(client, "10.0.2.2", mirror_port) == "OPEN"
            assert _reaches(client, "10.0.2.2", loopback_port) == "CLOSED", (
                "a container reached a service on the server's 127.0.0.1"
            )
            assert _reaches(client, _host_address(), any_port) == "CLOSED", (
                "a container reached a service on the server's own address"
            )
            host, port = published(bob)  # bob's nginx, on his address
            assert _reaches(client, "10.0.2.2", port) == "CLOSED"
            assert connects(bob.who, host, port), "the rule cut bob off his own port"
        finally:
            client.close()
        net = ada.engine.cgroup.net_path
        assert net is not None
        assert any(net in rule for rule in firewall.rules())


@pytest.mark.parametrize("named", ["127.0.0.1", "0.0.0.0"])
def test_publishing_on_an_address_not_the_learners_is_refused_with_the_way_out(
    mirror_port: int, named: str
) -> None:
    with new_room(mirror_port) as room, seats(room, 1) as (ada,):
        client = docker.DockerClient(base_url=ada.docker_host)
        try:
            client.images.pull("busybox")
            with pytest.raises(docker.errors.APIError) as refused:
                client.containers.create("busybox", ports={"80/tcp": (named, 0)})
            mine = firewall.address(ada.who.uid)
            assert f"your own address {mine}" in str(refused.value)
            assert f"-p {mine}:0:6379" in str(refused.value)
            container = client.containers.run(
                "busybox", ["sleep", "60"], detach=True, ports={"80/tcp": (mine, 0)}
            )
            container.reload()
            assert container.attrs["NetworkSettings"]["Ports"]["80/tcp"][0]["HostIp"] == mine
            container.remove(force=True)
        finally:
            client.close()
