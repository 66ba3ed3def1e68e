"""``dockdojo grade``: score submitted lesson notebooks without trusting them.

Each submission goes through the same ordered stages (as nbgrader's autograde does):

1. **read**: every submission is read once, before any runs (:func:`private_copies`);
   the learner is the file's name (``ada.ipynb`` is ``ada``);
2. **execute** it in a fresh kernel (nbclient), with per-cell and per-submission time
   limits and widgets on their blocking path. By default (**isolated**) the kernel runs
   in a :class:`~dockdojo.runner.grading.isolation.Box`: a pool user of its own, a
   throwaway rootless engine of its own pulling from the room's read-only mirror, a
   cgroup with memory, process, CPU and disk limits, and every file system but its work
   folder read-only; with ``trusted`` (an instructor's own test notebooks) it runs as
   the grader's user on the grader's engine;
3. **end** the kernel and everything it started, as a whole;
4. **validate** in the grader's own process against the submission's engine: nothing
   the notebook printed, stored or patched counts, only what the engine shows;
5. **clean up**: the box's engine and data root are deleted (trusted: the containers
   the submission made);
6. **report** a :class:`~dockdojo.runner.grading.reports.SubmissionResult`.

Submissions run concurrently up to ``jobs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from ..authoring.model import Lesson
from ..context import LearnerContext, context_for
from ..engine.facade import describe_host
from ..environ import LEARNER, WIDGETS_SYNC
from ..errors import DockdojoError
from ..kinds.checking import check_lesson
from ..kinds.report import LessonReport
from ..privileged.processes import signal_once
from ..room.config import RoomConfig
from ..room.pyenv import DEFAULT_KERNEL_ENV, prepare
from .isolation import Box, Confinement, Pool
from .reports import Isolation, Status, SubmissionResult

DEFAULT_CELL_TIMEOUT = 60.0
DEFAULT_SUBMISSION_TIMEOUT = 600.0
DEFAULT_MAX_OUTPUT = 100_000
_LEARNER = re.compile(r"[^A-Za-z0-9._@-]+")


@dataclass(frozen=True)
class GradeOptions:
    """How to grade."""

    lesson: Lesson
    """The lesson, as the grader loaded it (never from the submission)."""
    steps: tuple[str, ...] | None = None
    """Steps to score; None: the lesson's exercises (the work learners do on their own)."""
    cell_timeout: float = DEFAULT_CELL_TIMEOUT
    """Seconds one cell may run."""
    submission_timeout: float = DEFAULT_SUBMISSION_TIMEOUT
    """Seconds a whole submission may run."""
    docker_host: str | None = None
    """Trusted mode: the engine to grade on (default: as Docker's tools find it)."""
    kernel: str = "python3"
    """Trusted mode: the kernel to execute submissions with."""
    max_output: int = DEFAULT_MAX_OUTPUT
    """Bytes of output kept per cell; what a cell prints past that is dropped as it
    arrives (a cell printing without end cannot fill the grader's memory), and the run's
    message says which cells were cut."""
    trusted: bool = False
    """Run submissions as the grader's user on the grader's engine (an instructor's own
    test notebooks); otherwise each runs isolated in a box of its own."""
    room: RoomConfig = field(default_factory=RoomConfig)
    """Isolated mode: the room whose mirror and engine limits the boxes use."""
    limits: Confinement = field(default_factory=Confinement)
    """Isolated mode: what each submission's kernel may use."""
    kernel_env: Path = DEFAULT_KERNEL_ENV
    """Isolated mode: where the kernels' Python is kept."""
    hide: tuple[Path, ...] = ()
    """Isolated mode: folders a kernel must not see (besides the submissions' folders)."""

    def step_ids(self) -> list[str]:
        if self.steps is not None:
            return list(self.steps)
        return [s.id for s in self.lesson.steps if s.exercise] or [s.id for s in self.lesson.steps]

    @property
    def isolation(self) -> Isolation:
        return "trusted" if self.trusted else "isolated"


def learner_of(path: Path) -> str:
    """The learner a submission belongs to: its file name, made tame."""
    return _LEARNER.sub("-", path.stem).strip("-.") or "learner"


def grade_all(
    paths: Sequence[Path],
    options: GradeOptions,
    *,
    jobs: int = 1,
    on_done: Callable[[SubmissionResult], None] | None = None,
    copies: Mapping[Path, bytes | OSError] | None = None,
) -> list[SubmissionResult]:
    """Grade every submission, ``jobs`` at a time; results in the order of ``paths``.

    Each submission is graded from its private copy (``copies``, else read by
    :func:`private_copies` before any submission runs), so what one submission does to
    another's file once it runs changes nothing.
    """
    learners = [learner_of(p) for p in paths]
    duplicates = {name for name in learners if learners.count(name) > 1}
    if duplicates:
        raise DockdojoError(
            f"Two submissions belong to the same learner: {', '.join(sorted(duplicates))}.",
            "Give each learner's notebook their own file name (the learner id).",
        )
    options.limits.check()
    lock = threading.Lock()
    copies = copies if copies is not None else private_copies(paths)
    jobs = max(1, min(jobs, len(paths)))
    hide = (*options.hide, *{p.resolve().parent for p in paths})
    options = replace(options, hide=hide)

    with _pool(options, jobs) as pool:

        def one(path: Path) -> SubmissionResult:
            result = grade_one(path, options, copies.get(path), pool)
            if on_done is not None:
                with lock:
                    on_done(result)
            return result

        with ThreadPoolExecutor(max_workers=jobs) as workers:
            return list(workers.map(one, paths))


@contextlib.contextmanager
def _pool(options: GradeOptions, jobs: int) -> Iterator[Pool | None]:
    if options.trusted:
        yield None
        return
    kernel = prepare(options.kernel_env)
    with Pool(options.room, jobs, kernel) as pool:
        yield pool


def private_copies(paths: Sequence[Path]) -> dict[Path, bytes | OSError]:
    """Every submission's bytes, read once before any runs (or why it could not be)."""
    copies: dict[Path, bytes | OSError] = {}
    for path in paths:
        try:
            copies[path] = path.read_bytes()
        except OSError as exc:
            copies[path] = exc
    return copies


def _read(copy: bytes | OSError) -> nbformat.NotebookNode:
    if isinstance(copy, OSError):
        raise copy
    nb: nbformat.NotebookNode = nbformat.reads(copy.decode("utf-8"), as_version=4)
    return nb


def grade_one(
    path: Path,
    options: GradeOptions,
    copy: bytes | OSError | None = None,
    pool: Pool | None = None,
) -> SubmissionResult:
    """Every stage for one submission, from ``copy`` (its bytes as read before grading
    began; read now when None), in a box of ``pool`` (None: trusted); never raises for a
    bad submission."""
    started = time.monotonic()
    learner = learner_of(path)
    lesson = options.lesson
    if copy is None:
        try:
            copy = path.read_bytes()
        except OSError as exc:
            copy = exc
    with _place(options, pool, lesson, learner) as place:
        try:
            nb = _read(copy)
        except Exception as exc:  # any unreadable file is this submission's problem alone
            outcome = Execution("error", f"The notebook could not be read: {exc}", 0, 0)
        else:
            outcome = execute(nb, place, options)
        place.end()
        with context_for(lesson, learner, place.docker_host, journal=place.journal) as context:
            context.engine.history_since = place.since  # one learner's past is not another's
            report = check_lesson(context.engine, context.lesson, options.step_ids())
    return SubmissionResult(
        submission=str(path),
        learner=learner,
        lesson=lesson.id,
        report=_graded(report),
        status=outcome.status,
        execution_message=outcome.message,
        cells_run=outcome.cells_run,
        cells_total=outcome.cells_total,
        seconds=time.monotonic() - started,
        parameters=context.parameters(options.step_ids()),
        isolation=options.isolation,
    )


def _graded(report: LessonReport) -> LessonReport:
    return replace(report, mode="grade")


# where a submission runs ---------------------------------------------------------------
class Place(Protocol):
    """Where one submission's kernel runs and which engine its checks read."""

    docker_host: str
    cwd: Path
    journal: Path | bool
    """The engine's journal (:class:`~dockdojo.runner.engine.Engine`'s ``journal``)."""
    since: float
    """When the submission's run began: what happened before is not its history."""

    def kernel_manager(self, kernel: str) -> AsyncKernelManager: ...

    def environment(self) -> dict[str, str]: ...

    def kill(self, reason: str) -> None:
        """End the kernel and everything it started (a limit was reached)."""

    def end(self) -> None:
        """After the run: end whatever of the kernel is left, before the checks."""

    def stopped_for(self) -> str | None:
        """Why the place ended the kernel early: ``time``, ``cpu``, ``memory`` or None."""


@contextlib.contextmanager
def _place(
    options: GradeOptions, pool: Pool | None, lesson: Lesson, learner: str
) -> Iterator[Place]:
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
        self.docker_host = box.docker_host
        self.cwd = box.cwd
        self.journal: Path | bool = box.engine.journal  # recorded by the grader, as root
        self.since = 0.0  # the box's engine is new: all of its past is this submission's
        box.watch()

    def kernel_manager(self, kernel: str) -> AsyncKernelManager:  # noqa: ARG002
        return self.box.kernel_manager((*self.options.hide, self.options.room.state))

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
        self._reason: str | None = None
        self._km: AsyncKernelManager | None = None

    @classmethod
    @contextlib.contextmanager
    def open(cls, options: GradeOptions, lesson: Lesson, learner: str) -> Iterator[Trusted]:
        work = Path(tempfile.mkdtemp(prefix="dockdojo-grade-"))
        try:
            place = cls(options, lesson, learner, work)
            with context_for(lesson, learner, place.docker_host) as context:
                _remove_learners_containers(context)
            place.since = time.time()
            yield place
            place.clean_up()
        finally:
            shutil.rmtree(work, ignore_errors=True)

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
            WIDGETS_SYNC: "1",
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
        with context_for(self.lesson, self.learner, self.docker_host) as context:
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


# running the notebook ------------------------------------------------------------------
@dataclass(frozen=True)
class Execution:
    """How running a submission went."""

    status: Status
    """``graded`` (ran to the end), ``timeout``, ``kernel-died`` or ``error``."""
    message: str
    """A sentence for the learner and the instructor."""
    cells_run: int
    """Code cells that started."""
    cells_total: int
    """Code cells in the notebook."""


def execute(nb: nbformat.NotebookNode, place: Place, options: GradeOptions) -> Execution:
    """Run the notebook in a fresh kernel at ``place``."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:  # nothing the learner's copy recorded is kept or trusted
        cell.outputs = []
        cell.execution_count = None
    nb.metadata.pop("widgets", None)
    started = [0]
    try:
        km = place.kernel_manager(options.kernel)
        client = CappedClient(
            nb,
            max_output=options.max_output,
            km=km,
            timeout=options.cell_timeout,
            allow_errors=True,
            startup_timeout=60,
            record_timing=False,
            store_widget_state=False,
            resources={"metadata": {"path": str(place.cwd)}},
            on_cell_start=lambda cell, **_: _count(started, cell),
        )
        ran = _run(client, km, place, len(code), started, options)
        if not client.cut:
            return ran
        cells = ", ".join(str(n) for n in sorted(client.cut))
        return replace(
            ran,
            message=f"{ran.message} The output of code cell"
            f"{'s' if len(client.cut) > 1 else ''} {cells} was cut at "
            f"{options.max_output // 1000} kB; the rest was not kept.",
        )
    finally:
        _close_thread_loop()


class CappedClient(NotebookClient):
    """nbclient's client, keeping at most ``max_output`` bytes of each cell's output.

    Outputs past the limit are dropped as their messages arrive, and one line in the
    cell says so; :attr:`cut` holds the numbers (1-based, among code cells) of the cells
    that were cut.
    """

    def __init__(self, nb: nbformat.NotebookNode, *, max_output: int, **kwargs: Any) -> None:
        super().__init__(nb, **kwargs)
        self.max_output = max_output
        self.cut: set[int] = set()
        self._kept: dict[int, int] = {}
        self._code_number = {
            index: number
            for number, index in enumerate(
                (i for i, c in enumerate(nb.cells) if c.cell_type == "code"), 1
            )
        }

    def output(
        self,
        outs: list[nbformat.NotebookNode],
        msg: dict[str, Any],
        display_id: str | None,
        cell_index: int,
    ) -> nbformat.NotebookNode | None:
        size = len(json.dumps(msg.get("content", {}), default=str))
        kept = self._kept.get(cell_index, 0)
        if kept + size <= self.max_output:
            self._kept[cell_index] = kept + size
            result: nbformat.NotebookNode | None = super().output(outs, msg, display_id, cell_index)
            return result
        number = self._code_number.get(cell_index, cell_index + 1)
        if number not in self.cut:
            self.cut.add(number)
            outs.append(
                nbformat.v4.new_output(
                    "stream",
                    name="stderr",
                    text=f"[dockdojo: this cell printed more than {self.max_output // 1000} kB; "
                    "the rest of its output was not kept]\n",
                )
            )
        return None


def _close_thread_loop() -> None:
    """Close the event loop jupyter_core made for this thread (it never closes its own)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            loop = asyncio.get_event_loop()
        except RuntimeError:
            return
    if not loop.is_running() and not loop.is_closed():
        loop.close()
    asyncio.set_event_loop(None)


def _count(counter: list[int], cell: nbformat.NotebookNode) -> None:
    if cell.cell_type == "code":
        counter[0] += 1


def _run(
    client: NotebookClient,
    km: AsyncKernelManager,
    place: Place,
    total: int,
    started: list[int],
    options: GradeOptions,
) -> Execution:
    watchdog = threading.Timer(options.submission_timeout, lambda: place.kill("time"))
    watchdog.daemon = True
    watchdog.start()
    try:
        client.execute(env=place.environment(), cwd=str(place.cwd))
        return Execution("graded", "Every cell ran.", started[0], total)
    except CellTimeoutError:
        return Execution(
            "timeout",
            f"Cell {started[0]} of {total} ran longer than "
            f"{options.cell_timeout:g} s and was stopped; the cells "
            "after it did not run.",
            started[0],
            total,
        )
    except DeadKernelError:
        return _died(place.stopped_for(), started[0], total, options)
    except Exception as exc:  # a submission must never stop the batch
        reason = place.stopped_for()
        if reason is not None:
            return _died(reason, started[0], total, options)
        return Execution(
            "error",
            f"The notebook could not be run: {type(exc).__name__}: {str(exc).strip()[:300]}",
            started[0],
            total,
        )
    finally:
        watchdog.cancel()
        with contextlib.suppress(Exception):  # whatever state the kernel is in
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
        if client.kc is not None:
            client.kc.stop_channels()
        km.context.destroy(linger=0)  # this manager's own context: no socket outlives it


def _died(reason: str | None, cell: int, total: int, options: GradeOptions) -> Execution:
    """The kernel is gone: a limit ended it, or it died by itself."""
    after = "; the cells after it did not run."
    if reason == "time":
        return Execution(
            "timeout",
            f"The notebook ran longer than {options.submission_timeout:g} s in all and was "
            "stopped.",
            cell,
            total,
        )
    if reason == "cpu":
        return Execution(
            "timeout",
            f"The notebook used more than {options.limits.cpu_seconds:g} s of CPU time "
            f"(cell {cell} of {total} was running) and was stopped{after}",
            cell,
            total,
        )
    if reason == "memory":
        return Execution(
            "kernel-died",
            f"The notebook used all of its {options.limits.memory_mb} MB of memory while "
            f"cell {cell} of {total} ran, and the kernel was killed{after}",
            cell,
            total,
        )
    return Execution(
        "kernel-died",
        f"The kernel died while cell {cell} of {total} ran{after}",
        cell,
        total,
    )
