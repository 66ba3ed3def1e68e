"""Action kinds and check kinds, and running them: checking and solving a lesson.

- :mod:`.base`: what a kind is (:class:`ActionKind`, :class:`CheckKind`);
- :mod:`.actions` and :mod:`.checks`: every kind, one table entry each;
- :mod:`.projects`: the actions on a lesson's own folders (build, Compose);
- :mod:`.checking`: a lesson's checks against the live engine; :mod:`.solving`: its
  steps performed, then checked; :mod:`.report`: what they found.
"""

from ..authoring.declarations import KindTable
from .actions import ACTIONS
from .base import ActionKind, CheckKind, Schemas, Seen
from .checking import DEFAULT_TIMEOUT, check_lesson, run_check, run_checks, run_step_checks
from .checks import CHECKS
from .projects import build_step, compose_step, lesson_path
from .report import REPORT_SCHEMA, CheckResult, LessonReport, StepReport
from .solving import solve_lesson, solve_step

KINDS = KindTable(actions=Schemas(ACTIONS), checks=Schemas(CHECKS))
"""Every kind's schema, as the lesson parser takes them (a live view of the tables)."""

__all__ = [
    "ACTIONS",
    "CHECKS",
    "DEFAULT_TIMEOUT",
    "KINDS",
    "REPORT_SCHEMA",
    "ActionKind",
    "CheckKind",
    "CheckResult",
    "LessonReport",
    "Seen",
    "StepReport",
    "build_step",
    "check_lesson",
    "compose_step",
    "lesson_path",
    "run_check",
    "run_checks",
    "run_step_checks",
    "solve_lesson",
    "solve_step",
]
