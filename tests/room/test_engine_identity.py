"""Root reads a learner's engine only through the socket it pinned when the engine
started: a learner who replaces their ``docker.sock`` with a program of theirs (as a
container of their engine can, being them on the host) fools nothing of dockdojo's."""

from __future__ import annotations

import subprocess
import time

import docker
import pytest
from room.seats import new_room, seats

from dockdojo.runner import Engine
from dockdojo.runner.engine import journal
from dockdojo.runner.room.engines import pinned_socket

pytestmark = [pytest.mark.engine, pytest.mark.timeout(300)]

FAKE = """
import os, socket, sys
path = sys.argv[1]
os.rename(path, path + '.real')
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen()
print('ready', flush=True)
body = b'{"ID": "FAKE", "Name": "fake", "Containers": 99}'
while True:
    c = s.accept()[0]
    c.recv(65536)
    c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nApi-Version: 1.41\\r\\n'
              b'Content-Length: %d\\r\\n\\r\\n' % len(body) + body)
    c.close()
"""


def _engine_id(host: str) -> str:
    client = docker.DockerClient(base_url=host, version="1.41")
    try:
        return str(client.info()["ID"])
    finally:
        client.close()


def test_a_replaced_socket_fools_neither_the_checks_nor_the_journal(mirror_port: int) -> None:
    with new_room(mirror_port) as room, seats(room, 1) as (ada,):
        status = ada.engine.status()
        assert status.verified_host == f"unix://{pinned_socket(ada.who.name)}"
        real_id = _engine_id(status.verified_host)
        fake = subprocess.Popen(
            ["/usr/bin/python3", "-I", "-c", FAKE, str(ada.who.socket)],
            user=ada.who.uid,
            group=ada.who.gid,
            extra_groups=[],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert fake.stdout is not None
            assert fake.stdout.readline().strip() == "ready"
            assert _engine_id(ada.docker_host) == "FAKE"  # what the checks used to read
            again = ada.engine.start()  # idempotent: keeps its pin, and says so
            assert again.running
            assert _engine_id(again.verified_host) == real_id
            with Engine(again.verified_host) as engine:
                engine.pull("busybox")  # through the real engine, seen by the journal
            deadline = time.monotonic() + 10
            while not any(
                e.name.startswith("busybox") for e in journal.read(ada.engine.journal)[1]
            ):
                assert time.monotonic() < deadline, "the journal did not see the real pull"
                time.sleep(0.1)
        finally:
            fake.kill()
            fake.communicate(timeout=10)
    assert not pinned_socket(ada.who.name).exists(), "the pin outlived the engine"
