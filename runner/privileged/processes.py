"""Processes: starting daemons (optionally as another user, joined to cgroups), pid
files, and ending processes: one, those naming a folder, those of a user, those holding
mounts of a folder.

:func:`spawn` starts a daemon that is not our child (it outlives us and never becomes our
zombie): a short Python program, run as a child, joins the cgroups, opens the log and
starts the daemon in a session of its own, then prints its pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import HostError
from .run import PATH

STOP_TIMEOUT = 30.0
"""Seconds :func:`terminate` waits after SIGTERM before SIGKILL."""

_LAUNCH = """
import json, os, subprocess, sys
spec = json.loads(sys.argv[1])
for procs in spec["cgroups"]:
    with open(procs, "w") as f:
        f.write(str(os.getpid()))
log = open(spec["log"], "ab")
user = spec["user"]
extra = {} if user is None else {"user": user[0], "group": user[1], "extra_groups": []}
proc = subprocess.Popen(spec["argv"], env=spec["env"], cwd=spec["cwd"], umask=spec["umask"],
                        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                        start_new_session=True, close_fds=True, **extra)
print(proc.pid)
"""


@dataclass(frozen=True)
class As:
    """Whom a daemon runs as, and with what around it."""

    uid: int
    """User id."""
    gid: int
    """Primary group id (no supplementary groups)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Its whole environment."""
    cwd: Path | None = None
    """Its working folder."""


def spawn(
    argv: Sequence[str],
    log: Path,
    *,
    user: As | None = None,
    cgroups: Sequence[Path] = (),
    hint: str = "",
) -> int:
    """Start ``argv`` detached (output appended to ``log``), as ``user`` when given (else
    as we are, with our environment), after joining ``cgroups`` (their ``cgroup.procs``
    files); return its pid. :class:`HostError` when it cannot start."""
    spec = {
        "argv": list(argv),
        "log": str(log),
        "cgroups": [str(p) for p in cgroups],
        "user": None if user is None else [user.uid, user.gid],
        "env": dict(os.environ) if user is None else dict(user.env),
        "cwd": None if user is None or user.cwd is None else str(user.cwd),
        "umask": -1 if user is None else 0o022,
    }
    done = subprocess.run(
        [sys.executable, "-I", "-c", _LAUNCH, json.dumps(spec)],
        capture_output=True,
        text=True,
        env={"PATH": PATH},
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise HostError(
            f"Could not start {argv[0]}: {last}",
            hint or f"Check that the program runs: {argv[0]} --version",
        )
    return int(done.stdout.strip())


def run_as(
    user: As, argv: Sequence[str], *, timeout: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as ``user`` (no supplementary groups) and wait for it; its output is
    captured and its exit status is the caller's to judge."""
    return subprocess.run(
        list(argv),
        user=user.uid,
        group=user.gid,
        extra_groups=[],
        env=dict(user.env),
        cwd=user.cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def read_pid(path: Path) -> int | None:
    """The process id written in ``path``, or None when there is none."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def write_pid(path: Path, pid: int) -> None:
    """Record ``pid`` in ``path``."""
    path.write_text(f"{pid}\n")


def alive(pid: int | None) -> int | None:
    """``pid`` while that process lives (a zombie does not), else None."""
    if pid is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # A zombie (state Z) has exited; its parent has not collected it yet.
    return None if stat.rsplit(")", 1)[-1].split()[0] == "Z" else pid


def signal_once(pid: int, sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to ``pid``; a process that is gone already is no error."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def set_oom_score(pids: Sequence[int], score: int) -> None:
    """Set the OOM killer's ``oom_score_adj`` of ``pids`` (those that are gone, or that
    may not be lowered here, are skipped)."""
    for pid in pids:
        with contextlib.suppress(OSError):
            Path(f"/proc/{pid}/oom_score_adj").write_text(f"{score}\n")


def terminate(pid: int | None, what: str, timeout: float = STOP_TIMEOUT) -> None:
    """Stop ``pid`` (SIGTERM, then SIGKILL after ``timeout``); ``what`` names it in errors."""
    if alive(pid) is None:
        return
    assert pid is not None
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive(pid) is None:
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    time.sleep(0.2)
    if alive(pid) is not None:
        raise HostError(f"{what} (pid {pid}) would not stop.", f"Kill it by hand: kill -9 {pid}")


ENGINE_PROGRAMS = (
    "dockerd",
    "containerd",
    "containerd-shim",
    "containerd-shim-runc-v2",
    "docker-proxy",
    "docker-registry",
    "registry",
    "runc",
)
"""Programs :func:`processes_using` looks for."""


def processes_using(folder: Path) -> list[int]:
    """Live engine processes (dockerd, containerd, shims, proxies, the registry) whose
    command line names ``folder``: the ones started for it, and nobody else's."""
    needle = str(folder).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            program = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if (
            program.startswith(ENGINE_PROGRAMS)
            and needle in cmdline
            and alive(int(entry.name)) is not None
        ):
            found.append(int(entry.name))
    return found


def processes_of(uids: Collection[int], *, zombies: bool = False) -> list[int]:
    """Processes whose real or effective user id is one of ``uids`` (a learner's, and
    their subordinate ids); exited ones (zombies) only with ``zombies``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        ids = [int(i) for i in fields.get("Uid", "").split()[:2]]
        zombie = fields.get("State", "").strip().startswith("Z")
        if any(i in uids for i in ids) and (zombies or not zombie):
            found.append(int(entry.name))
    return found


def kill_user(uid: int, timeout: float = 10.0) -> None:
    """Kill every process of ``uid`` (repeating, so a forking process cannot outrun it)."""
    deadline = time.monotonic() + timeout
    while True:
        found = processes_of({uid})
        if not found:
            return
        for pid in found:
            signal_once(pid)
        if time.monotonic() > deadline:
            raise HostError(
                f"Processes {', '.join(map(str, found))} of uid {uid} would not end.",
                "Kill them by hand: kill -9 " + " ".join(map(str, found)),
            )
        time.sleep(0.02)


def processes_with_mounts_under(folders: Sequence[Path]) -> list[tuple[int, int]]:
    """(pid, uid) of processes in another mount namespace than ours whose mount table
    has a mount point below ``folders``."""
    prefixes = tuple(f"{f}/" for f in folders)
    ours = os.readlink("/proc/self/ns/mnt")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.readlink(entry / "ns" / "mnt") == ours:
                continue
            lines = (entry / "mountinfo").read_text().splitlines()
            uid = entry.stat().st_uid
        except OSError:
            continue
        points = (line.split()[4] for line in lines if len(line.split()) > 4)
        if any(p.startswith(prefixes) for p in points) and alive(int(entry.name)):
            found.append((int(entry.name), uid))
    return found


def end_mount_holders(folders: Sequence[Path], uid: int, what: str) -> None:
    """Kill the processes of ``uid`` that hold mounts below ``folders`` (a shell that
    entered an engine's namespaces); one of another user's raises :class:`HostError`."""
    for pid, owner in processes_with_mounts_under(folders):
        if owner != uid:
            raise HostError(
                f"Process {pid} (uid {owner}) still holds mounts of {what}.",
                f"End it (kill {pid}), then stop the engine again.",
            )
        signal_once(pid)


__all__ = [
    "As",
    "alive",
    "end_mount_holders",
    "kill_user",
    "processes_of",
    "processes_using",
    "processes_with_mounts_under",
    "read_pid",
    "run_as",
    "set_oom_score",
    "signal_once",
    "spawn",
    "terminate",
    "write_pid",
]
