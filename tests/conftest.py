"""Shared test setup.

Unit tests never reach an engine: the Docker client variables are cleared for every
test (the way httpx clears proxy variables), so a stray DOCKER_HOST cannot leak in.
Engine tests get the sandbox's address from DOCKDOJO_TEST_DOCKER_HOST, which
``make test`` sets after starting the sandbox.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CLIENT_VARIABLES = (
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "DOCKER_CONFIG",
    "DOCKDOJO_ROOM_CONFIG",  # a room's settings come from the file a test names
)


@pytest.fixture(autouse=True)
def _no_docker_client_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CLIENT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def docker_host() -> str:
    """The sandbox engine's address; a failure (never a skip) when it is not set."""
    host = os.environ.get("DOCKDOJO_TEST_DOCKER_HOST")
    if not host:
        pytest.fail(
            "DOCKDOJO_TEST_DOCKER_HOST is not set. Engine and browser tests run "
            "against the sandbox that `make test` starts; run them through make test."
        )
    return host


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short folder: unix socket paths may have at most 107 bytes."""
    path = Path(tempfile.mkdtemp(prefix="lp-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)
