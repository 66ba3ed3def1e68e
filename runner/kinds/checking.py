"""Checking: a lesson's checks run against the live engine, concurrently.

One call (:func:`run_checks`, and the helpers built on it) takes a single snapshot of
images and containers, shares it across its checks, and runs the checks at once, each
in its own worker thread with its own SDK client and a time limit. The check kinds
themselves are the entries of :data:`~dockdojo.runner.kinds.checks.CHECKS`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..authoring.declarations import problems
from ..authoring.model import CheckSpec, Lesson, Step
from ..engine import Engine, Snapshot, TrustedImages
from ..errors import DockdojoError, EngineUnavailable
from ..text import shorten
from .base import (
    DEFAULT_TIMEOUT,
    ENGINE_FAILURES,
    Call,
    Context,
    TimedOut,
    as_error,
    bounded,
)
from .checks import CHECKS
from .report import CheckResult, LessonReport, StepReport

BACKSTOP = 0.5
"""Seconds a worker is awaited beyond its check's time limit: HTTP and engine calls have
limits of their own, whose messages say more, so they should end it first."""
MAX_PARALLEL = 16
"""Checks run at the same time, at most."""


# public API -------------------------------------------------------------------------
def run_check(
    engine: Engine,
    lesson: Lesson,
    step: Step,
    spec: CheckSpec,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    snapshot: Snapshot | None = None,
    images: TrustedImages | None = None,
    folder: Path | None = None,
) -> CheckResult:
    """Run one check of ``step`` against the live engine."""
    return run_checks(
        engine,
        lesson,
        [(step, spec)],
        timeout=timeout,
        snapshot=snapshot,
        images=images,
        folder=folder,
    )[0]


def run_step_checks(
    engine: Engine,
    lesson: Lesson,
    step: Step,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    snapshot: Snapshot | None = None,
    images: TrustedImages | None = None,
    folder: Path | None = None,
) -> list[CheckResult]:
    """Run every check of ``step``, in declaration order."""
    items = [(step, c) for c in step.checks]
    return run_checks(
        engine, lesson, items, timeout=timeout, snapshot=snapshot, images=images, folder=folder
    )


def check_lesson(
    engine: Engine,
    lesson: Lesson,
    step_ids: Sequence[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    snapshot: Snapshot | None = None,
    images: TrustedImages | None = None,
    folder: Path | None = None,
) -> LessonReport:
    """Check the steps ``step_ids`` (default: all) of ``lesson`` against the engine, over
    ``snapshot`` when the caller has read the engine already (the notebook's live model),
    else over one read now; ``images`` are the manifests that count as the lesson's
    images (the learner context's; by default, any pulled as the declared repository);
    ``folder`` is the notebook's, where checks read files beside it (None: not here).

    Raises :class:`DockdojoError` only for a step id the lesson does not have.
    """
    started = time.monotonic()
    steps = select_steps(lesson, step_ids)
    chosen = {s.id for s in steps}
    extra = [
        lesson.step(i)
        for i in dict.fromkeys(s.undone_by for s in steps if s.undone_by)
        if i not in chosen
    ]
    items = [(s, c) for s in [*steps, *extra] for c in s.checks]
    results = run_checks(
        engine, lesson, items, timeout=timeout, snapshot=snapshot, images=images, folder=folder
    )
    by_step: dict[str, list[CheckResult]] = {}
    for (step, _), result in zip(items, results, strict=True):
        by_step.setdefault(step.id, []).append(result)
    reports = []
    for step in steps:
        mine = by_step.get(step.id, [])
        undoer = by_step.get(step.undone_by, []) if step.undone_by else []
        if undoer and all(r.passed for r in undoer):
            mine = [r if r.passed else _undone(r, step.undone_by) for r in mine]
        reports.append(
            StepReport(
                step.id,
                step.title,
                tuple(mine),
                seconds=max((r.seconds for r in mine), default=0.0),
            )
        )
    return LessonReport(
        lesson.id,
        lesson.title,
        tuple(reports),
        mode="check",
        engine=engine.host,
        seconds=time.monotonic() - started,
    )


def _undone(result: CheckResult, by: str) -> CheckResult:
    """A check a later step made fail on purpose: done, with what was seen and why."""
    return replace(
        result,
        passed=True,
        points=result.max_points,
        message=f"Done earlier; step {by} has since undone it, as the guide asks "
        f"(now: {result.message})",
        evidence={**result.evidence, "undone_by": by},
    )


def run_checks(
    engine: Engine,
    lesson: Lesson,
    items: Sequence[tuple[Step, CheckSpec]],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    snapshot: Snapshot | None = None,
    images: TrustedImages | None = None,
    folder: Path | None = None,
) -> list[CheckResult]:
    """Run checks concurrently over one shared snapshot; results in the order of ``items``.

    ``step_done`` checks are decided after the checks they depend on, which run in the
    same batch even when ``items`` does not list them.
    """
    started = time.monotonic()
    if snapshot is None:
        taken = bounded(engine, [lambda: Snapshot.take(engine)], timeout)[0]
        if not isinstance(taken, Snapshot):
            error = as_error(
                taken, f"Reading the engine's images and containers took more than {timeout:g} s."
            )
            took = time.monotonic() - started
            return [
                _failed(step, spec, error.what, error.hint or spec.hint, took)
                for step, spec in items
            ]
        snapshot = taken
    ctx = Context(
        engine,
        lesson,
        snapshot,
        timeout,
        _evaluate,
        images=images or TrustedImages(),
        folder=folder,
    )
    plain = _with_dependencies(lesson, items)
    _run_plain(ctx, plain)
    out = []
    for step, spec in items:
        if spec.kind == "step_done":
            out.append(_evaluate(Call(ctx, step, spec, time.monotonic() + timeout)))
        else:
            out.append(ctx.results[id(spec)])
    return out


def select_steps(lesson: Lesson, step_ids: Sequence[str] | None) -> list[Step]:
    """The lesson's steps named by ``step_ids`` (all when None), in lesson order."""
    if not step_ids:
        return list(lesson.steps)
    known = {s.id for s in lesson.steps}
    unknown = [s for s in step_ids if s not in known]
    if unknown:
        raise DockdojoError(
            f"Lesson {lesson.id} has no step {', '.join(repr(s) for s in unknown)}.",
            f"Its steps are: {', '.join(s.id for s in lesson.steps) or 'none'}.",
        )
    wanted = set(step_ids)
    return [s for s in lesson.steps if s.id in wanted]


# running ----------------------------------------------------------------------------
def _with_dependencies(
    lesson: Lesson, items: Iterable[tuple[Step, CheckSpec]]
) -> list[tuple[Step, CheckSpec]]:
    """The non-``step_done`` checks of ``items`` plus those their ``step_done`` need."""
    steps = {s.id: s for s in lesson.steps}
    out: dict[int, tuple[Step, CheckSpec]] = {}
    todo = list(items)
    seen_steps: set[str] = set()
    while todo:
        step, spec = todo.pop(0)
        if spec.kind != "step_done":
            out.setdefault(id(spec), (step, spec))
            continue
        target = steps.get(str(spec.args.get("step", "")))
        if target is not None and target.id not in seen_steps:
            seen_steps.add(target.id)
            todo.extend((target, c) for c in target.checks)
    return list(out.values())


def _run_plain(ctx: Context, items: list[tuple[Step, CheckSpec]]) -> None:
    for start in range(0, len(items), MAX_PARALLEL):
        batch = items[start : start + MAX_PARALLEL]
        jobs = [_job(ctx, step, spec) for step, spec in batch]
        begun = time.monotonic()
        outcomes = bounded(ctx.engine, jobs, ctx.timeout + BACKSTOP)
        for (step, spec), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, CheckResult):
                ctx.results[id(spec)] = outcome
            elif isinstance(outcome, TimedOut):
                ctx.results[id(spec)] = _failed(
                    step,
                    spec,
                    f"The {spec.kind} check did not finish within "
                    f"{ctx.timeout:g} s: the engine, or a command inside a container, is "
                    "slow or stuck.",
                    spec.hint,
                    time.monotonic() - begun,
                    {"timeout": ctx.timeout},
                )
            else:
                raise outcome


def _job(ctx: Context, step: Step, spec: CheckSpec) -> Callable[[], CheckResult]:
    return lambda: _evaluate(Call(ctx, step, spec, time.monotonic() + ctx.timeout))


def _evaluate(call: Call) -> CheckResult:
    started = time.monotonic()
    spec, step = call.spec, call.step
    kind = CHECKS.get(spec.kind)
    if kind is None:
        return _failed(
            step,
            spec,
            f"dockdojo has no check named {spec.kind!r} (it knows {', '.join(sorted(CHECKS))}).",
            "Fix the lesson's check.",
            0.0,
        )
    wrong = problems(kind.schema, spec.args)
    if wrong:
        return _failed(
            step,
            spec,
            "The check is declared wrongly: " + "; ".join(wrong) + ".",
            "Fix the lesson's check declaration.",
            0.0,
        )
    try:
        seen = kind.check(call)
    except EngineUnavailable as exc:
        return _failed(step, spec, exc.what, exc.hint, time.monotonic() - started)
    except DockdojoError as exc:
        return _failed(step, spec, exc.what, spec.hint, time.monotonic() - started)
    except ENGINE_FAILURES as exc:
        return _failed(
            step,
            spec,
            f"The {spec.kind} check could not read the engine: "
            f"{shorten(str(exc) or type(exc).__name__)}",
            spec.hint,
            time.monotonic() - started,
        )
    return CheckResult(
        step=step.id,
        kind=spec.kind,
        passed=seen.passed,
        message=seen.message,
        hint=spec.hint,
        evidence=seen.evidence,
        points=spec.points if seen.passed else 0,
        max_points=spec.points,
        seconds=time.monotonic() - started,
        line=spec.line,
    )


def _failed(
    step: Step,
    spec: CheckSpec,
    message: str,
    hint: str,
    seconds: float,
    evidence: Mapping[str, Any] | None = None,
) -> CheckResult:
    return CheckResult(
        step=step.id,
        kind=spec.kind,
        passed=False,
        message=message,
        hint=hint,
        evidence=dict(evidence or {}),
        points=0,
        max_points=spec.points,
        seconds=seconds,
        line=spec.line,
    )


__all__ = [
    "DEFAULT_TIMEOUT",
    "check_lesson",
    "run_check",
    "run_checks",
    "run_step_checks",
    "select_steps",
]
