"""A graded submission (:class:`SubmissionResult`), what a check lost and why, and the
wording every report format shares."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

from ...kinds.report import CheckResult, LessonReport
from ...text import plain_text

GRADE_SCHEMA = "dockdojo.grade/v1"
"""Version of :func:`to_json`'s shape (``schemas/grade-result-v1.json``)."""

Status = Literal["graded", "timeout", "kernel-died", "error"]
STATUSES: tuple[Status, ...] = ("graded", "timeout", "kernel-died", "error")
Isolation = Literal["isolated", "trusted"]
"""How a submission's notebook run ended; anything but ``graded`` ended it early."""

ParameterValue = str | int | float | bool

LOST_CHECK_FAILED = "check-failed"
LOST_RUN_ENDED_EARLY = "run-ended-early"

RUN_ENDED = {
    "graded": ("✅", "ran to the end"),
    "timeout": ("⏱️", "stopped when its time ran out"),
    "kernel-died": ("💥", "stopped when its Python kernel died"),
    "error": ("⚠️", "stopped at an error"),
}
"""Per status: a mark, and how the run ended after "the notebook" or "the run"."""
TEXT_LIMIT = 2000
"""Characters of one message shown in a feedback notebook or Gradescope output."""


@dataclass(frozen=True)
class SubmissionResult:
    """One learner's graded submission: how its notebook ran, and what the checks found."""

    submission: str
    """The submitted notebook's path, as the grader was given it."""
    learner: str
    """The learner's id (a name, an e-mail address, a roster id)."""
    lesson: str
    """Id of the lesson the submission was graded against."""
    report: LessonReport
    """The lesson's checks, run against the engine after the notebook ran."""
    status: Status = "graded"
    """How the notebook run ended: ``graded`` (ran to the end), ``timeout``,
    ``kernel-died`` or ``error``; the checks ran in every case."""
    execution_message: str = ""
    """A sentence on how the run ended, e.g. which cell raised or ran out of time."""
    cells_run: int = 0
    """Code cells the run executed."""
    cells_total: int = 0
    """Code cells in the submitted notebook."""
    seconds: float = 0.0
    """Wall time of the notebook run (the checks' time is in the report)."""
    parameters: Mapping[str, ParameterValue] = field(default_factory=dict)
    """Per-learner exercise values the learner was shown, e.g.
    ``{"redis-cache.name": "cache-3f2a"}``."""
    isolation: Isolation = "isolated"
    """``isolated``: the notebook ran as a pool user of its own on a throwaway engine of
    its own; ``trusted``: as the grader's user on the grader's engine (``--trusted``)."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} is not one of {', '.join(STATUSES)}")
        if self.report.lesson != self.lesson:
            raise ValueError(f"the report is of lesson {self.report.lesson!r}, not {self.lesson!r}")
        if not 0 <= self.cells_run <= self.cells_total:
            raise ValueError(
                f"cells_run ({self.cells_run}) must be between 0 and "
                f"cells_total ({self.cells_total})"
            )
        if not self.learner.strip():
            raise ValueError("a submission needs a learner id")

    @property
    def points(self) -> int:
        return self.report.points

    @property
    def max_points(self) -> int:
        return self.report.max_points

    @property
    def score(self) -> float:
        """Points earned as a fraction of the points possible (0.0 when none are)."""
        return self.points / self.max_points if self.max_points else 0.0

    @property
    def passed(self) -> bool:
        """The notebook ran to the end and every check passed."""
        return self.status == "graded" and self.report.passed


def grade_schema() -> dict[str, Any]:
    """The JSON Schema of :func:`to_json`'s output (``schemas/grade-result-v1.json``)."""
    text = resources.files("dockdojo.runner").joinpath("schemas/grade-result-v1.json")
    data: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return data


def points_lost(check: CheckResult) -> int:
    return max(0, check.max_points - check.points)


def lost_reason(result: SubmissionResult, check: CheckResult) -> str | None:
    """Why ``check`` lost points: None, ``check-failed`` or ``run-ended-early``."""
    if not points_lost(check):
        return None
    return LOST_CHECK_FAILED if result.status == "graded" else LOST_RUN_ENDED_EARLY


_HIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
"""Control characters (but tab and newline), bidirectional overrides that can make text
read backwards, lone surrogates and non-characters: not shown, or not valid in XML."""


def clean(text: str) -> str:
    """Learner or engine text for people: terminal escape sequences removed, carriage
    returns applied, and :data:`_HIDDEN` characters replaced by U+FFFD."""
    return _HIDDEN.sub("\N{REPLACEMENT CHARACTER}", plain_text(text))


def cells_ran(result: SubmissionResult) -> str:
    return f"{result.cells_run} of {result.cells_total} code cells ran in {result.seconds:.1f} s."
