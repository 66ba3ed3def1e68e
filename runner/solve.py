"""Solving: perform each step as a learner would with its widget, then check it.

Every action kind of :data:`~dockdojo.runner.specs.ACTIONS` is performed through the
:class:`~dockdojo.runner.engine.Engine`, so ``dockdojo run --solve`` proves a lesson end
to end against a live engine (Instruqt calls these solve scripts).

What solving may touch follows the project's rule: dockdojo removes only what it
labelled, except in a step that is the learner's own delete (``remove-image``).

- ``run`` labels its container with the lesson and step. Solving again replaces the
  container this step made before (same name, or, without a name, the same lesson, step
  and learner labels); a container of the requested name that dockdojo did not make for
  this step is left alone and reported (:class:`NameInUse`).
- ``remove-image`` tries the removal; when containers use the image it removes exactly
  the containers the engine's refusal lists, then the image.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests
from docker.errors import DockerException

from .checks import DEFAULT_TIMEOUT, run_step_checks, select_steps
from .engine import Engine
from .errors import (
    ContainerNotFound,
    ContainerNotRunning,
    DockdojoError,
    ExecTimeout,
    ImageInUse,
    ImageNotFound,
    NameInUse,
)
from .lesson import Action, Lesson, Step
from .models import LABEL_LEARNER, LABEL_LESSON, LABEL_STEP
from .refs import normalize
from .report import LessonReport, StepReport
from .snapshot import Snapshot, prefer_lesson
from .specs import ACTIONS, problems

SESSION_TIMEOUT = 60.0
"""Seconds an exec action may spend waiting for its program to be ready."""
PROMPT_TIMEOUT = 20.0
"""Seconds to wait for the prompt after typing one line."""
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

    ``fresh`` first removes what dockdojo labelled for this lesson (its errors are
    raised). An action that fails is recorded in its step's ``errors`` and the step's
    remaining actions are skipped; later steps still run. ``on_step`` is called with
    each step's report as soon as it is known.
    """
    started = time.monotonic()
    steps = select_steps(lesson, step_ids)
    if fresh:
        engine.remove_labelled({LABEL_LESSON: lesson.id})
    reports = []
    for step in steps:
        report = solve_step(engine, lesson, step, settle=settle, timeout=timeout)
        reports.append(report)
        if on_step is not None:
            on_step(report)
    return LessonReport(lesson.id, lesson.title, tuple(reports), mode="solve",
                        engine=engine.host, seconds=time.monotonic() - started)


def solve_step(engine: Engine, lesson: Lesson, step: Step, *, settle: float = SETTLE,
               timeout: float = DEFAULT_TIMEOUT) -> StepReport:
    """Perform ``step.solution``, then run the step's checks (retried for ``settle`` s)."""
    started = time.monotonic()
    errors: list[str] = []
    for action in step.solution:
        try:
            perform(engine, lesson, step, action)
        except _FAILURES as exc:
            errors.append(_describe_failure(action, exc))
            break
    results = run_step_checks(engine, lesson, step, timeout=timeout)
    deadline = time.monotonic() + settle
    while not errors and not all(r.passed for r in results) and time.monotonic() < deadline:
        time.sleep(0.25)
        results = run_step_checks(engine, lesson, step, timeout=timeout)
    return StepReport(step.id, step.title, tuple(results), tuple(errors),
                      seconds=time.monotonic() - started)


def perform(engine: Engine, lesson: Lesson, step: Step, action: Action) -> str:
    """Do one action of ``step``; return what was done, as a sentence.

    Raises :class:`DockdojoError` (or the error of the engine call that failed).
    """
    spec = ACTIONS.get(action.kind)
    if spec is None:
        raise DockdojoError(f"dockdojo has no action named {action.kind!r} (it knows "
                            f"{', '.join(sorted(ACTIONS))}).", "Fix the lesson's action.")
    wrong = problems(spec, action.args)
    if wrong:
        raise DockdojoError(f"The {action.kind} action is declared wrongly: "
                            + "; ".join(wrong) + ".", "Fix the lesson's action declaration.")
    return PERFORMERS[action.kind](engine, lesson, step, action.args)


# the actions ------------------------------------------------------------------------
def _pull(engine: Engine, _lesson: Lesson, _step: Step, args: Mapping[str, Any]) -> str:
    pulled = [engine.pull(str(image)).name for image in args["images"]]
    return f"Pulled {', '.join(pulled)}."


def _images(engine: Engine, _lesson: Lesson, _step: Step, _args: Mapping[str, Any]) -> str:
    names = sorted({row.name for row in engine.images()})
    return (f"The engine has {len(names)} image{'s' if len(names) != 1 else ''}: "
            f"{', '.join(names) or 'none'}.")


def _run(engine: Engine, lesson: Lesson, step: Step, args: Mapping[str, Any]) -> str:
    image = str(args["image"])
    name = str(args["name"]) if args.get("name") else None
    mine = {LABEL_LESSON: lesson.id, LABEL_STEP: step.id}
    if name is not None:
        try:
            existing = engine.container(name)
        except ContainerNotFound:
            existing = None
        if existing is not None:
            if not all(existing.labels.get(k) == v for k, v in mine.items()):
                raise NameInUse(
                    f"A container named {name!r} already exists and dockdojo did not make "
                    f"it for step {step.id} of {lesson.id}, so it was left alone.",
                    f"Remove or rename it yourself (docker rm -f {name}), then solve again.")
            _remove_quietly(engine, existing.id)
    else:
        earlier = engine.containers(labels={**mine, LABEL_LEARNER: engine.learner})
        for container in earlier:
            _remove_quietly(engine, container.id)
    ports = args.get("ports")
    env = args.get("env")
    info = engine.run(
        image, name=name, step=step.id, labels={LABEL_LESSON: lesson.id},
        ports=dict(ports) if ports else None,
        env={str(k): str(v) for k, v in env.items()} if env else None,
        command=[str(a) for a in args["command"]] if args.get("command") else None,
    )
    links = f" ({', '.join(info.links)})" if info.links else ""
    return f"Started {info.name} from {normalize(image)}{links}."


def _exec(engine: Engine, lesson: Lesson, step: Step, args: Mapping[str, Any]) -> str:
    command = [str(a) for a in args["command"]]
    prompt = str(args["prompt"])
    lines = [str(line) for line in args.get("suggest") or ()]
    target = exec_target(engine, lesson, step, name=args.get("name"), image=args.get("image"),
                         program=command[0])
    deadline = time.monotonic() + SESSION_TIMEOUT
    while True:
        with engine.session(target, command) as session:
            try:
                session.expect(prompt, timeout=min(PROMPT_TIMEOUT, _left(deadline)))
            except ExecTimeout:
                # A program that ended before its prompt may have met a server still
                # starting (mongosh does): try again. One that waits is really stuck.
                if session.alive or time.monotonic() + 1.0 >= deadline:
                    raise
                time.sleep(0.5)
                continue
            for line in lines:
                session.run(line, prompt, timeout=PROMPT_TIMEOUT)
            return (f"Ran {' '.join(command)} in {target} and typed {len(lines)} "
                    f"line{'s' if len(lines) != 1 else ''}.")


def exec_target(engine: Engine, lesson: Lesson, step: Step, *, name: object = None,
                image: object = None, program: str = "the command") -> str:
    """The container an exec action runs in: the named one, else a running container from
    the image, preferring one an earlier step of this lesson made (see
    :func:`~dockdojo.runner.snapshot.prefer_lesson`)."""
    if name:
        return str(name)
    snapshot = Snapshot.take(engine)
    running = snapshot.matching(image=str(image), running=True)
    if not running:
        raise ContainerNotRunning(
            f"No container from {normalize(str(image))} is running, so {program} has "
            "nowhere to run.",
            f"Run one first (the step that runs {normalize(str(image))}), then solve this "
            "step again.")
    ids = [s.id for s in lesson.steps]
    until = ids[:ids.index(step.id) + 1] if step.id in ids else [step.id]
    return prefer_lesson(running, lesson.id, until)[0].name


def _remove_image(engine: Engine, _lesson: Lesson, _step: Step,
                  args: Mapping[str, Any]) -> str:
    image = str(args["image"])
    try:
        engine.remove_image(image)
    except ImageNotFound:
        return f"{normalize(image)} was not on the engine; nothing to remove."
    except ImageInUse as refusal:
        for user in refusal.containers:
            _remove_quietly(engine, user.id)
        engine.remove_image(image)
        names = ", ".join(u.name for u in refusal.containers)
        return (f"{normalize(image)} was in use by {names}; removed "
                f"{'it' if len(refusal.containers) == 1 else 'them'}, then the image.")
    return f"Removed {normalize(image)}."


def _remove_container(engine: Engine, _lesson: Lesson, _step: Step,
                      args: Mapping[str, Any]) -> str:
    name = str(args["name"])
    try:
        engine.remove_container(name, force=True)
    except ContainerNotFound:
        return f"There was no container {name}; nothing to remove."
    return f"Removed the container {name}."


Performer = Callable[[Engine, Lesson, Step, Mapping[str, Any]], str]
PERFORMERS: dict[str, Performer] = {
    "pull": _pull,
    "images": _images,
    "run": _run,
    "exec": _exec,
    "remove-image": _remove_image,
    "remove-container": _remove_container,
}
"""Every action kind of :data:`~dockdojo.runner.specs.ACTIONS`, by name."""


# helpers ----------------------------------------------------------------------------
def _remove_quietly(engine: Engine, ref: str) -> None:
    with contextlib.suppress(ContainerNotFound):  # gone meanwhile: the goal is reached
        engine.remove_container(ref, force=True)


def _left(deadline: float) -> float:
    return max(1.0, deadline - time.monotonic())


def _describe_failure(action: Action, exc: BaseException) -> str:
    if isinstance(exc, DockdojoError):
        return f"{action.kind}: {exc.what}" + (f" {exc.hint}" if exc.hint else "")
    return f"{action.kind}: the engine failed ({type(exc).__name__}: {exc})."


__all__ = ["PERFORMERS", "SETTLE", "exec_target", "perform", "solve_lesson", "solve_step"]
