"""Grading untrusted submissions: execute each one, check its engine, write the reports.

- :mod:`.execute`: each submission in a fresh kernel, then the lesson's checks in the
  grader (:func:`grade_all`);
- :mod:`.isolation`: where an untrusted submission runs (pool user, throwaway engine,
  confined kernel); its kernel is started by :mod:`dockdojo.runner.privileged.confine`;
- the Python those kernels run: :mod:`dockdojo.runner.room.pyenv`;
- :mod:`.reports`: ``dockdojo.grade/v1`` JSON, JUnit XML, Gradescope, CSV, feedback
  notebooks.
"""

from .execute import DEFAULT_CELL_TIMEOUT, DEFAULT_SUBMISSION_TIMEOUT, GradeOptions, grade_all
from .isolation import Confinement
from .reports import GRADE_SCHEMA, SubmissionResult, write_all

__all__ = [
    "DEFAULT_CELL_TIMEOUT",
    "DEFAULT_SUBMISSION_TIMEOUT",
    "GRADE_SCHEMA",
    "Confinement",
    "GradeOptions",
    "SubmissionResult",
    "grade_all",
    "write_all",
]
