"""What ``dockdojo check`` and ``dockdojo run`` print: report tables and the plan.

The plan's JSON form (schema ``dockdojo.plan/v1``) is documented at :func:`plan_json`.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from ..authoring import CheckSpec, Lesson
from ..kinds import ACTIONS, LessonReport, StepReport
from ..text import plural

PLAN_SCHEMA = "dockdojo.plan/v1"
"""Version of :func:`plan_json`'s shape."""


def render_report(report: LessonReport, *, marks: tuple[str, str] | None = None) -> str:
    """The whole report as the table ``check`` prints."""
    lines: list[str] = []
    table = Table(
        _Lines(lines),
        lesson=report.lesson,
        title=report.title,
        steps=[s.step for s in report.steps],
        mode=report.mode,
        host=report.engine,
        marks=marks,
    )
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


class Table:
    """Prints a report step by step, as steps finish."""

    def __init__(
        self,
        out: TextIO | _Lines,
        *,
        lesson: str,
        title: str,
        steps: list[str],
        mode: str,
        host: str,
        marks: tuple[str, str] | None = None,
    ) -> None:
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
            self._print(
                f"{label:<{self.width}}  {mark:<2} {points:>6}  {result.kind}: {result.message}"
            )
            if not result.passed and result.hint:
                self._print(f"{indent}{'':2} {'':>6}  hint: {result.hint}")
            first = False
        if not report.results:
            self._print(f"{report.step:<{self.width}}  {'-':<2} {'0/0':>6}  (no checks)")
        for error in report.errors:
            self._print(f"{indent}{self.marks[1]:<2} {'':>6}  action failed: {error}")

    def footer(self, report: LessonReport) -> None:
        verdict = "every check passed" if report.passed else "some checks failed"
        self._print(
            f"Total: {report.points}/{report.max_points} points, "
            f"{report.steps_passed}/{report.steps_total} steps passed, "
            f"{verdict} ({report.seconds:.1f} s)."
        )


def _marks(out: TextIO | _Lines) -> tuple[str, str]:
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        "✓✗".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return ("ok", "XX")
    return ("✓", "✗")


# the plan ---------------------------------------------------------------------------
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
    lines = [
        f"{lesson.id}: {lesson.title} ({plural(len(steps), 'step')}, "
        f"{plural(lesson.points, 'point')})",
        "Nothing was changed on the engine. Perform the steps and check them with: "
        f"dockdojo run {lesson.id} --solve",
        "",
    ]
    for number, step in enumerate(steps, 1):
        kind = " [exercise]" if step.exercise else ""
        lines.append(f"{number:>2}. {step.id}{kind}: {step.title} ({plural(step.points, 'point')})")
        solution = step.solution
        for i, action in enumerate(solution):
            does = ACTIONS[action.kind].describe(action.args)
            lines.append(f"    {'does:  ' if i == 0 else '       '} {does}")
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
        "schema": PLAN_SCHEMA,
        "lesson": lesson.id,
        "title": lesson.title,
        "points": lesson.points,
        "steps": [
            {
                "id": s.id,
                "title": s.title,
                "exercise": s.exercise,
                "points": s.points,
                "actions": [
                    {
                        "kind": a.kind,
                        "args": _jsonable(a.args),
                        "does": ACTIONS[a.kind].describe(a.args),
                    }
                    for a in s.solution
                ],
                "checks": [
                    {
                        "kind": c.kind,
                        "args": _jsonable(c.args),
                        "points": c.points,
                        "hint": c.hint,
                        "line": c.line,
                    }
                    for c in s.checks
                ],
            }
            for s in lesson.steps
        ],
    }


def _jsonable(value: Any) -> Any:
    result: Any = json.loads(json.dumps(value, default=str))
    return result


__all__ = ["PLAN_SCHEMA", "Table", "describe_check", "plan_json", "render_plan", "render_report"]
