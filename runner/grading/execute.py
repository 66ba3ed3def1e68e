"""``dockdojo grade``: score submitted lesson notebooks without trusting them.

Each submission goes through the same ordered stages (as nbgrader's autograde does):

1. **read** the notebook; the learner is its file name (``ada.ipynb`` is ``ada``);
2. **clean up** what an earlier grading of this learner left (their labelled containers);
3. **execute** it in a fresh kernel (nbclient): per-cell and per-submission time limits,
   widgets on their blocking path, and Docker reached through a labelling proxy so that
   every container the submission makes, by any means, carries its learner's labels;
4. **validate** in the grader's own process against the live engine: nothing the
   notebook printed, stored or patched counts, only what the engine shows;
5. **clean up** the containers the submission made (and nothing else);
6. **report** a :class:`~dockdojo.runner.grading.reports.SubmissionResult`.

Submissions run concurrently up to ``jobs``; per-learner exercise values
(``{learner_tag}``) and per-submission labels keep them apart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from ..authoring.learner import personalize
from ..authoring.model import Lesson
from ..engine.facade import Engine, describe_host
from ..engine.models import LABEL_LEARNER, LABEL_LESSON
from ..errors import DockdojoError
from ..kinds.checking import check_lesson
from ..kinds.report import LessonReport
from .labelproxy import LABEL_GRADE, LabelProxy
from .reports import Status, SubmissionResult

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
    """The engine to grade on (default: as Docker's tools find it)."""
    kernel: str = "python3"
    """Kernel to execute submissions with."""
    max_output: int = DEFAULT_MAX_OUTPUT
    """Bytes of output kept per cell; what a cell prints past that is dropped as it
    arrives (a cell printing without end cannot fill the grader's memory), and the run's
    message says which cells were cut."""

    def step_ids(self) -> list[str]:
        if self.steps is not None:
            return list(self.steps)
        return [s.id for s in self.lesson.steps if s.exercise] or [s.id for s in self.lesson.steps]


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
    lock = threading.Lock()
    copies = copies if copies is not None else private_copies(paths)

    def one(path: Path) -> SubmissionResult:
        result = grade_one(path, options, copies.get(path))
        if on_done is not None:
            with lock:
                on_done(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, paths))


def private_copies(paths: Sequence[Path]) -> dict[Path, bytes | OSError]:
    """Every submission's bytes, read once before any runs (or why it could not be)."""
    copies: dict[Path, bytes | OSError] = {}
    for path in paths:
        try:
            copies[path] = path.read_bytes()
        except OSError as exc:
            copies[path] = exc
    return copies


def grade_one(
    path: Path, options: GradeOptions, copy: bytes | OSError | None = None
) -> SubmissionResult:
    """Every stage for one submission, from ``copy`` (its bytes as read before grading
    began; read now when None); never raises for a bad submission."""
    started = time.monotonic()
    learner = learner_of(path)
    lesson = personalize(options.lesson, learner)
    run_id = f"{learner}-{os.getpid()}-{threading.get_ident()}-{int(time.time() * 1000)}"
    host = options.docker_host or describe_host()
    with Engine(host, lesson=lesson.id, learner=learner) as engine:
        _remove_learners_containers(engine, lesson.id, learner)
        engine.history_since = time.time()  # only what this submission does counts
        try:
            if copy is None:
                copy = path.read_bytes()
            if isinstance(copy, OSError):
                raise copy
            nb = nbformat.reads(copy.decode("utf-8"), as_version=4)
        except Exception as exc:  # any unreadable file is this submission's problem alone
            report = check_lesson(engine, lesson, options.step_ids())
            return SubmissionResult(
                str(path),
                learner,
                lesson.id,
                report,
                status="error",
                execution_message=f"The notebook could not be read: {exc}",
                seconds=time.monotonic() - started,
            )
        outcome = execute(nb, lesson, learner, host, run_id, options)
        report = check_lesson(engine, lesson, options.step_ids())
        with contextlib.suppress(DockdojoError):
            engine.remove_labelled({LABEL_GRADE: run_id})
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
        parameters=_parameters(options.lesson, lesson, options.step_ids()),
    )


def _graded(report: LessonReport) -> LessonReport:
    return replace(report, mode="grade")


def _remove_learners_containers(engine: Engine, lesson: str, learner: str) -> None:
    """What an earlier grading of this learner may have left, so this run starts clean."""
    with contextlib.suppress(DockdojoError):
        engine.remove_labelled({LABEL_LESSON: lesson, LABEL_LEARNER: learner})


def _parameters(raw: Lesson, mine: Lesson, step_ids: Sequence[str]) -> dict[str, str]:
    """Per-learner values, as ``step.argument`` -> value, for the report."""
    out: dict[str, str] = {}
    for step_id in step_ids:
        before, after = raw.step(step_id), mine.step(step_id)
        for c_before, c_after in zip(before.checks, after.checks, strict=True):
            for key, value in c_before.args.items():
                if isinstance(value, str) and "{learner_tag}" in value:
                    out[f"{step_id}.{key}"] = str(c_after.args[key])
    return out


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


def execute(
    nb: nbformat.NotebookNode,
    lesson: Lesson,
    learner: str,
    docker_host: str,
    run_id: str,
    options: GradeOptions,
) -> Execution:
    """Run the notebook in a fresh kernel, Docker reached through a labelling proxy."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:  # nothing the learner's copy recorded is kept or trusted
        cell.outputs = []
        cell.execution_count = None
    nb.metadata.pop("widgets", None)
    if not docker_host.startswith("unix://"):
        raise DockdojoError(
            f"Grading needs the engine's unix socket; {docker_host} is not one.",
            "Grade on the machine that runs the engine (or its sandbox).",
        )
    work = Path(tempfile.mkdtemp(prefix="dockdojo-grade-"))
    labels = {LABEL_LESSON: lesson.id, LABEL_LEARNER: learner, LABEL_GRADE: run_id}
    started = [0]
    try:
        with LabelProxy(
            docker_host.removeprefix("unix://"), work / "docker.sock", labels, guard=True
        ) as proxy:
            env = {
                **os.environ,
                "DOCKER_HOST": proxy.docker_host,
                "DOCKDOJO_LEARNER": learner,
                "DOCKDOJO_WIDGETS_SYNC": "1",
                "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
            }
            for name in ("DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"):
                env.pop(name, None)
            km = AsyncKernelManager(
                kernel_name=options.kernel, transport="ipc", ip=str(work / "kernel")
            )
            client = CappedClient(
                nb,
                max_output=options.max_output,
                km=km,
                timeout=options.cell_timeout,
                allow_errors=True,
                startup_timeout=60,
                record_timing=False,
                store_widget_state=False,
                resources={"metadata": {"path": str(work)}},
                on_cell_start=lambda cell, **_: _count(started, cell),
            )
            ran = _run(client, km, env, len(code), started, options)
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
        shutil.rmtree(work, ignore_errors=True)


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
    env: dict[str, str],
    total: int,
    started: list[int],
    options: GradeOptions,
) -> Execution:
    expired = threading.Event()

    def expire() -> None:
        """Kill the kernel; nbclient then sees it dead and the run ends as a timeout."""
        expired.set()
        pid = getattr(km.provisioner, "pid", None)
        if pid:
            with contextlib.suppress(OSError):  # it may have exited by itself meanwhile
                os.kill(pid, signal.SIGKILL)

    watchdog = threading.Timer(options.submission_timeout, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        client.execute(env=env, cwd=client.resources["metadata"]["path"])
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
        if expired.is_set():
            return Execution(
                "timeout",
                f"The notebook ran longer than "
                f"{options.submission_timeout:g} s in all and was "
                "stopped.",
                started[0],
                total,
            )
        return Execution(
            "kernel-died",
            f"The kernel died while cell {started[0]} of {total} "
            "ran; the cells after it did not run.",
            started[0],
            total,
        )
    except Exception as exc:  # a submission must never stop the batch
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
