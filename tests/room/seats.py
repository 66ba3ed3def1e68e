"""Helpers of the room tests: throwaway learners (Unix users ``dd-<hex>``), rooms of
their own, and what a stopped engine may have left behind.

Every learner made here is removed afterwards (``userdel -r``), once its engine is
stopped and nothing of it is left: no process of its ids, no cgroup, no mount anywhere,
no containers-limit socket or spec.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docker

from dockdojo.runner import Engine
from dockdojo.runner.cli import main
from dockdojo.runner.privileged import authz, firewall, processes
from dockdojo.runner.privileged.users import remove
from dockdojo.runner.room import RoomConfig
from dockdojo.runner.room.config import Limits, load_config
from dockdojo.runner.room.engines import LearnerEngine
from dockdojo.runner.room.learners import SUBUID, Learner, lookup


@dataclass(frozen=True)
class Room:
    """A room of its own: a state folder, its settings file, its limits."""

    config: RoomConfig
    file: Path
    """``room.toml`` for the command line."""

    def engine(self, who: Learner) -> LearnerEngine:
        return LearnerEngine(who.name, self.config)

    def cli(self, *args: str) -> int:
        return main(["room", "--config", str(self.file), "engine", *args])


@contextlib.contextmanager
def new_room(port: int, limits: Limits | None = None, extra: str = "") -> Iterator[Room]:
    """A room whose state is a fresh folder that learners may pass through; ``extra`` is
    more of its settings file (TOML tables)."""
    state = Path(tempfile.mkdtemp(prefix="ddroom-", dir="/tmp"))
    state.chmod(0o711)
    limits = limits or Limits()
    file = state.with_suffix(".toml")
    file.write_text(
        f'state = "{state}"\nmirror_port = {port}\n[limits]\n'
        f"containers = {limits.containers}\nmemory_mb = {limits.memory_mb}\n"
        f"pids = {limits.pids}\n{extra}"
    )
    try:
        yield Room(load_config(file), file)
    finally:
        file.unlink(missing_ok=True)
        shutil.rmtree(state, ignore_errors=True)


def new_name() -> str:
    return f"dd-{uuid.uuid4().hex[:8]}"


def add_user(name: str) -> Learner:
    subprocess.run(["useradd", "-m", name], check=True, capture_output=True)
    who = lookup(name)
    assert who is not None
    return who


def remove_user(who: Learner) -> None:
    """``userdel -r`` once the user's processes are gone (an exited process stays a
    zombie until init collects it, and userdel refuses while it does)."""
    remove(who.name)


def subordinate_range(who: Learner) -> range:
    for line in SUBUID.read_text().splitlines():
        owner, start, count = line.split(":")
        if owner == who.name:
            return range(int(start), int(start) + int(count))
    return range(0)


def processes_of(who: Learner, *, zombies: bool = False) -> list[int]:
    """Processes running as the learner or as one of their subordinate ids."""
    return processes.processes_of({who.uid, *subordinate_range(who)}, zombies=zombies)


def leftovers(engine: LearnerEngine, who: Learner) -> list[str]:
    """What of a stopped engine is still there; empty when nothing is."""
    left = [f"process {pid}" for pid in processes_of(who)]
    left += [f"cgroup {f}" for f in engine.cgroup.folders if f.exists()]
    prefixes = (f"{engine.data}/", f"{who.runtime_dir}/")
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            for line in (entry / "mountinfo").read_text().splitlines():
                if line.split()[4].startswith(prefixes):
                    left.append(f"mount {line.split()[4]} (pid {entry.name})")
    left += [f"file {p}" for p in (authz.socket_path(who.name), who.socket) if p.exists()]
    left += [f"firewall rule {r}" for r in firewall.rules(firewall.address(who.uid))]
    net = engine.cgroup.net_path
    left += [f"firewall rule {r}" for r in firewall.rules() if net and net in r]
    return left


@dataclass(frozen=True)
class Seat:
    """A learner in a room: their account and their engine."""

    who: Learner
    engine: LearnerEngine

    @property
    def docker_host(self) -> str:
        return self.who.docker_host


@contextlib.contextmanager
def seats(room: Room, count: int) -> Iterator[list[Seat]]:
    """``count`` new learners with their engines started at once; stopped, checked for
    leftovers and removed afterwards."""
    people = [add_user(new_name()) for _ in range(count)]
    taken = [Seat(who, room.engine(who)) for who in people]
    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            for status in pool.map(lambda s: s.engine.start(), taken):
                assert status.running, status.describe()
        yield taken
    finally:
        try:
            with ThreadPoolExecutor(max_workers=count) as pool:
                list(pool.map(lambda s: s.engine.stop(), taken))
            left = {s.who.name: leftovers(s.engine, s.who) for s in taken}
        finally:
            for seat in taken:
                remove_user(seat.who)
        assert not any(left.values()), f"left behind after stop: {left}"


def published(seat: Seat) -> tuple[str, int]:
    """nginx run the way the docker CLI runs it (-p 80, no address): where it listens."""
    with Engine(seat.docker_host) as engine:
        engine.pull("nginx")
    client = docker.DockerClient(base_url=seat.docker_host)
    try:
        container = client.containers.run("nginx", detach=True, ports={"80/tcp": None})
        container.reload()
        (binding,) = container.attrs["NetworkSettings"]["Ports"]["80/tcp"][:1]
        return binding["HostIp"], int(binding["HostPort"])
    finally:
        client.close()


@contextlib.contextmanager
def engine_of(room: Room, name: str) -> Iterator[LearnerEngine]:
    """The engine of learner ``name`` (whose user the test makes, or has start make);
    stopped afterwards, and the user removed if there is one, whatever happened."""
    engine = LearnerEngine(name, room.config)
    try:
        yield engine
    finally:
        try:
            engine.stop()
        finally:
            who = lookup(name)
            if who is not None:
                remove_user(who)
