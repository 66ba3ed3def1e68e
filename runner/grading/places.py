"""Where a submission runs, and which engine its checks then read: a :class:`Place`.

- :class:`Isolated` (the default): a :class:`~dockdojo.runner.grading.isolation.Box` of
  the batch's pool: a pool user, a throwaway engine, a confined kernel;
- :class:`Trusted` (``--trusted``): the grader's own user and engine; what an earlier
  grading of the learner left is removed before the run, and what the run made after it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from jupyter_client.manager import AsyncKernelManager

from ..authoring.files import place_files
from ..authoring.model import Lesson
from ..context import LearnerContext, context_for
from ..engine.facade import describe_host
from ..environ import LEARNER, graded_widgets
from ..errors import DockdojoError
from ..privileged.processes import signal_once
from ..privileged.users import hand_over
from ..room.salt import room_salt
from .isolation import Box, Pool
from .options import GradeOptions


class Place(Protocol):
    """Where one submission's kernel runs and which engine its checks read."""

    docker_host: str
    cwd: Path
    journal: Path | bool
    """The engine's journal (:class:`~dockdojo.runner.engine.Engine`'s ``journal``)."""
    since: float
    """When the submission's run began: what happened before is not its history."""
    salt: str | None
    """The secret learners' tags are made with here: the room's (:mod:`~..room.salt`);
    None: the environment's, as :func:`~dockdojo.runner.context.learner_tag` finds it."""

    def kernel_manager(self, kernel: str) -> AsyncKernelManager: ...

    def give(self, files: dict[str, Path]) -> None:
        """Put the lesson's own files (``{"LESSON/app/Dockerfile": source}``) in
        :attr:`cwd`, as a learner has them beside the notebook, before the run."""

    def environment(self) -> dict[str, str]: ...

    def kill(self, reason: str) -> None:
        """End the kernel and everything it started (a limit was reached)."""

    def end(self) -> None:
        """After the run: end whatever of the kernel is left, before the checks."""

    def stopped_for(self) -> str | None:
        """Why the place ended the kernel early: ``time``, ``cpu``, ``memory``, ``message``
        (a message over the cap) or None."""


@contextlib.contextmanager
def open_place(
    options: GradeOptions, pool: Pool | None, lesson: Lesson, learner: str
) -> Iterator[Place]:
    """The place for ``learner``'s submission: trusted when ``pool`` is None, else a box
    of ``pool``; closed (engine deleted, or the run's containers removed) on leaving."""
    if pool is None:
        with Trusted.open(options, lesson, learner) as trusted:
            yield trusted
        return
    with pool.box(lesson.id, learner, options.limits) as box:
        yield Isolated(box, options)


class Isolated:
    """A :class:`Box`: pool user, throwaway engine, confined kernel."""

    def __init__(self, box: Box, options: GradeOptions) -> None:
        self.box = box
        self.options = options
        self.docker_host = box.verified_host  # the checks' engine: never the kernel's socket
        self.cwd = box.cwd
        self.journal: Path | bool = box.engine.journal  # recorded by the grader, as root
        self.since = 0.0  # the box's engine is new: all of its past is this submission's
        self.salt: str | None = room_salt(box.room)
        box.watch()

    def kernel_manager(self, kernel: str) -> AsyncKernelManager:  # noqa: ARG002
        return self.box.kernel_manager((*self.options.hide, self.options.room.state))

    def give(self, files: dict[str, Path]) -> None:
        # written by the grader before anything of the submission's runs, then given to
        # the pool user, as a learner's workspace is theirs
        written = place_files(files, self.cwd, replace=True)
        who = self.box.who
        for name in written:
            for path in (self.cwd / name, *(self.cwd / name).parents):
                if path == self.cwd:
                    break
                hand_over(path, who.uid, who.gid)

    def environment(self) -> dict[str, str]:
        return self.box.environment()

    def kill(self, reason: str) -> None:
        self.box.kill(reason)

    def end(self) -> None:
        self.box.end_kernel()

    def stopped_for(self) -> str | None:
        if self.box.stopped_for:
            return self.box.stopped_for
        return "memory" if self.box.out_of_memory() else None


class Trusted:
    """The grader's own user and engine; the containers a run made are removed after it."""

    def __init__(self, options: GradeOptions, lesson: Lesson, learner: str, work: Path) -> None:
        self.docker_host = options.docker_host or describe_host()
        if not self.docker_host.startswith("unix://"):
            raise DockdojoError(
                f"Grading needs the engine's unix socket; {self.docker_host} is not one.",
                "Grade on the machine that runs the engine (or its sandbox).",
            )
        self.lesson = lesson
        self.learner = learner
        self.work = work
        self.cwd = work
        self.journal: Path | bool = True  # the engine's own, when dockdojo started it
        self.since = time.time()
        self.salt: str | None = None  # tags as outside a room: DOCKDOJO_TAG_SALT, if set
        self._reason: str | None = None
        self._km: AsyncKernelManager | None = None

    @classmethod
    @contextlib.contextmanager
    def open(cls, options: GradeOptions, lesson: Lesson, learner: str) -> Iterator[Trusted]:
        work = Path(tempfile.mkdtemp(prefix="dockdojo-grade-"))
        try:
            place = cls(options, lesson, learner, work)
            with context_for(lesson, learner, place.docker_host, salt=place.salt) as context:
                _remove_learners_containers(context)
            place.since = time.time()
            yield place
            place.clean_up()
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def give(self, files: dict[str, Path]) -> None:
        place_files(files, self.cwd, replace=True)

    def kernel_manager(self, kernel: str) -> AsyncKernelManager:
        self._km = AsyncKernelManager(
            kernel_name=kernel, transport="ipc", ip=str(self.work / "kernel")
        )
        return self._km

    def environment(self) -> dict[str, str]:
        env = {
            **os.environ,
            "DOCKER_HOST": self.docker_host,
            LEARNER: self.learner,
            **graded_widgets(),
            "JUPYTER_RUNTIME_DIR": str(self.work / "runtime"),
        }
        for name in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
            env.pop(name, None)
        return env

    def kill(self, reason: str) -> None:
        self._reason = self._reason or reason
        pid = getattr(self._km.provisioner, "pid", None) if self._km else None
        if pid:
            with contextlib.suppress(OSError):  # it may have exited by itself meanwhile
                signal_once(pid)

    def end(self) -> None:
        """Nothing to end: the kernel was shut down; its children are trusted."""

    def stopped_for(self) -> str | None:
        return self._reason

    def clean_up(self) -> None:
        """The containers this run made: labelled for the learner, or created meanwhile."""
        with context_for(self.lesson, self.learner, self.docker_host, salt=self.salt) as context:
            engine = context.engine
            _remove_learners_containers(context)
            with contextlib.suppress(DockdojoError):
                for cid in engine.containers_created(self.since):
                    with contextlib.suppress(DockdojoError):
                        engine.remove_container(cid)


def _remove_learners_containers(context: LearnerContext) -> None:
    """What an earlier grading of this learner may have left, so this run starts clean."""
    with contextlib.suppress(DockdojoError):
        context.engine.remove_labelled(context.labels())


__all__ = ["Isolated", "Place", "Trusted", "open_place"]
