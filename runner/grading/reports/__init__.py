"""What ``dockdojo grade`` writes: graded submissions in the formats people and machines read.

The grader runs each learner's notebook, then the lesson's checks against the engine it
left behind, and hands the outcome over as a :class:`SubmissionResult`. This package only
formats results; it runs nothing and reaches no engine. A module per format:

- :mod:`.result`: :class:`SubmissionResult`, the points a check lost and why;
- :mod:`.record`: :func:`to_json`, dockdojo's own record of one submission (schema
  ``dockdojo.grade/v1``, described by ``schemas/grade-result-v1.json``);
- :mod:`.junit`: :func:`junit_xml`, JUnit XML for CI, one ``<testsuite>`` per submission;
- :mod:`.gradescope`: :func:`gradescope_json`, Gradescope's autograder ``results.json``
  for one submission;
- :mod:`.gradebook`: :func:`gradebook_csv`, one row per submission, one column per step;
- :mod:`.feedback`: :func:`feedback_notebook`, the learner's notebook with each step's
  result under it;
- :mod:`.files`: all of the above, written atomically into one folder that only the
  grader's user may open (:func:`private_folder`: ``0700``, the files ``0600``): a
  submission's own by :func:`write_one` as it is graded, the batch's by
  :func:`write_batch` after the last (:func:`write_all`: both at once).

:func:`to_json` gives an object shaped like this::

    {
      "schema": "dockdojo.grade/v1",
      "learner": "ada", "submission": "submissions/ada.ipynb",
      "lesson": "what-is-an-image", "title": "What is an image?",
      "passed": false,                 // ran to the end and every check passed
      "points": 12, "max_points": 22, "score": 0.5455,
      "steps_passed": 4, "steps_total": 11,
      "execution": {"status": "timeout",   // graded | timeout | kernel-died | error
                    "message": "The notebook ran out of time at cell 12.",
                    "cells_run": 12, "cells_total": 35, "seconds": 600.0},
      "checking": {"engine": "unix:///...", "mode": "check", "seconds": 1.2},
      "parameters": {"redis-cache.name": "cache-3f2a"},
      "steps": [
        {"id": "run-nginx", "title": "...", "passed": false, "points": 2, "max_points": 3,
         "seconds": 0.4, "errors": [],
         "checks": [
           {"step": "run-nginx", "kind": "http_ok", "line": 103, "passed": false,
            "message": "...", "hint": "...", "evidence": {...},
            "points": 0, "max_points": 1, "seconds": 0.01,
            "points_lost": 1, "lost_reason": "run-ended-early"}]}]
    }

``lost_reason`` is null when no point was lost, ``check-failed`` when the notebook ran to
the end and the engine's state did not satisfy the check, and ``run-ended-early`` when the
check failed and the notebook's run had stopped early (see ``execution.status``), so the
work may never have been done.
"""

from .feedback import feedback_notebook
from .files import check_names, private_folder, safe_name, write_all, write_batch, write_one
from .gradebook import GRADEBOOK_COLUMNS, gradebook_csv
from .gradescope import gradescope_json
from .junit import junit_xml
from .record import to_json
from .result import (
    GRADE_SCHEMA,
    LOST_CHECK_FAILED,
    LOST_RUN_ENDED_EARLY,
    STATUSES,
    Isolation,
    ParameterValue,
    Status,
    SubmissionResult,
    grade_schema,
    lost_reason,
    points_lost,
)

__all__ = [
    "GRADEBOOK_COLUMNS",
    "GRADE_SCHEMA",
    "LOST_CHECK_FAILED",
    "LOST_RUN_ENDED_EARLY",
    "STATUSES",
    "Isolation",
    "ParameterValue",
    "Status",
    "SubmissionResult",
    "check_names",
    "feedback_notebook",
    "grade_schema",
    "gradebook_csv",
    "gradescope_json",
    "junit_xml",
    "lost_reason",
    "points_lost",
    "private_folder",
    "safe_name",
    "to_json",
    "write_all",
    "write_batch",
    "write_one",
]
