"""Room tests: learner engines run as throwaway Unix users on this machine (as root).

Learner engines pull through the test sandbox's registry (DOCKDOJO_TEST_REGISTRY,
127.0.0.1:5055, holding the fixture images), which stands in for the room's mirror:
each test room is ``RoomConfig(state=a temporary folder, mirror_port=5055)``. These
tests fail, never skip, when rootless engines cannot start. The helpers are in
:mod:`room.seats`.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def mirror_port() -> int:
    """The sandbox registry's port, which learner engines use as their mirror."""
    registry = os.environ.get("DOCKDOJO_TEST_REGISTRY")
    if not registry:
        pytest.fail(
            "DOCKDOJO_TEST_REGISTRY is not set: room tests pull through the test sandbox's "
            "registry; run them through make test (or source the test environment)."
        )
    return int(registry.rpartition(":")[2])
