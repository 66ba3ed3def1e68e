"""Grading one submission as an ordered list of small stages (as nbgrader's autograde
lists its preprocessors): :data:`STAGES`, run in order by :func:`run_stages`.

Each stage is a function with one job that reads what the stages before it left on the
:class:`Submission` and adds its own. A hook is called as each stage starts and ends (as
nbclient's ``on_cell_start``); that is how ``dockdojo grade`` shows its progress. A bad
submission never raises: its stages record why it went wrong, and the checks still run.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import nbformat

from ..authoring.files import lesson_files
from ..context import LearnerContext, context_for
from ..kinds.checking import check_lesson
from ..kinds.report import LessonReport
from ..mirror import room_images
from .execute import Execution, execute
from .isolation import Pool
from .options import GradeOptions
from .places import Place, open_place
from .reports import SubmissionResult, write_one

T = TypeVar("T")
_LEARNER = re.compile(r"[^A-Za-z0-9._@-]+")


def learner_of(path: Path) -> str:
    """The learner a submission belongs to: its file name, made tame."""
    return _LEARNER.sub("-", path.stem).strip("-.") or "learner"


@dataclass
class Submission:
    """One submission on its way through the stages: what each stage found so far."""

    path: Path
    """The submitted notebook's path, as the grader was given it."""
    copy: bytes | OSError
    """Its bytes, read before any submission of the batch ran (or why they could not be)."""
    options: GradeOptions
    """How to grade."""
    pool: Pool | None = None
    """The batch's pool users (None: trusted)."""
    learner: str = ""
    """The learner, from the file's name."""
    started: float = field(default_factory=time.monotonic)
    """When grading it began: its wall time (``seconds`` in its result) counts from here."""
    notebook: nbformat.NotebookNode | None = None
    """The notebook, parsed once (read), as the learner submitted it."""
    place: Place | None = None
    """Where it runs (prepare)."""
    outcome: Execution | None = None
    """How its run went (read, when unreadable; else execute)."""
    context: LearnerContext | None = None
    """The learner's context on the place's engine (personalize)."""
    report: LessonReport | None = None
    """What the checks found (check)."""
    result: SubmissionResult | None = None
    """The graded submission (score)."""
    written: list[Path] = field(default_factory=list)
    """The report files written for it (report)."""
    exits: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    """What to close when it is done: its place and its context, in reverse order."""

    def __post_init__(self) -> None:
        self.learner = self.learner or learner_of(self.path)


def read(sub: Submission) -> None:
    """Parse the private copy into a notebook, once; an unreadable one is this
    submission's problem alone (its run is an error, its checks still run)."""
    try:
        if isinstance(sub.copy, OSError):
            raise sub.copy
        sub.notebook = nbformat.reads(sub.copy.decode("utf-8"), as_version=4)
    except Exception as exc:  # any unreadable file is this submission's problem alone
        sub.outcome = Execution("error", f"The notebook could not be read: {exc}", 0, 0)


def prepare(sub: Submission) -> None:
    """Open the place it runs in: a box of the pool, or the grader's own engine."""
    sub.place = sub.exits.enter_context(
        open_place(sub.options, sub.pool, sub.options.lesson, sub.learner)
    )
    files = lesson_files([sub.options.lesson.source])  # the sample app a lesson builds
    if files:
        sub.place.give(files)


def run(sub: Submission) -> None:
    """Execute the notebook with nbclient in a fresh kernel at the place."""
    if sub.outcome is None and sub.notebook is not None:
        sub.outcome = execute(sub.notebook, _place(sub), sub.options)


def end(sub: Submission) -> None:
    """End whatever is left of the kernel and everything it started, before the checks."""
    _place(sub).end()


def personalize(sub: Submission) -> None:
    """The learner's context on the place's engine: their lesson, their values, what on
    the engine is theirs since the run began, and (isolated) which manifests count as the
    lesson's images: those the room's mirror serves now."""
    place = _place(sub)
    trusted = sub.options.isolation == "trusted"
    images = None if trusted else room_images(sub.options.lesson, sub.options.room.mirror_port)
    context = context_for(
        sub.options.lesson,
        sub.learner,
        place.docker_host,
        journal=place.journal,
        salt=place.salt,
        images=images,
    )
    sub.context = sub.exits.enter_context(context)
    sub.context.engine.history_since = place.since  # one learner's past is not another's


def check(sub: Submission) -> None:
    """Run the lesson's checks in this process against the submission's engine: only what
    the engine shows counts, nothing the notebook printed, stored or patched."""
    context = _context(sub)
    report = check_lesson(
        context.engine, context.lesson, sub.options.step_ids(), images=context.images
    )
    sub.report = replace(report, mode="grade")


def clean_up(sub: Submission) -> None:
    """Close the context and the place: the box's engine and data root are deleted
    (trusted: the containers the run made are removed)."""
    sub.exits.close()


def score(sub: Submission) -> None:
    """The graded submission: the run's outcome, the checks' points, the learner's values."""
    outcome, report = _needs(sub.outcome, "execute"), _needs(sub.report, "check")
    sub.result = SubmissionResult(
        submission=str(sub.path),
        learner=sub.learner,
        lesson=sub.options.lesson.id,
        report=report,
        status=outcome.status,
        execution_message=outcome.message,
        cells_run=outcome.cells_run,
        cells_total=outcome.cells_total,
        seconds=time.monotonic() - sub.started,
        parameters=_context(sub).parameters(sub.options.step_ids()),
        isolation=sub.options.isolation,
    )


def report(sub: Submission) -> None:
    """Write its own reports into ``out`` as soon as it is graded (a grader stopped
    halfway keeps what it finished), its feedback from the notebook as submitted."""
    if sub.options.out is None or sub.result is None:
        return
    notebooks = {sub.result.submission: sub.notebook} if sub.notebook is not None else {}
    sub.written = write_one(sub.result, sub.options.out, notebooks)


@dataclass(frozen=True)
class Stage:
    """One step of grading a submission."""

    name: str
    """What the progress hooks and the docs call it."""
    run: Callable[[Submission], None]
    """The stage itself."""


STAGES: tuple[Stage, ...] = (
    Stage("read", read),
    Stage("prepare", prepare),
    Stage("execute", run),
    Stage("end", end),
    Stage("personalize", personalize),
    Stage("check", check),
    Stage("clean up", clean_up),
    Stage("score", score),
    Stage("report", report),
)
"""Grading one submission, in order."""

Hook = Callable[[Stage, Submission], None]
"""Called as a stage starts or ends, with the stage and the submission so far."""


def run_stages(
    sub: Submission,
    stages: Sequence[Stage] = STAGES,
    *,
    on_stage_start: Hook | None = None,
    on_stage_end: Hook | None = None,
) -> SubmissionResult:
    """Run ``stages`` in order on ``sub``; its graded result. Whatever happens, the
    place and the context are closed."""
    with sub.exits:
        for stage in stages:
            if on_stage_start is not None:
                on_stage_start(stage, sub)
            stage.run(sub)
            if on_stage_end is not None:
                on_stage_end(stage, sub)
    if sub.result is None:
        raise RuntimeError(f"the stages {[s.name for s in stages]} scored nothing")
    return sub.result


def _needs(found: T | None, stage: str) -> T:
    """What an earlier stage made; a stage list out of order fails here, saying which."""
    if found is None:
        raise RuntimeError(f"a stage needs what {stage} makes, and {stage} has not run")
    return found


def _place(sub: Submission) -> Place:
    return _needs(sub.place, "prepare")


def _context(sub: Submission) -> LearnerContext:
    return _needs(sub.context, "personalize")


__all__ = [
    "STAGES",
    "Hook",
    "Stage",
    "Submission",
    "check",
    "clean_up",
    "end",
    "learner_of",
    "personalize",
    "prepare",
    "read",
    "report",
    "run",
    "run_stages",
    "score",
]
