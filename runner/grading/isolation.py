"""Where an untrusted submission runs: a pool user, a throwaway engine, a confined kernel.

A grading batch holds a **pool** of Unix users, ``dd-grade-1`` ... ``dd-grade-N``, one per
``--jobs`` slot (made when the batch starts, removed when it ends; one batch per room at
a time). Each submission takes a free slot and gets, for itself alone, a :class:`Box`:

- a **work folder**, ``/run/dockdojo/grading/USER``: a tmpfs of ``disk_mb`` owned by the
  pool user (mode 700) holding the notebook's folder, the kernel's connection file and
  sockets, and what the kernel sees as its home, ``/tmp``, ``/var/tmp`` and ``/dev/shm``;
- a **rootless engine** of the room (:mod:`dockdojo.runner.room.engines`) with an empty
  data root, pulling from the room's read-only mirror;
- a **cgroup** for the kernel and everything it starts (memory, processes, CPU time),
  which :mod:`dockdojo.runner.privileged.confine` joins before the kernel runs, in mount
  and network namespaces of its own where every other file system is read-only.

When the submission ends (or reaches a limit), the kernel's group is killed as a whole;
the checks then read the engine from the grader's process; then the engine is killed,
its data root deleted, anything left of the pool user's ended, and the work folder
unmounted. Nothing of one submission meets the next.

Pool users are made by :func:`dockdojo.runner.privileged.users.add`, which writes them
down in root's record; cleanup removes only users found there with the same uid and
home, never another user who merely has a pool user's name. What needs root is asked
of :mod:`dockdojo.runner.privileged`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import re
import shutil
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager

from ..context import learner_tag
from ..environ import HOST_IP as HOST_IP_VARIABLE
from ..environ import LEARNER, graded_widgets, handed_tags
from ..environ import LEARNER_TAG as TAG_VARIABLE
from ..errors import DockdojoError, HostError
from ..privileged import confine, firewall, leftovers
from ..privileged.cgroups import Cgroup
from ..privileged.mounts import mount_tmpfs, unmount, unmount_under
from ..privileged.processes import kill_user
from ..privileged.run import PATH
from ..privileged.users import POOL_PREFIX, UserName, hand_over, made_users, own_folder, remove
from ..room import RoomConfig
from ..room.engines import LearnerEngine, pinned_socket
from ..room.host import check_can_run
from ..room.learners import Learner, create_learner, lookup
from ..room.pyenv import KernelEnv
from ..room.salt import room_salt
from .options import Confinement

POOL = re.compile(rf"{POOL_PREFIX}\d+\Z")
"""Pool users' names."""
OWN_RUNTIME = Path("/run/dockdojo")
"""dockdojo's own runtime folder (root's): what is in it is dockdojo's to delete."""
WORK_ROOT = OWN_RUNTIME / "grading"
"""Where each pool user's work folder is mounted."""


class Pool:
    """The batch's pool users, handed out one per running submission."""

    def __init__(
        self,
        room: RoomConfig,
        size: int,
        kernel: KernelEnv,
        hide: Sequence[Path] = (),
        *,
        ahead: tuple[str, Confinement] | None = None,
        count: int = 0,
        spares: int = 0,
    ) -> None:
        self.room = room
        self.kernel = kernel
        self.hide = tuple(hide)
        """Folders no submission's kernel or container sees (the submissions, reports)."""
        self.names = [UserName.pool(n) for n in range(1, max(1, size) + max(0, spares) + 1)]
        self._spares = self.names[max(1, size) :]
        """Users whose first box is opened once a first submission has taken its own
        (so that those first boxes open sooner); ready after that as any other."""
        self.ahead = ahead
        """The lesson and limits of the boxes to open before they are asked for (a
        batch's): each pool user's box is opened, and opened again once cleared, in the
        background, so a submission finds its box ready. None: opened when asked for."""
        self._to_open = count
        """How many more boxes to open ahead: the batch's submissions not yet given one."""
        self._count_lock = threading.Lock()
        self._ready: queue.Queue[str | Box] = queue.Queue()
        """Free pool users: as a name (open a box when asked) or an opened box."""
        self._background: ThreadPoolExecutor | None = None
        self._lock: Any = None

    def __enter__(self) -> Pool:
        if os.geteuid() != 0 or sys.platform != "linux":
            raise DockdojoError(
                "Grading untrusted submissions needs Linux and root: each one runs as a "
                "user of its own with an engine of its own.",
                "Grade as root on the room's server, or add --trusted for your own test "
                "notebooks (they then run as you, on the current engine).",
            )
        check_can_run()
        self.room.state.mkdir(mode=0o711, parents=True, exist_ok=True)
        room_salt(self.room)  # made now if the room has none: tags need it from the start
        self._lock = (self.room.state / "grading.lock").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise DockdojoError(
                f"Another dockdojo grade is running on the room {self.room.state}.",
                "Wait until it ends (its pool users are dd-grade-*), then grade again.",
            ) from None
        try:
            clear_leftovers(self.room)  # what a grader that was killed left
            self._make_users()
            self._background = ThreadPoolExecutor(len(self.names), "dockdojo-box")
            if self.ahead is None:
                self._spares = []  # nothing is opened ahead: every user is free at once
            for name in self.names:
                if name not in self._spares:
                    self._background.submit(self._recycle, name)
        except BaseException:
            self.__exit__()
            raise
        return self

    def _make_users(self) -> None:
        """The pool's users, made now; :class:`DockdojoError` when a user of such a name
        is someone else's, or files of an earlier owner of their ids remain."""
        for name in self.names:
            if lookup(name) is not None:  # not made by the pool: someone else's
                raise DockdojoError(
                    f"A user {name} exists that dockdojo's grading pool did not make.",
                    f"Rename or remove that user (userdel -r {name}) if it is no one's, "
                    "then grade again.",
                )
            create_learner(name)
        made = [who for who in map(lookup, self.names) if who is not None]
        try:
            _check_unowned(made)
        except DockdojoError:  # the files are not the pool's: they stay where they are
            for who in made:
                remove(who.name)
            raise

    def __exit__(self, *_: object) -> None:
        try:
            if self._background is not None:
                self.ahead = None  # nothing more is opened
                self._background.shutdown(wait=True)
            clear_leftovers(self.room)  # the boxes opened ahead and never used too
        finally:
            if self._lock is not None:
                self._lock.close()

    @contextlib.contextmanager
    def box(self, lesson: str, learner_id: str, limits: Confinement) -> Iterator[Box]:
        """A fresh box on a free pool user for one submission (opened ahead, or now);
        cleared when it ends, in the background when the pool opens boxes ahead."""
        free = self._ready.get()
        if isinstance(free, Box) and (free.lesson, free.limits) != (lesson, limits):
            free.close()  # opened for another lesson or limits
            free = free.who.name
        if isinstance(free, Box):
            box = free
        else:
            who = lookup(free)
            assert who is not None
            box = Box(who, self.room, self.kernel, limits, lesson, self.hide)
            try:
                box.open()
            except BaseException:
                self._put_back(box)
                raise
        box.learner = learner_id
        self._open_a_spare()
        try:
            yield box
        finally:
            self._put_back(box)

    def _open_a_spare(self) -> None:
        with self._count_lock:
            spare = self._spares.pop(0) if self.ahead is not None and self._spares else None
        if spare is not None and self._background is not None:
            with contextlib.suppress(RuntimeError):  # the pool is ending
                self._background.submit(self._recycle, spare)

    def _put_back(self, box: Box) -> None:
        if self.ahead is not None and self._background is not None:
            with contextlib.suppress(RuntimeError):  # else the pool is ending: cleared here
                self._background.submit(self._recycle, box.who.name, box)
                return
        try:
            box.close()
        finally:
            self._ready.put(box.who.name)

    def _recycle(self, name: str, used: Box | None = None) -> None:
        """Clear ``used`` and open the next box of ``name`` (:attr:`ahead`). When either
        fails, the name is handed out as it is: its next submission opens the box
        itself, and meets the error where it is reported."""
        try:
            if used is not None:
                used.close()
            ahead, who = self.ahead, lookup(name)
            with self._count_lock:
                wanted = self._to_open > 0
                self._to_open -= wanted
            if ahead is None or who is None or not wanted:
                self._ready.put(name)
                return
            box = Box(who, self.room, self.kernel, ahead[1], ahead[0], self.hide)
            box.open()
        except Exception:  # said again to the submission that opens it itself
            self._ready.put(name)
            return
        self._ready.put(box)


def clear_leftovers(room: RoomConfig) -> None:
    """End every pool user's box, delete every file they own anywhere (their uid's and
    their subordinate ids', which their containers' files carry) and remove the users
    (idempotent): those the pool made (:func:`pool_users`), never another user of such a
    name."""
    found = [who for who in map(lookup, sorted(pool_users())) if who is not None]
    for who in found:
        _clear(who, room)
    # once no process of theirs runs, one search for all of them (userdel -r: the rest)
    ranges = [r for who in found for r in _owner_ids(who)]
    leftovers.sweep(ranges, skip=[p for who in found for p in _account_files(who)])
    for who in found:
        remove(who.name)
        shutil.rmtree(LearnerEngine(who.name, room).folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        WORK_ROOT.rmdir()


def pool_users(passwd: list[str] | None = None, **record: Any) -> list[UserName]:
    """Pool users that the pool itself made and that still exist (``passwd``'s lines
    and ``record``'s settings as :func:`~dockdojo.runner.privileged.users.made_users`
    takes them, for tests)."""
    return [n for n in made_users(POOL_PREFIX, passwd=passwd, **record) if POOL.match(n)]


def _owner_ids(who: Learner) -> list[leftovers.Range]:
    """The uids whose files are ``who``'s: their own, and their subordinate ids."""
    ids = [(who.uid, who.uid)]
    subordinate = leftovers.subordinate_range(who.name)
    return ids if subordinate is None else [*ids, subordinate]


def _account_files(who: Learner) -> list[Path]:
    """What ``useradd -m`` makes for ``who`` and ``userdel -r`` deletes."""
    return [who.home, Path("/var/mail") / who.name, Path("/var/spool/mail") / who.name]


def _check_unowned(made: Sequence[Learner]) -> None:
    """:class:`DockdojoError` when files of an earlier owner of a new pool user's uid (or
    subordinate ids) remain: that user would own them."""
    ranges = [r for who in made for r in _owner_ids(who)]
    skip = [p for who in made for p in _account_files(who)]
    if OWN_RUNTIME.is_dir():  # dockdojo's own: sockets of engines of users gone since
        leftovers.sweep(ranges, [OWN_RUNTIME], skip=skip)
    found = leftovers.find_owned(ranges, skip=skip, limit=5)
    if found:
        raise DockdojoError(
            f"Files of an earlier user with the ids the grading pool was given "
            f"({', '.join(f'{a}-{b}' for a, b in ranges)}) remain, and a submission would own "
            "them:\n  " + "\n  ".join(map(str, found)),
            "Give them to their rightful owner or delete them, then grade again.",
        )


def _clear(who: Learner, room: RoomConfig) -> None:
    """Whatever of ``who`` runs or is mounted: kernel group, engine, processes, work."""
    group = Cgroup(f"{who.name}.kernel")
    group.kill()
    group.remove()
    LearnerEngine(who.name, room).discard()
    kill_user(who.uid)
    work = WORK_ROOT / who.name
    if work.is_dir():
        unmount_under(work)
        if work.is_mount():
            unmount(work)
        shutil.rmtree(work, ignore_errors=True)


class Box:
    """One submission's user, work folder, engine and kernel group."""

    def __init__(
        self,
        who: Learner,
        room: RoomConfig,
        kernel: KernelEnv,
        limits: Confinement,
        lesson: str,
        hide: Sequence[Path] = (),
        learner_id: str = "",
    ) -> None:
        self.who = who
        self.hide = tuple(hide)
        """Folders the kernel does not see (its engine's containers: by permissions)."""
        self.room = room
        self.kernel = kernel
        self.limits = limits
        self.lesson = lesson
        self.learner = learner_id
        """The learner whose submission runs here: set when the box is handed out."""
        self.work = WORK_ROOT / who.name
        self.group = Cgroup(f"{who.name}.kernel")
        # the engine writes its data root, runtime folder, the work folder and the
        # pool user's home alone (userdel -r deletes it)
        self.engine = LearnerEngine(who.name, room, shares=(self.work, who.home))
        self.stopped_for: str | None = None
        """Why the box ended the kernel before its end: ``cpu``, ``time``, or None."""
        self._watch: threading.Thread | None = None
        self._done = threading.Event()

    @property
    def docker_host(self) -> str:
        """The engine as the kernel reaches it: the pool user's own socket."""
        return self.who.docker_host

    @property
    def verified_host(self) -> str:
        """The engine as the grader reads it: its pinned socket, which nothing of the
        submission's can replace (:func:`~dockdojo.runner.room.engines.pinned_socket`)."""
        return f"unix://{pinned_socket(self.who.name)}"

    @property
    def cwd(self) -> Path:
        return self.work / "notebook"

    # lifecycle ---------------------------------------------------------------------
    def open(self) -> None:
        _clear(self.who, self.room)  # a slot starts empty, whatever came before
        WORK_ROOT.mkdir(parents=True, exist_ok=True)
        WORK_ROOT.chmod(0o755)
        self.work.mkdir(mode=0o700)
        mount_tmpfs(
            self.work,
            size_mb=self.limits.disk_mb,
            uid=self.who.uid,
            gid=self.who.gid,
            name="dockdojo-grade",
        )
        for name in ("notebook", "home", "tmp", "kernel"):
            own_folder(self.work / name, self.who)
        self.engine.discard()  # an empty data root
        self.engine.start()
        self.group.create(memory_mb=self.limits.memory_mb, pids=self.limits.pids)

    def close(self) -> None:
        self._done.set()
        _clear(self.who, self.room)

    def end_kernel(self) -> None:
        """Kill the kernel's group as a whole (idempotent)."""
        self.group.kill()

    def out_of_memory(self) -> bool:
        return self.group.out_of_memory()

    # the kernel --------------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """The kernel's whole environment: nothing of the grader's."""
        home = str(self.who.home)
        return {
            "HOME": home,
            "USER": self.who.name,
            "LOGNAME": self.who.name,
            "PATH": f"{self.kernel.python.parent}:{PATH}",
            "LANG": "C.UTF-8",
            "TMPDIR": "/tmp",
            "PYTHONPATH": str(self.kernel.code),
            "DOCKER_HOST": self.docker_host,
            HOST_IP_VARIABLE: firewall.address(self.who.uid),  # its ports: its own
            LEARNER: self.learner,
            TAG_VARIABLE: handed_tags(  # its own tag, made with the room's salt
                {self.lesson: learner_tag(self.lesson, self.learner, room_salt(self.room))}
            ),
            **graded_widgets(),
            "JUPYTER_RUNTIME_DIR": str(self.work / "kernel" / "runtime"),
            "MPLBACKEND": "agg",
        }

    def confine_spec(self, hide: Sequence[Path]) -> dict[str, Any]:
        keep = (self.work, self.kernel.code, self.kernel.python.parent.parent, self.who.runtime_dir)
        hidden = confine.hidden([str(h) for h in hide], [str(k) for k in keep])
        tmp = str(self.work / "tmp")
        return {
            "cgroups": [str(p) for p in self.group.procs_files],
            "work": str(self.work),
            "uid": self.who.uid,
            "gid": self.who.gid,
            "cwd": str(self.cwd),
            "env": self.environment(),
            "hide": hidden,
            "binds": {
                "/tmp": tmp,
                "/var/tmp": tmp,
                "/dev/shm": tmp,
                str(self.who.home): str(self.work / "home"),
            },
            "proc": "invisible",  # its own processes and its engine's, nothing else
            "nofile": 1024,
            # files as a learner's session makes them: its containers' other users (httpd's
            # www-data, a subordinate uid of the rootless engine) read a folder it shares;
            # the work folder's own root (0700) keeps them from other pool users
            "umask": 0o022,
            "log": str(self.work / "kernel" / "kernel.log"),
        }

    def kernel_manager(self, hide: Sequence[Path]) -> AsyncKernelManager:
        """A kernel manager whose kernel starts confined in this box."""
        manager = ConfinedKernelManager(
            transport="ipc",
            ip=str(self.work / "kernel" / "k"),
            connection_file=str(self.work / "kernel" / "kernel.json"),
        )
        manager.box_argv = [
            sys.executable,
            "-I",
            str(confine.__file__),
            json.dumps(self.confine_spec(hide)),
            "--",
            str(self.kernel.python),
            "-s",
            "-m",
            "ipykernel_launcher",
            "-f",
            str(self.work / "kernel" / "kernel.json"),
        ]
        manager.box_owner = (self.who.uid, self.who.gid)
        return manager

    def watch(self) -> None:
        """End the kernel's group when it has used its CPU time (checked 4 times a second)."""

        def run() -> None:
            while not self._done.wait(0.25):
                if self.group.cpu_seconds() > self.limits.cpu_seconds:
                    self.stopped_for = "cpu"
                    with contextlib.suppress(HostError):
                        self.group.kill()
                    return

        self._watch = threading.Thread(target=run, name="dockdojo-cpu-watch", daemon=True)
        self._watch.start()

    def kill(self, reason: str) -> None:
        self.stopped_for = self.stopped_for or reason
        with contextlib.suppress(HostError):
            self.group.kill()


class ConfinedKernelManager(AsyncKernelManager):
    """jupyter_client's manager, starting its kernel through
    :mod:`dockdojo.runner.privileged.confine`."""

    box_argv: list[str]
    box_owner: tuple[int, int]

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:  # noqa: ARG002
        return list(self.box_argv)

    def write_connection_file(self, **kwargs: Any) -> None:
        super().write_connection_file(**kwargs)
        hand_over(Path(self.connection_file), *self.box_owner)  # the kernel reads it as its user


__all__ = ["POOL", "WORK_ROOT", "Box", "Confinement", "Pool", "clear_leftovers", "pool_users"]
