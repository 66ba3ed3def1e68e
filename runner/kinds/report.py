"""What checking or solving a lesson found: typed results, and their JSON form.

``dockdojo check --json`` and ``dockdojo run --solve --json`` print
:meth:`LessonReport.to_json`, an object shaped like this (schema ``dockdojo.report/v1``)::

    {
      "schema": "dockdojo.report/v1",
      "lesson": "what-is-an-image",        // Lesson.id
      "title": "What is an image?",
      "mode": "check",                      // or "solve"
      "engine": "unix:///var/run/docker.sock",
      "passed": false,                      // every check passed and no action failed
      "points": 12, "max_points": 17,
      "steps_passed": 4, "steps_total": 6,
      "seconds": 1.23,
      "steps": [
        {
          "id": "run-nginx", "title": "Run nginx", "passed": true,
          "points": 3, "max_points": 3, "seconds": 0.41,
          "errors": [],                     // solve: actions that failed, as sentences
          "checks": [
            {
              "step": "run-nginx", "kind": "http_ok", "line": 42, "passed": true,
              "message": "http://127.0.0.1:32768/ (web) answered 200 ...",
              "hint": "Run nginx with host port 0, then open its port link.",
              "evidence": {"url": "http://127.0.0.1:32768/", "status": 200, ...},
              "points": 1, "max_points": 1, "seconds": 0.01
            }
          ]
        }
      ]
    }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

REPORT_SCHEMA = "dockdojo.report/v1"
"""Version of :meth:`LessonReport.to_json`'s shape."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check against the live engine."""

    step: str
    """Id of the step the check belongs to."""
    kind: str
    """Check name, e.g. ``http_ok``."""
    passed: bool
    """Whether the engine's state satisfied the check."""
    message: str
    """A sentence saying what was seen, passed or not."""
    hint: str
    """What to do when it failed: the lesson's hint, or the engine error's own hint when
    the engine could not be asked. Shown on failure only."""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    """A small JSON-able record of what was seen: ids, names, ports, status, output."""
    points: int = 0
    """Points earned: the check's points when it passed, else 0."""
    max_points: int = 0
    """Points the check is worth."""
    seconds: float = 0.0
    """Wall time the check took."""
    line: int = 0
    """1-based source line of the check's declaration in the lesson."""

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "kind": self.kind,
            "line": self.line,
            "passed": self.passed,
            "message": self.message,
            "hint": self.hint,
            "evidence": dict(self.evidence),
            "points": self.points,
            "max_points": self.max_points,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class StepReport:
    """The checks of one step, and (when solving) what its actions did."""

    step: str
    """Step id."""
    title: str
    """Step title."""
    results: tuple[CheckResult, ...]
    """One result per declared check, in declaration order."""
    errors: tuple[str, ...] = ()
    """Solve only: actions that failed, each as ``what`` and ``hint`` sentences."""
    seconds: float = 0.0
    """Wall time for the step (actions and checks)."""

    @property
    def passed(self) -> bool:
        return not self.errors and all(r.passed for r in self.results)

    @property
    def points(self) -> int:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> int:
        return sum(r.max_points for r in self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.step,
            "title": self.title,
            "passed": self.passed,
            "points": self.points,
            "max_points": self.max_points,
            "seconds": round(self.seconds, 3),
            "errors": list(self.errors),
            "checks": [r.to_json() for r in self.results],
        }


@dataclass(frozen=True)
class LessonReport:
    """Every checked step of a lesson, with totals."""

    lesson: str
    """Lesson id."""
    title: str
    """Lesson title."""
    steps: tuple[StepReport, ...]
    """The checked steps, in lesson order."""
    mode: str = "check"
    """``check`` (state inspected only) or ``solve`` (actions performed first)."""
    engine: str = ""
    """Where the engine was looked for."""
    seconds: float = 0.0
    """Wall time of the whole run."""

    @property
    def points(self) -> int:
        return sum(s.points for s in self.steps)

    @property
    def max_points(self) -> int:
        return sum(s.max_points for s in self.steps)

    @property
    def steps_passed(self) -> int:
        return sum(1 for s in self.steps if s.passed)

    @property
    def steps_total(self) -> int:
        return len(self.steps)

    @property
    def passed(self) -> bool:
        return all(s.passed for s in self.steps)

    @property
    def results(self) -> tuple[CheckResult, ...]:
        return tuple(r for s in self.steps for r in s.results)

    def step(self, step_id: str) -> StepReport:
        for report in self.steps:
            if report.step == step_id:
                return report
        raise KeyError(f"the report has no step {step_id!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "lesson": self.lesson,
            "title": self.title,
            "mode": self.mode,
            "engine": self.engine,
            "passed": self.passed,
            "points": self.points,
            "max_points": self.max_points,
            "steps_passed": self.steps_passed,
            "steps_total": self.steps_total,
            "seconds": round(self.seconds, 3),
            "steps": [s.to_json() for s in self.steps],
        }


__all__ = ["REPORT_SCHEMA", "CheckResult", "LessonReport", "StepReport"]
