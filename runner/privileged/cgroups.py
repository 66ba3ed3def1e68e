"""A learner engine's cgroup: its memory and process limits, and ending it as a whole.

The engine's first process joins the group before it starts anything, so rootlesskit,
dockerd, containerd, slirp4netns, the shims and every container process are in it (a
rootless engine cannot move its containers elsewhere). Both layouts are handled:

- cgroup v1 (this project's Debian servers): a folder ``dockdojo/LEARNER`` in each of
  the ``pids``, ``memory`` and (when mounted) ``freezer`` hierarchies;
- cgroup v2 (the unified hierarchy): one folder ``/sys/fs/cgroup/dockdojo/LEARNER``
  with the ``pids`` and ``memory`` controllers enabled above it.

The firewall tells the engine's connections apart by the group's path in the unified
hierarchy (``iptables -m cgroup --path dockdojo/LEARNER``, :meth:`Cgroup.net_path`): on
v1 the group also has a folder in ``/sys/fs/cgroup/unified`` when that is mounted.

The parent ``dockdojo`` group caps all learner engines together (:func:`room_caps`), so
a room whose learners all reach their limits still leaves the server room to work.

Ending a group: freeze it (so nothing forks meanwhile), kill every process, thaw it,
wait until it is empty, then remove its folders.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from ..errors import HostError
from .processes import signal_once
from .run import locked

ROOT = Path("/sys/fs/cgroup")
GROUP = "dockdojo"
"""The folder under which every learner engine's group is made."""
_V1_CONTROLLERS = ("pids", "memory", "freezer", "cpuacct", "unified")
"""v1 hierarchies a group has a folder in, when mounted (``unified``: the v2 hierarchy
beside them, with no controller, where the firewall finds the group)."""
LOCK = Path("/run/dockdojo/cgroups.lock")
"""Held while a group is made or removed: removing the last group also removes the parent
``dockdojo`` group, which must not vanish while another group is being made in it."""


class Cgroup:
    """The cgroup of one learner's engine, named after the learner."""

    def __init__(self, name: str, root: Path = ROOT) -> None:
        self.name = name
        self.root = root
        self.v2 = (root / "cgroup.controllers").is_file()

    # where -------------------------------------------------------------------------
    @property
    def folders(self) -> list[Path]:
        """This group's folders (one on v2; one per mounted controller on v1)."""
        if self.v2:
            return [self.root / GROUP / self.name]
        return [
            self.root / c / GROUP / self.name
            for c in _V1_CONTROLLERS
            if (self.root / c / "cgroup.procs").is_file()
        ]

    def _folder(self, controller: str) -> Path | None:
        if self.v2:
            return self.root / GROUP / self.name
        folder = self.root / controller / GROUP / self.name
        return folder if (self.root / controller / "cgroup.procs").is_file() else None

    @property
    def procs_files(self) -> list[Path]:
        """The files a process writes its pid to in order to join the group."""
        return [f / "cgroup.procs" for f in self.folders]

    @property
    def net_path(self) -> str | None:
        """The group's path in the unified hierarchy, as ``iptables -m cgroup --path``
        names it; None when there is no unified hierarchy (v1 without ``unified``)."""
        if self.v2 or (self.root / "unified" / "cgroup.procs").is_file():
            return f"{GROUP}/{self.name}"
        return None

    def require_net_path(self) -> str:
        """:attr:`net_path`, or :class:`HostError` saying how to get one."""
        if self.net_path is None:
            raise HostError(
                "This server has no unified cgroup hierarchy, so the firewall cannot tell "
                f"{self.name}'s engine apart: it would reach every service on 127.0.0.1.",
                "Mount it (mount -t cgroup2 none /sys/fs/cgroup/unified) or boot with "
                "cgroup v2, then start the engine again.",
            )
        return self.net_path

    def exists(self) -> bool:
        return any(f.is_dir() for f in self.folders)

    def pids(self) -> list[int]:
        """Every process in the group."""
        folder = self._folder("pids")
        if folder is None:
            return []
        try:
            text = (folder / "cgroup.procs").read_text()
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def cpu_seconds(self) -> float:
        """CPU time every process of the group has used so far, in seconds."""
        try:
            if self.v2:
                for line in (self.root / GROUP / self.name / "cpu.stat").read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "usage_usec":
                        return int(value) / 1e6
                return 0.0
            folder = self._folder("cpuacct")
            return int((folder / "cpuacct.usage").read_text()) / 1e9 if folder else 0.0
        except (OSError, ValueError):
            return 0.0

    def out_of_memory(self) -> bool:
        """Whether the kernel killed a process of the group for reaching its memory limit."""
        folder = self._folder("memory")
        if folder is None:
            return False
        name = "memory.events" if self.v2 else "memory.oom_control"
        try:
            lines = (folder / name).read_text().splitlines()
        except OSError:
            return False
        for line in lines:
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value) > 0
        return False

    # lifecycle ---------------------------------------------------------------------
    def create(self, *, memory_mb: int, pids: int) -> None:
        """Make the group (or keep it) and set its memory (MiB) and process limits."""
        most_pids = pids
        pids_folder = self._folder("pids")
        memory = self._folder("memory")
        if pids_folder is None or memory is None:
            raise HostError(
                "This server has no pids or memory cgroup controller, so a learner "
                "engine's limits cannot be enforced.",
                "Boot with the pids and memory controllers enabled (cgroup v1 mounts "
                "under /sys/fs/cgroup/pids and /sys/fs/cgroup/memory, or cgroup v2).",
            )
        with locked(LOCK):
            self._create(pids_folder, memory, memory_mb << 20, most_pids)

    def _create(self, pids: Path, memory: Path, memory_bytes: int, most_pids: int) -> None:
        try:
            if self.v2:
                _enable_controllers(self.root)
                _enable_controllers(self.root / GROUP)
            for folder in self.folders:
                folder.mkdir(parents=True, exist_ok=True)
            room_pids, room_memory = room_caps()
            _write(pids.parent / "pids.max", room_pids)
            _write(pids / "pids.max", most_pids)
            for folder, most in ((memory.parent, room_memory), (memory, memory_bytes)):
                self._limit_memory(folder, most)
        except OSError as exc:
            raise HostError(
                f"Could not set up the cgroup of {self.name}'s engine: {exc}.",
                "Check that /sys/fs/cgroup is writable by root (not a read-only container mount).",
            ) from exc

    def _limit_memory(self, folder: Path, most: int) -> None:
        if self.v2:
            _write(folder / "memory.max", most)
            return
        _write(folder / "memory.limit_in_bytes", most)
        swap = folder / "memory.memsw.limit_in_bytes"  # with swap accounting only
        if swap.exists():
            _write(swap, most)

    def kill(self, timeout: float = 10.0) -> None:
        """Kill every process in the group and wait until it is empty."""
        deadline = time.monotonic() + timeout
        while self.pids() and time.monotonic() < deadline:
            self._freeze(True)
            for pid in self.pids():
                signal_once(pid)
            self._freeze(False)
            time.sleep(0.05)
        left = self.pids()
        if left:
            raise HostError(
                f"Processes {', '.join(map(str, left))} of {self.name}'s engine would not end.",
                "Kill them by hand: kill -9 " + " ".join(map(str, left)),
            )

    def remove(self) -> None:
        """Remove the group's folders (it must be empty); the parent goes when unused."""
        with locked(LOCK):
            self._remove()

    def _remove(self) -> None:
        for folder in self.folders:
            try:
                folder.rmdir()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise HostError(
                    f"Could not remove the cgroup {folder}: {exc.strerror}.",
                    f"Stop what runs in it, then: rmdir {folder}",
                ) from exc
            with contextlib.suppress(OSError):  # it may hold another learner's group
                folder.parent.rmdir()

    def _freeze(self, frozen: bool) -> None:
        if self.v2:
            control = self.root / GROUP / self.name / "cgroup.freeze"
            value = "1" if frozen else "0"
        else:
            control = self.root / "freezer" / GROUP / self.name / "freezer.state"
            value = "FROZEN" if frozen else "THAWED"
        if not control.exists():
            return
        with contextlib.suppress(OSError):
            control.write_text(value)
            deadline = time.monotonic() + 2.0
            while frozen and not self.v2 and time.monotonic() < deadline:
                if control.read_text().strip() == "FROZEN":
                    break
                time.sleep(0.01)


def room_caps() -> tuple[int, int]:
    """(processes, memory bytes) every learner engine together may use: a quarter of the
    server's process ids and 10 % of its memory (at least 1 GiB) stay for the server,
    whatever the learners do, as each learner's limits times the learners may be more."""
    most_pids = min(_read_int("pid_max"), _read_int("threads-max"))
    total = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            total = int(line.split()[1]) * 1024
    return most_pids * 3 // 4, (total - max(1 << 30, total // 10)) >> 20 << 20


def _read_int(setting: str) -> int:
    return int((Path("/proc/sys/kernel") / setting).read_text().split()[0])


def _write(path: Path, value: int) -> None:
    path.write_text(f"{value}\n")


def _enable_controllers(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    control = folder / "cgroup.subtree_control"
    enabled = control.read_text().split()
    wanted = [c for c in ("pids", "memory") if c not in enabled]
    if wanted:
        control.write_text(" ".join(f"+{c}" for c in wanted))


__all__ = ["GROUP", "Cgroup", "room_caps"]
