"""A learner's own Docker Engine: rootless, run as the learner's Unix user.

``rootlesskit`` gives the engine a user namespace (the learner's subordinate ids), a
mount namespace and a network namespace of its own (slirp4netns), so engines never
share a bridge or an address range, and a container that mounts ``/`` sees only what
the learner may read. dockdojo starts rootlesskit itself, with the flags Debian's
``dockerd-rootless.sh`` gives it minus ``--disable-host-loopback`` (so the engine
reaches the room's mirror on the host's 127.0.0.1 as ``10.0.2.2``), and that script as
its child (``_DOCKERD_ROOTLESS_CHILD=1``), which execs ``dockerd``. The host's firewall
lets the engine's cgroup open no connection to the host but the mirror's
(:func:`dockdojo.runner.privileged.firewall.confine_engine`): not the server's other
services on 127.0.0.1, nor another learner's published ports.

Where things are, for learner ``ada`` (uid 1001) and the room state ``STATE``:

- ``STATE/engines/ada/`` (root's, mode 755): ``daemon.json`` (the engine's only
  settings: the learner's own ``~/.config/docker/daemon.json`` is not read),
  ``plugins/`` (the containers limit's spec), ``engine.log`` (root's; the previous
  start's in ``engine.log.1``), ``limits.log``, pid files, and ``journal.jsonl``: the
  engine's past, recorded by root from the engine's start (:mod:`~dockdojo.runner.engine.journal`),
  which the learner may read and never write;
- ``STATE/engines/ada/data/`` (ada's, mode 700): the data root (images, containers,
  volumes), so a room's disk use is in one place and ``du`` reads it;
- ``/run/user/1001/`` (ada's, mode 700): ``docker.sock`` and the engine's runtime state;
- ``/run/dockdojo/engines/ada.sock`` (:func:`pinned_socket`): the same socket, bound there
  by root once the engine's ``dockerd`` is seen to listen on it
  (:mod:`dockdojo.runner.privileged.peers`). Whatever runs as ada may replace her
  ``docker.sock`` with a program of hers; root (the grader, the instructor's view, the
  journal) reads the engine only here (:attr:`EngineStatus.verified_host`);
- cgroups ``dockdojo/ada`` (:mod:`dockdojo.runner.privileged.cgroups`): memory and
  process limits;
- ``/run/dockdojo/limits/ada.sock``: the containers limit
  (:mod:`dockdojo.runner.privileged.authz`).

What needs root (users, cgroups, mounts, firewall rules, processes) is asked of
:mod:`dockdojo.runner.privileged`.

dockerd looks for plugin specs in ``/etc/docker/plugins`` and asks every plugin it finds
there whenever it looks for volume drivers (each ``-v``): a spec shared by all engines
would make every engine wait for the others' plugins, which it may not reach. So the
engine's own child (:data:`_CHILD`), in the private copy of ``/etc`` rootlesskit gives
it, replaces ``/etc/docker`` with a folder holding links to the host's entries but
``plugins``, which links to this engine's ``plugins/``. The host's ``/etc`` is never
written.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..engine.journal import LABEL as JOURNAL_LABEL
from ..engine.journal import following
from ..errors import HostError, RoomError
from ..privileged import authz, confine, firewall, peers
from ..privileged.cgroups import Cgroup
from ..privileged.mounts import bind_file, mounted, unmount, unmount_under
from ..privileged.processes import (
    As,
    alive,
    end_mount_holders,
    read_pid,
    set_oom_score,
    signal_once,
    spawn,
    terminate,
    write_pid,
)
from ..privileged.run import PATH, locked
from ..privileged.users import (
    POOL_PREFIX,
    REHEARSAL_PREFIX,
    empty_runtime_dir,
    own_folder,
    prepare_runtime_dir,
)
from ..sandbox import answers_ok, engine_answers, journal_recorder
from .config import RoomConfig
from .host import Programs, check_can_run, need_root
from .learners import Learner, check_name, create_learner, existing_learner, lookup
from .status import SCHEMA, EngineStatus, count_folders, disk_usage, rss

if TYPE_CHECKING:
    from .reset import ResetReport

PINS = Path("/run/dockdojo/engines")
"""Root's folder of the engines' pinned sockets."""
START_TIMEOUT = 30.0
"""Seconds a start waits for the engine's API."""
STOP_TIMEOUT = 20.0
"""Seconds a stop waits for the engine to end its containers and itself (dockerd gives
each container its stop timeout, 10 s by default, then 5 s more) before killing them."""
OOM_SCORE_ADJ = -500
"""The engine's own processes (not its containers) are the last the kernel's OOM killer
picks when the learner's memory limit is reached, as for a root dockerd."""

_CHILD = (
    "set -e; plugins=$1; shift; host=$(readlink /etc/docker || true); rm -f /etc/docker; "
    'mkdir /etc/docker; if [ -n "$host" ]; then for entry in "$host"/*; do '
    'if [ -e "$entry" ] && [ "${entry##*/}" != plugins ]; then ln -s "$entry" /etc/docker/; '
    'fi; done; fi; ln -s "$plugins" /etc/docker/plugins; exec "$@"'
)
"""rootlesskit's child (``sh -c _CHILD sh PLUGINS dockerd-rootless.sh ARGS``): this
engine's own ``/etc/docker/plugins``, then the script, which execs dockerd."""


def pinned_socket(learner: str) -> Path:
    """Where root reads ``learner``'s engine: their socket, bound there when it started."""
    return PINS / f"{learner}.sock"


class LearnerEngine:
    """One learner's engine in a room, identified by the learner's name."""

    def __init__(
        self,
        name: str,
        config: RoomConfig,
        *,
        shares: Sequence[Path] | None = None,
        hide: Sequence[Path] = (),
    ) -> None:
        self.name = check_name(name)
        self.config = config
        self.shares = shares
        """Folders the engine may write besides its data root and runtime folder (bind
        mounts of the learner's own files): the learner's home when None."""
        self.hide = tuple(hide)
        """Folders its containers must not see (a grading batch's submissions)."""
        self.folder = config.state / "engines" / name
        self.data = self.folder / "data"
        self.log = self.folder / "engine.log"
        self.journal = self.folder / "journal.jsonl"
        """dockdojo's journal of the engine's past (root's; the learner may read it)."""
        self.cgroup = Cgroup(name)

    def _path(self, name: str) -> Path:
        return self.folder / name

    # status ------------------------------------------------------------------------
    def _pid(self) -> int | None:
        """rootlesskit's pid, when it runs in this engine's cgroup (never a reused pid)."""
        pid = alive(read_pid(self._path("rootlesskit.pid")))
        return pid if pid is not None and pid in self.cgroup.pids() else None

    def _helper_pid(self, pid_file: str, names: Path) -> int | None:
        """The pid in ``pid_file`` when that process runs and its command line names
        ``names`` (never a reused pid): the containers limit's, the journal's."""
        pid = alive(read_pid(self._path(pid_file)))
        if pid is None:
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if str(names).encode() in cmdline else None

    def _limits_pid(self) -> int | None:
        return self._helper_pid("limits.pid", authz.socket_path(self.name))

    def status(self) -> EngineStatus:
        who = lookup(self.name)
        pid = self._pid()
        pin = pinned_socket(self.name)
        running = who is not None and pid is not None and mounted(pin) and engine_answers(pin)
        return EngineStatus(
            learner=self.name,
            uid=who.uid if who else None,
            running=running,
            pid=pid,
            docker_host=who.docker_host if who else "",
            verified_host=f"unix://{pin}" if running else "",
            limits_running=self._limits_pid() is not None
            and _limits_answer(authz.socket_path(self.name)),
            containers=count_folders(self.data / "containers"),
            disk_bytes=disk_usage(self.data),
            memory_bytes=sum(rss(p) for p in self.cgroup.pids()),
            data_root=self.data,
            log=self.log,
        )

    # start -------------------------------------------------------------------------
    def start(self, *, create_user: bool = False) -> EngineStatus:
        """Start the engine (idempotent) and wait until its API answers."""
        programs = check_can_run()
        who = create_learner(self.name) if create_user else existing_learner(self.name)
        with self._locked():
            current = self.status()
            if current.pid is not None:  # it runs (or is starting, or stuck)
                if not current.limits_running:  # without it, every request is refused
                    self._start_limits(who)
                self._wait_ready(who, current.pid)
                if not mounted(pinned_socket(self.name)):
                    self._pin(who, current.pid)
                self._start_journal(0.0)
                return self.status()
            self._end(who)  # whatever a crashed engine left
            prepare_runtime_dir(who)
            self._prepare_folders(who)
            firewall.guard(firewall.address(who.uid), who.uid)
            self.cgroup.create(memory_mb=self.config.limits.memory_mb, pids=self.config.limits.pids)
            firewall.confine_engine(self.cgroup.require_net_path(), self.config.mirror_port)
            self._start_limits(who)
            launched = time.time()
            pid = self._launch(who, programs)
            try:
                self._wait_ready(who, pid)
                self._pin(who, pid)
                self._start_journal(launched)
            except (RoomError, HostError):
                self._end(who)
                raise
            self._protect_engine()
            return self.status()

    def _prepare_folders(self, who: Learner) -> None:
        self.config.state.mkdir(mode=0o711, parents=True, exist_ok=True)
        for folder in (self.config.state / "engines", self.folder):
            folder.mkdir(mode=0o711, exist_ok=True)
        self.folder.chmod(0o755)
        for folder in [*reversed(self.folder.parents), self.folder]:
            if folder.stat().st_mode & 0o001 == 0:
                raise RoomError(
                    f"{folder} is closed to other users, so {who.name}'s engine cannot "
                    "reach its data root below it.",
                    f"Let users pass through it (chmod o+x {folder}), or choose another "
                    "room state in room.toml.",
                )
        if own_folder(self.data, who):
            self.journal.unlink(missing_ok=True)  # an empty engine has no past
        else:
            owner = self.data.lstat().st_uid
            if self.data.is_symlink() or owner != who.uid:
                raise RoomError(
                    f"{self.data} belongs to uid {owner}, not to {who.name} ({who.uid}): "
                    "an engine of an earlier user of that name.",
                    f"Remove it (rm -rf {self.data}) to give {who.name} an empty engine.",
                )
        settings = {
            "data-root": str(self.data),
            "registry-mirrors": [self.config.mirror_url],
            "insecure-registries": [f"10.0.2.2:{self.config.mirror_port}"],
            "authorization-plugins": [authz.plugin_name(self.name)],
            "ip": firewall.address(who.uid),  # published ports: the learner's alone
            "labels": [f"{JOURNAL_LABEL}={self.journal}"],
        }
        daemon = self._path("daemon.json")
        daemon.write_text(json.dumps(settings, indent=2) + "\n")
        daemon.chmod(0o644)
        if self.log.exists():
            self.log.replace(self._path("engine.log.1"))
        self.log.touch(mode=0o600)

    def _start_limits(self, who: Learner) -> None:
        terminate(self._limits_pid(), "the containers limit")
        authz.SOCKETS.mkdir(parents=True, exist_ok=True)
        authz.SOCKETS.chmod(0o755)
        sock = authz.socket_path(self.name)
        plugins = self._path("plugins")
        plugins.mkdir(mode=0o755, exist_ok=True)
        spec = plugins / f"{authz.plugin_name(self.name)}.spec"
        spec.write_text(f"unix://{sock}\n")
        spec.chmod(0o644)
        pid = spawn(
            [
                sys.executable,
                "-I",
                authz.__file__,
                str(sock),
                str(who.uid),
                str(self.data / "containers"),
                str(self.config.limits.containers),
                firewall.address(who.uid),
            ],
            self._path("limits.log"),
        )
        write_pid(self._path("limits.pid"), pid)
        deadline = time.monotonic() + 10.0
        while not _limits_answer(sock):
            if time.monotonic() > deadline or alive(pid) is None:
                raise RoomError(
                    f"The containers limit of {self.name}'s engine did not start.\n"
                    + _tail(self._path("limits.log")),
                    "Fix what the log says, then start the engine again.",
                )
            time.sleep(0.02)

    def _journal_pid(self) -> int | None:
        return self._helper_pid("journal.pid", self.journal)

    def _start_journal(self, since: float) -> None:
        """Record the engine's past from ``since`` (:mod:`~dockdojo.runner.engine.journal`),
        as root, in the engine's folder, which the learner may read but not write."""
        if self._journal_pid() is not None:
            return
        spawned = time.time()
        pid = spawn(
            journal_recorder(f"unix://{pinned_socket(self.name)}", self.journal, since),
            self._path("journal.log"),
        )
        write_pid(self._path("journal.pid"), pid)
        deadline = time.monotonic() + START_TIMEOUT
        while not following(self.journal, spawned):
            if alive(pid) is None or time.monotonic() > deadline:
                raise RoomError(
                    f"The journal of {self.name}'s engine did not start. Last lines of "
                    f"{self._path('journal.log')}:\n{_tail(self._path('journal.log'))}",
                    f"Fix what the log says, then: dockdojo room engine start {self.name}",
                )
            time.sleep(0.05)

    def _launch(self, who: Learner, programs: Programs) -> int:
        runtime = who.runtime_dir
        user = As(
            uid=who.uid,
            gid=who.gid,
            cwd=who.home,
            env={
                "HOME": str(who.home),
                "USER": who.name,
                "LOGNAME": who.name,
                "PATH": PATH,
                "XDG_RUNTIME_DIR": str(runtime),
                "_DOCKERD_ROOTLESS_CHILD": "1",
            },
        )
        pid = spawn(
            [
                sys.executable,
                "-I",
                str(confine.__file__),
                json.dumps(self._confinement(who, user)),
                "--",
                programs.rootlesskit,
                f"--state-dir={runtime}/dockerd-rootless",
                "--net=slirp4netns",
                "--mtu=65520",
                "--slirp4netns-sandbox=auto",
                "--slirp4netns-seccomp=auto",
                "--port-driver=builtin",
                "--copy-up=/etc",
                "--copy-up=/run",
                "--propagation=rslave",
                "/bin/sh",
                "-c",
                _CHILD,
                "sh",
                str(self._path("plugins")),
                programs.script,
                "--config-file",
                str(self._path("daemon.json")),
            ],
            self.log,
            cgroups=self.cgroup.procs_files,
            hint=f"Check that rootlesskit runs: {programs.rootlesskit} --version",
        )
        write_pid(self._path("rootlesskit.pid"), pid)
        return pid

    def _confinement(self, who: Learner, user: As) -> dict[str, object]:
        """How :mod:`~dockdojo.runner.privileged.confine` starts the engine: as the
        learner, with every file system read-only but its data root, its runtime folder
        and its shares (nosuid, nodev), a ``/tmp``, ``/var/tmp`` and ``/dev/shm`` of its
        own (tmpfs, charged to its memory limit, gone when it ends), and :attr:`hide`
        covered. A container's bind mount of ``/tmp``, or a process that enters the
        engine's namespaces, can then leave nothing where it outlives the engine."""
        shares = [who.home] if self.shares is None else list(self.shares)
        writable = [str(p) for p in (self.data, who.runtime_dir, *shares)]
        needed = [*writable, str(self.folder), str(authz.SOCKETS)]
        return {
            "writable": writable,
            "network": False,  # slirp4netns, which rootlesskit starts, needs the host's
            "no_new_privs": False,  # rootlesskit runs the set-uid newuidmap
            # its own, gone when it ends (rootlesskit needs a writable /tmp)
            "tmpfs": {
                "/tmp": "size=256m,mode=1777",
                "/var/tmp": "size=256m,mode=1777",
                "/dev/shm": "size=64m,mode=1777",
            },
            "keep": needed,
            "hide": confine.hidden([str(h) for h in self.hide], needed),
            "uid": user.uid,
            "gid": user.gid,
            "umask": 0o022,
            "cwd": str(user.cwd),
            "env": dict(user.env),
        }

    def _wait_ready(self, who: Learner, pid: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        pin = pinned_socket(self.name)
        while not engine_answers(pin if mounted(pin) else who.socket):  # once pinned, the pin
            if alive(pid) is None:
                raise RoomError(
                    f"{self.name}'s engine stopped while starting. Last lines of "
                    f"{self.log}:\n{_tail(self.log)}",
                    f"Fix what the log says, then: dockdojo room engine start {self.name}",
                )
            if time.monotonic() > deadline:
                raise RoomError(
                    f"{self.name}'s engine did not answer within {START_TIMEOUT:.0f} s. "
                    f"Last lines of {self.log}:\n{_tail(self.log)}",
                    f"Fix what the log says, then: dockdojo room engine stop {self.name} "
                    f"and dockdojo room engine start {self.name}",
                )
            time.sleep(0.02)

    def _pin(self, who: Learner, pid: int) -> None:
        """Bind the engine's socket where only root can change it, once what listens on
        it is seen to be this engine's dockerd; :class:`RoomError` when it is not."""
        PINS.mkdir(parents=True, exist_ok=True)
        PINS.chmod(0o755)
        pin = pinned_socket(self.name)
        bind_file(who.socket, pin)
        found = peers.peer(pin)
        launcher = Path(os.path.realpath(f"/proc/{pid}/exe"))
        daemon = shutil.which("dockerd", path=PATH)  # what dockerd-rootless.sh runs
        if daemon is None or not peers.is_engine(
            found, root=pid, launcher=launcher, program=Path(daemon)
        ):
            unmount(pin)
            pin.unlink(missing_ok=True)
            raise RoomError(
                f"What listens on {who.socket} is not {self.name}'s engine ({found.describe()}): "
                "something running as the learner replaced the engine's socket.",
                f"Stop the engine (dockdojo room engine stop {self.name}), end what runs as "
                f"{self.name}, and start it again.",
            )

    def _protect_engine(self) -> None:
        """The engine's own processes (not its future containers) last for the OOM killer.

        Lowering ``oom_score_adj`` needs CAP_SYS_RESOURCE, which root has on a server but
        not in every virtual machine or container; without it the kernel still kills
        within the learner's cgroup only, choosing by size alone."""
        set_oom_score(self.cgroup.pids(), OOM_SCORE_ADJ)

    # stop --------------------------------------------------------------------------
    def stop(self) -> EngineStatus:
        """Stop the engine and everything it runs; leave no process, cgroup or mount."""
        need_root("Stopping a learner engine")
        who = lookup(self.name)
        with self._locked():
            pid = self._pid()
            if pid is not None:
                signal_once(pid, signal.SIGTERM)  # rootlesskit passes it on to dockerd
                deadline = time.monotonic() + STOP_TIMEOUT
                while self.cgroup.pids() and time.monotonic() < deadline:
                    time.sleep(0.05)
            self._end(who)
        return self.status()

    def discard(self) -> None:
        """End the engine at once (no container is given time to stop) and delete its data
        root: for an engine whose contents matter to nobody, such as a graded
        submission's once its checks have read it."""
        need_root("Discarding a learner engine")
        with self._locked():
            who = lookup(self.name)
            self._end(who)
            shutil.rmtree(self.data, ignore_errors=True)
            self.journal.unlink(missing_ok=True)
            if who is not None:  # the engine's runtime state (pid files name dead pids)
                empty_runtime_dir(who)
            if self.data.exists():
                raise RoomError(
                    f"{self.data} could not be deleted.",
                    f"Check what still uses it (fuser -vm {self.data}), then delete it.",
                )

    def _end(self, who: Learner | None) -> None:
        """End every process of the engine, its containers limit and its cgroup."""
        self.cgroup.kill()
        terminate(self._limits_pid(), "the containers limit")
        terminate(self._journal_pid(), "the engine's journal")
        pin = pinned_socket(self.name)
        while mounted(pin):
            unmount(pin)
        pin.unlink(missing_ok=True)
        unmount_under(self.data)
        if who is not None:
            # a shell the learner entered the engine's namespaces with: theirs, it goes
            held = (self.data, who.runtime_dir / "docker")
            end_mount_holders(held, who.uid, f"{self.name}'s engine")
            firewall.unguard(firewall.address(who.uid))
        if self.cgroup.net_path is not None:
            firewall.release_engine(self.cgroup.net_path)
        self.cgroup.remove()
        for path in (
            self._path("rootlesskit.pid"),
            self._path("limits.pid"),
            self._path("journal.pid"),
            authz.socket_path(self.name),
        ):
            path.unlink(missing_ok=True)
        if who is not None:  # what the engine leaves when it is killed (files only)
            for name in ("docker.sock", "docker.pid"):
                with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                    (who.runtime_dir / name).unlink()

    # reset -------------------------------------------------------------------------
    def reset(self, *, lesson: str | None = None, images: bool = False) -> ResetReport:
        """Empty the running engine (:mod:`.reset` says what goes and what stays)."""
        need_root("Resetting a learner engine")
        from ..engine import Engine
        from .reset import reset_engine

        with self._locked():
            status = self.status()
            if not status.running:
                raise RoomError(
                    f"{self.name}'s engine is not running, so there is nothing to reset.",
                    f"Start it: dockdojo room engine start {self.name}",
                )
            with Engine(status.verified_host, learner=self.name) as engine:
                return reset_engine(engine, self.name, self.config, lesson=lesson, images=images)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One start, stop or reset of this learner's engine at a time."""
        locks = self.config.state / "engines"
        locks.mkdir(mode=0o711, parents=True, exist_ok=True)
        with locked(locks / f".{self.name}.lock"):
            yield


def engine_names(config: RoomConfig) -> list[str]:
    """Learners who have (or had) an engine in this room (not grading's pool users nor
    rehearsals: their own code ends their engines)."""
    folder = config.state / "engines"
    if not folder.is_dir():
        return []
    return sorted(
        p.name
        for p in folder.iterdir()
        if p.is_dir() and not p.name.startswith((".", POOL_PREFIX, REHEARSAL_PREFIX))
    )


# helpers ---------------------------------------------------------------------------
def _limits_answer(sock: Path) -> bool:
    """Whether the containers limit answers its activation call."""
    return answers_ok(sock, b"POST /Plugin.Activate HTTP/1.0\r\nContent-Length: 0\r\n\r\n")


def _noise(line: str) -> bool:
    return line.startswith("+ ") or "module=grpc" in line


def _tail(log: Path, lines: int = 12) -> str:
    """The log's last lines, without the start script's trace and gRPC chatter."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log)"
    kept = [line for line in text.splitlines() if not _noise(line)]
    return "\n".join(kept[-lines:])


__all__ = ["SCHEMA", "EngineStatus", "LearnerEngine", "engine_names"]
