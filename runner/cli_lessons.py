"""``dockdojo run`` and ``dockdojo check``: a lesson's steps, solved and checked.

- ``dockdojo run LESSON`` lists the steps and what each would do; the engine is not
  touched.
- ``dockdojo run LESSON --solve [--fresh]`` performs every step's solution in order and
  checks it; ``--fresh`` first removes what dockdojo labelled for the lesson.
- ``dockdojo check LESSON [--step ID ...]`` only checks the engine's current state,
  however the work was done.

Both print a table, step by step, with the hint under each failed check and totals at
the end; ``--json`` prints :meth:`~dockdojo.runner.report.LessonReport.to_json`
instead (``run`` without ``--solve``: the plan, see :func:`plan_json`). The exit code
is 0 only when every check passed (and every solve action worked).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from .checks import check_lesson
from .engine import Engine
from .errors import DockdojoError
from .lesson import Action, CheckSpec, Lesson
from .params import personalize
from .report import LessonReport, StepReport
from .solve import solve_lesson

PLAN_SCHEMA = "dockdojo.plan/v1"
"""Version of :func:`plan_json`'s shape."""


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``run`` and ``check`` to the ``dockdojo`` command's subparsers."""
    run = subparsers.add_parser(
        "run", help="show a lesson's steps, or perform and check them all (--solve)",
        description="Without --solve, list the lesson's steps and what each would do "
                    "(nothing changes on the engine). With --solve, perform each step as "
                    "its widget would, then check it.")
    run.add_argument("lesson", metavar="LESSON",
                     help="lesson name (e.g. what-is-an-image) or path to its .md file")
    run.add_argument("--solve", action="store_true",
                     help="perform every step on the engine, then run its checks")
    run.add_argument("--fresh", action="store_true",
                     help="with --solve: first remove what dockdojo labelled for this lesson")
    run.add_argument("--json", action="store_true", help="print JSON instead of a table")
    run.add_argument("--learner", help="whose per-learner exercise values to use (default: "
                                       "$DOCKDOJO_LEARNER, $JUPYTERHUB_USER, or your user name)")
    run.set_defaults(func=_run_command)

    check = subparsers.add_parser(
        "check", help="check a lesson's steps against the engine's current state",
        description="Run the lesson's checks against the live engine, however the work "
                    "was done (widgets, docker CLI, Docker Desktop). Exit code 0 only when "
                    "every check passes.")
    check.add_argument("lesson", metavar="LESSON",
                       help="lesson name (e.g. what-is-an-image) or path to its .md file")
    check.add_argument("--step", dest="steps", action="extend", nargs="+", metavar="ID",
                       help="check only these steps (repeatable)")
    check.add_argument("--json", action="store_true", help="print JSON instead of a table")
    check.add_argument("--learner", help="whose per-learner exercise values to check")
    check.set_defaults(func=_check_command)


# commands ---------------------------------------------------------------------------
def _load(ref: str, learner: str | None) -> Lesson:
    from .builder import load_lesson  # imported late: the builder pulls in markdown-it

    lesson = load_lesson(ref)
    return personalize(lesson, learner or Engine(lesson=lesson.id).learner)


def _run_command(args: argparse.Namespace) -> int:
    lesson = _load(args.lesson, args.learner)
    if not args.solve:
        if args.fresh:
            raise DockdojoError("--fresh removes this lesson's containers before solving, so "
                                "it needs --solve.",
                                f"Run: dockdojo run {args.lesson} --solve --fresh")
        if args.json:
            _print_json(plan_json(lesson))
        else:
            sys.stdout.write(render_plan(lesson))
        return 0
    out = sys.stdout
    with Engine(lesson=lesson.id, learner=args.learner) as engine:
        table = _Table(out if not args.json else sys.stderr, lesson=lesson.id,
                       title=lesson.title, steps=[s.id for s in lesson.steps], mode="solve",
                       host=engine.host)
        table.header()
        report = solve_lesson(engine, lesson, fresh=args.fresh, on_step=table.step)
    if args.json:
        _print_json(report.to_json())
    else:
        table.footer(report)
    return 0 if report.passed else 1


def _check_command(args: argparse.Namespace) -> int:
    lesson = _load(args.lesson, args.learner)
    with Engine(lesson=lesson.id, learner=args.learner) as engine:
        report = check_lesson(engine, lesson, args.steps)
    if args.json:
        _print_json(report.to_json())
    else:
        sys.stdout.write(render_report(report))
    return 0 if report.passed else 1


def _print_json(data: Mapping[str, Any]) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


# tables -----------------------------------------------------------------------------
def render_report(report: LessonReport, *, marks: tuple[str, str] | None = None) -> str:
    """The whole report as the table ``check`` prints."""
    lines: list[str] = []
    table = _Table(_Lines(lines), lesson=report.lesson, title=report.title,
                   steps=[s.step for s in report.steps], mode=report.mode, host=report.engine,
                   marks=marks)
    table.header()
    for step in report.steps:
        table.step(step)
    table.footer(report)
    return "".join(lines)


class _Lines:
    """A tiny text sink, so a table can print to a list."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def write(self, text: str) -> int:
        self.lines.append(text)
        return len(text)

    def flush(self) -> None:
        pass


class _Table:
    """Prints a report step by step, as steps finish."""

    def __init__(self, out: TextIO | _Lines, *, lesson: str, title: str, steps: list[str],
                 mode: str, host: str, marks: tuple[str, str] | None = None) -> None:
        self.out = out
        self.lesson = lesson
        self.title = title
        self.mode = mode
        self.host = host
        self.width = max([4, *(len(i) for i in steps)])
        self.marks = marks or _marks(out)

    def _print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def header(self) -> None:
        doing = "solving" if self.mode == "solve" else "checking"
        self._print(f"{self.lesson}: {self.title} ({doing} on {self.host})")
        self._print(f"{'STEP':<{self.width}}  {'':2} {'POINTS':>6}  MESSAGE")

    def step(self, report: StepReport) -> None:
        indent = " " * (self.width + 2)
        first = True
        for result in report.results:
            mark = self.marks[0] if result.passed else self.marks[1]
            label = report.step if first else ""
            points = f"{result.points}/{result.max_points}"
            self._print(f"{label:<{self.width}}  {mark:<2} {points:>6}  "
                        f"{result.kind}: {result.message}")
            if not result.passed and result.hint:
                self._print(f"{indent}{'':2} {'':>6}  hint: {result.hint}")
            first = False
        if not report.results:
            self._print(f"{report.step:<{self.width}}  {'-':<2} {'0/0':>6}  (no checks)")
        for error in report.errors:
            self._print(f"{indent}{self.marks[1]:<2} {'':>6}  action failed: {error}")

    def footer(self, report: LessonReport) -> None:
        verdict = "every check passed" if report.passed else "some checks failed"
        self._print(f"Total: {report.points}/{report.max_points} points, "
                    f"{report.steps_passed}/{report.steps_total} steps passed, "
                    f"{verdict} ({report.seconds:.1f} s).")


def _marks(out: TextIO | _Lines) -> tuple[str, str]:
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        "✓✗".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ("ok", "XX")
    return ("✓", "✗")


# the plan ---------------------------------------------------------------------------
def describe_action(action: Action) -> str:
    """What an action does, in a few words: ``run nginx, port 80 on a random host port``."""
    args = action.args
    if action.kind == "pull":
        return "pull " + ", ".join(str(i) for i in args.get("images") or ())
    if action.kind == "images":
        return "list the local images"
    if action.kind == "run":
        text = f"run {args.get('image')}"
        if args.get("name"):
            text += f" named {args['name']}"
        for port, host in (args.get("ports") or {}).items():
            text += (f", port {port} on a random host port" if host in (0, None, "")
                     else f", port {port} on host port {host}")
        if args.get("env"):
            text += f", with {', '.join(str(k) for k in args['env'])} set"
        return text
    if action.kind == "exec":
        where = (f"container {args['name']}" if args.get("name")
                 else f"a running {args.get('image')} container")
        text = f"open {' '.join(str(a) for a in args.get('command') or ())} in {where}"
        if args.get("suggest"):
            text += ", type: " + " | ".join(str(s) for s in args["suggest"])
        return text
    if action.kind == "remove-image":
        return (f"remove the {args.get('image')} image (when it is in use, first the "
                "containers using it)")
    return f"{action.kind} {dict(args)}"


def describe_check(spec: CheckSpec) -> str:
    """A check as a line: ``http_ok image=nginx contains='Welcome to nginx!'``."""
    words = " ".join(f"{k}={_short_value(v)}" for k, v in spec.args.items())
    return f"{spec.kind} {words}".strip()


def _short_value(value: Any) -> str:
    if isinstance(value, str):
        return value if value and " " not in value else repr(value)
    return json.dumps(value, default=str)


def render_plan(lesson: Lesson) -> str:
    """The steps of ``lesson`` and what each would do (``run`` without ``--solve``)."""
    steps = lesson.steps
    lines = [f"{lesson.id}: {lesson.title} ({_plural(len(steps), 'step')}, "
             f"{_plural(lesson.points, 'point')})",
             "Nothing was changed on the engine. Perform the steps and check them with: "
             f"dockdojo run {lesson.id} --solve", ""]
    for number, step in enumerate(steps, 1):
        kind = " [exercise]" if step.exercise else ""
        lines.append(f"{number:>2}. {step.id}{kind}: {step.title} "
                     f"({_plural(step.points, 'point')})")
        solution = step.solution
        for i, action in enumerate(solution):
            lines.append(f"    {'does:  ' if i == 0 else '       '} {describe_action(action)}")
        if not solution:
            lines.append("    does:   nothing (the learner does it)")
        for i, spec in enumerate(step.checks):
            lines.append(f"    {'checks:' if i == 0 else '       '} {describe_check(spec)}")
    return "\n".join(lines) + "\n"


def plan_json(lesson: Lesson) -> dict[str, Any]:
    """The plan as JSON (schema ``dockdojo.plan/v1``)::

        {"schema": "dockdojo.plan/v1", "lesson": ID, "title": ..., "points": N,
         "steps": [{"id", "title", "exercise", "points",
                    "actions": [{"kind", "args", "does"}],
                    "checks": [{"kind", "args", "points", "hint", "line"}]}]}
    """
    return {
        "schema": PLAN_SCHEMA, "lesson": lesson.id, "title": lesson.title,
        "points": lesson.points,
        "steps": [{
            "id": s.id, "title": s.title, "exercise": s.exercise, "points": s.points,
            "actions": [{"kind": a.kind, "args": _jsonable(a.args),
                         "does": describe_action(a)} for a in s.solution],
            "checks": [{"kind": c.kind, "args": _jsonable(c.args), "points": c.points,
                        "hint": c.hint, "line": c.line} for c in s.checks],
        } for s in lesson.steps],
    }


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _jsonable(value: Any) -> Any:
    result: Any = json.loads(json.dumps(value, default=str))
    return result


__all__ = ["PLAN_SCHEMA", "add_commands", "describe_action", "describe_check", "plan_json",
           "render_plan", "render_report"]
