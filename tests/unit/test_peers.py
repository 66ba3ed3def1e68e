"""Who listens on a UNIX socket (``SO_PEERCRED``), and whether it is the daemon a given
process tree started: real processes on a temporary socket, no engine."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockdojo.runner.errors import HostError
from dockdojo.runner.privileged import peers

SERVER = """
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen()
while True:
    s.accept()[0].close()
"""
LAUNCHER = "import subprocess, sys; subprocess.run(sys.argv[1:])"


@pytest.fixture
def sock() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="dd-peer-"))
    yield folder / "daemon.sock"
    for entry in folder.iterdir():
        entry.unlink()
    folder.rmdir()


def _listening(path: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while not path.exists():
        assert process.poll() is None, "the server ended"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)


def test_the_daemon_two_levels_below_its_launcher_is_recognised(sock: Path) -> None:
    python = Path(os.path.realpath(sys.executable))
    launcher = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-c", SERVER, str(sock)]
    )
    try:
        _listening(sock, launcher)
        found = peers.peer(sock)
        assert found.uid == os.getuid()
        assert found.parent() == launcher.pid
        assert peers.is_engine(found, root=os.getpid(), launcher=python, program=python)
        # a look-alike: the right tree running another program, or another tree
        assert not peers.is_engine(
            found, root=os.getpid(), launcher=python, program=Path("/bin/sh")
        )
        assert not peers.is_engine(found, root=launcher.pid, launcher=python, program=python)
        assert not peers.is_engine(found, root=1, launcher=python, program=python)
    finally:
        subprocess.run(["pkill", "-P", str(launcher.pid)], check=False)
        launcher.wait(timeout=10)


def test_a_server_started_directly_is_not_an_engine(sock: Path) -> None:
    python = Path(os.path.realpath(sys.executable))
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(sock)])
    try:
        _listening(sock, server)
        found = peers.peer(sock)
        assert found.pid == server.pid
        assert not peers.is_engine(found, root=os.getpid(), launcher=python, program=python)
        assert str(server.pid) in found.describe()
    finally:
        server.kill()
        server.wait(timeout=10)


def test_nothing_listening_is_a_clear_error(sock: Path) -> None:
    with pytest.raises(HostError) as error:
        peers.peer(sock)
    assert "Nothing answers on" in error.value.what
