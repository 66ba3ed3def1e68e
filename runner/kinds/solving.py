"""Solving: perform each step as a learner would with its widget, then check it.

Every action kind (:data:`~dockdojo.runner.kinds.actions.ACTIONS`) is performed through
the :class:`~dockdojo.runner.engine.Engine`, so ``dockdojo run --solve`` proves a lesson
end to end against a live engine (Instruqt calls these solve scripts). What each action
may remove is said in :mod:`.actions`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import requests
from docker.errors import DockerException

from ..authoring.declarations import problems
from ..authoring.model import Action, Lesson, Step
from ..engine import Engine
from ..errors import DockdojoError
from .actions import ACTIONS
from .checking import DEFAULT_TIMEOUT, run_step_checks, select_steps
from .report import LessonReport, StepReport

SETTLE = 5.0
"""Seconds a solved step's failing checks are retried (a server may still be starting)."""

StepCallback = Callable[[StepReport], None]
_FAILURES = (DockdojoError, DockerException, requests.RequestException, OSError)


def solve_lesson(
    engine: Engine,
    lesson: Lesson,
    *,
    fresh: bool = False,
    on_step: StepCallback | None = None,
    step_ids: Sequence[str] | None = None,
    settle: float = SETTLE,
    timeout: float = DEFAULT_TIMEOUT,
) -> LessonReport:
    """Perform each step's solution in order, then its checks; report like ``check``.

    ``fresh`` first removes what dockdojo labelled for this lesson: on a shared engine,
    only what it made for this learner (its errors are raised). An action that fails is
    recorded in its step's ``errors`` and the step's remaining actions are skipped;
    later steps still run. ``on_step`` is called with
    each step's report as soon as it is known.
    """
    started = time.monotonic()
    steps = select_steps(lesson, step_ids)
    if fresh:
        engine.remove_labelled(engine.ownership.lesson_filter(lesson.id))
    reports = []
    for step in steps:
        report = solve_step(engine, lesson, step, settle=settle, timeout=timeout)
        reports.append(report)
        if on_step is not None:
            on_step(report)
    return LessonReport(
        lesson.id,
        lesson.title,
        tuple(reports),
        mode="solve",
        engine=engine.host,
        seconds=time.monotonic() - started,
    )


def solve_step(
    engine: Engine,
    lesson: Lesson,
    step: Step,
    *,
    settle: float = SETTLE,
    timeout: float = DEFAULT_TIMEOUT,
) -> StepReport:
    """Perform ``step.solution``, then run the step's checks (retried for ``settle`` s)."""
    started = time.monotonic()
    errors: list[str] = []
    try:
        for image in step.needs:  # what an earlier lesson pulled, as its widget offers
            if engine.image(image) is None:
                engine.pull(image)
    except _FAILURES as exc:
        errors.append(
            _describe_failure(Action("pull", {"images": list(step.needs)}, step.line), exc)
        )
    for action in () if errors else step.solution:
        try:
            perform(engine, lesson, step, action)
        except _FAILURES as exc:
            errors.append(_describe_failure(action, exc))
            break
    here = Path.cwd()  # where the actions wrote files beside the notebook
    results = run_step_checks(engine, lesson, step, timeout=timeout, folder=here)
    deadline = time.monotonic() + settle
    while not errors and not all(r.passed for r in results) and time.monotonic() < deadline:
        time.sleep(0.25)
        results = run_step_checks(engine, lesson, step, timeout=timeout, folder=here)
    return StepReport(
        step.id, step.title, tuple(results), tuple(errors), seconds=time.monotonic() - started
    )


def perform(engine: Engine, lesson: Lesson, step: Step, action: Action) -> str:
    """Do one action of ``step``; return what was done, as a sentence.

    Raises :class:`DockdojoError` (or the error of the engine call that failed).
    """
    kind = ACTIONS.get(action.kind)
    if kind is None:
        raise DockdojoError(
            f"dockdojo has no action named {action.kind!r} (it knows "
            f"{', '.join(sorted(ACTIONS))}).",
            "Fix the lesson's action.",
        )
    wrong = problems(kind.schema, action.args)
    if wrong:
        raise DockdojoError(
            f"The {action.kind} action is declared wrongly: " + "; ".join(wrong) + ".",
            "Fix the lesson's action declaration.",
        )
    return kind.perform(engine, lesson, step, action.args)


def _describe_failure(action: Action, exc: BaseException) -> str:
    if isinstance(exc, DockdojoError):
        return f"{action.kind}: {exc.what}" + (f" {exc.hint}" if exc.hint else "")
    return f"{action.kind}: the engine failed ({type(exc).__name__}: {exc})."


__all__ = ["SETTLE", "perform", "solve_lesson", "solve_step"]
