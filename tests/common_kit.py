"""Helpers every test folder uses: waiting for a condition, a free port.

Importable from any test module: ``tests/`` is on ``sys.path`` through its conftest.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable


def eventually(predicate: Callable[[], bool], seconds: float = 10.0, every: float = 0.02) -> bool:
    """Whether ``predicate`` holds within ``seconds`` (asked every ``every`` seconds)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def until(predicate: Callable[[], bool], what: str = "it", seconds: float = 60.0) -> None:
    """Wait until ``predicate`` holds; fail the test, naming ``what``, after ``seconds``."""
    assert eventually(predicate, seconds, every=0.05), f"{what} never happened in {seconds} s"


def free_port() -> int:
    """A TCP port of 127.0.0.1 nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
