"""Grading untrusted submissions: execute each one, check the engine, write the reports.

- :mod:`.execute`: each submission in a fresh kernel, then the lesson's checks in the
  grader (:func:`grade_all`);
- :mod:`.labelproxy`: the Docker API proxy a submission reaches the engine through;
- :mod:`.reports`: ``dockdojo.grade/v1`` JSON, JUnit XML, Gradescope, CSV, feedback
  notebooks.
"""

from .execute import DEFAULT_CELL_TIMEOUT, DEFAULT_SUBMISSION_TIMEOUT, GradeOptions, grade_all
from .labelproxy import LABEL_GRADE, LabelProxy
from .reports import GRADE_SCHEMA, SubmissionResult, write_all

__all__ = [
    "DEFAULT_CELL_TIMEOUT",
    "DEFAULT_SUBMISSION_TIMEOUT",
    "GRADE_SCHEMA",
    "LABEL_GRADE",
    "GradeOptions",
    "LabelProxy",
    "SubmissionResult",
    "grade_all",
    "write_all",
]
