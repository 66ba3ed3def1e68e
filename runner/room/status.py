"""What one learner's engine is doing and using (:class:`EngineStatus`), and how its
containers, disk and memory are measured."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..text import human_bytes, plural

SCHEMA = "dockdojo.room-engines/v1"
"""Version of :meth:`EngineStatus.to_json`'s shape."""


@dataclass(frozen=True)
class EngineStatus:
    """What one learner's engine is doing and using."""

    learner: str
    """The learner (their Unix user name)."""
    uid: int | None
    """Their user id; None when the user does not exist (any more)."""
    running: bool
    """Whether the engine answers on its socket."""
    pid: int | None
    """rootlesskit's process id when it runs (the engine's whole tree is under it)."""
    docker_host: str
    """``DOCKER_HOST`` for this engine, as its learner uses it
    (``unix:///run/user/UID/docker.sock``)."""
    verified_host: str
    """``DOCKER_HOST`` of the engine as root reads it: its pinned socket
    (``unix:///run/dockdojo/engines/LEARNER.sock``), which nothing of the learner's can
    replace; empty when the engine does not run."""
    limits_running: bool
    """Whether the containers limit (:mod:`~dockdojo.runner.privileged.authz`) answers;
    without it the engine refuses every request."""
    containers: int
    """Containers in its data root, running or stopped."""
    disk_bytes: int
    """Size of its data root on disk (``du``)."""
    memory_bytes: int
    """Resident memory (RSS) of all its processes: engine, shims and containers."""
    data_root: Path
    """Its data root."""
    log: Path
    """Its log file."""

    def describe(self) -> str:
        """One line: ``ada  running  unix:///run/user/1001/docker.sock  2 containers ...``."""
        if self.uid is None:
            state = "no such user"
        elif self.pid is None:
            state = "stopped"
        elif not self.limits_running:
            state = "refusing every request: its containers limit is down (start it again)"
        elif self.running:
            state = "running"
        else:
            state = f"started but not answering (see {self.log})"
        return "  ".join(
            [
                self.learner,
                state,
                self.docker_host,
                plural(self.containers, "container"),
                f"{human_bytes(self.disk_bytes)} disk",
                f"{human_bytes(self.memory_bytes)} memory",
            ]
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "learner": self.learner,
            "uid": self.uid,
            "running": self.running,
            "pid": self.pid,
            "docker_host": self.docker_host,
            "verified_host": self.verified_host,
            "limits_running": self.limits_running,
            "containers": self.containers,
            "disk_bytes": self.disk_bytes,
            "memory_bytes": self.memory_bytes,
            "data_root": str(self.data_root),
            "log": str(self.log),
        }


def count_folders(folder: Path) -> int:
    try:
        return sum(1 for entry in os.scandir(folder) if entry.is_dir())
    except OSError:
        return 0


def disk_usage(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    result = subprocess.run(
        ["du", "-s", "-x", "--block-size=1", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return int(result.stdout.split()[0])
    except (IndexError, ValueError):
        return 0


def rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


__all__ = ["SCHEMA", "EngineStatus", "count_folders", "disk_usage", "rss"]
