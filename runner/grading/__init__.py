"""Grading untrusted submissions: execute each one, check its engine, write the reports.

Grading is an ordered list of stages (:data:`~.stages.STAGES`), each a function with one
job, run in order for each submission by :func:`~.stages.run_stages`, with a hook as each
starts and ends:

- :mod:`.options`: every setting and its default, declared once (:class:`GradeOptions`,
  :class:`Confinement`); ``dockdojo grade``'s options are made from them;
- :mod:`.batch`: the batch: each submission read once before any runs, graded ``jobs`` at
  a time, the batch's reports written once at the end (:func:`grade_all`);
- :mod:`.submissions`: reading a submitted file, as root: regular files only (a link,
  a FIFO, a device or a folder is refused with a message);
- :mod:`.stages`: one submission: read, prepare, execute, end, personalize, check, clean
  up, score, report;
- :mod:`.places`: where a submission runs, trusted or in a box;
- :mod:`.execute`: running the notebook with nbclient, with its limits;
- :mod:`.isolation`: the box an untrusted submission runs in (pool user, throwaway
  engine, confined kernel); its kernel is started by
  :mod:`dockdojo.runner.privileged.confine`;
- the Python those kernels run: :mod:`dockdojo.runner.room.pyenv`;
- :mod:`.reports`: ``dockdojo.grade/v1`` JSON, JUnit XML, Gradescope, CSV, feedback
  notebooks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .batch import Batch, grade_all, grade_batch
    from .options import Confinement, GradeOptions
    from .reports import GRADE_SCHEMA, SubmissionResult, write_all
    from .stages import STAGES, Stage, Submission

_WHERE = {
    "batch": ("Batch", "grade_all", "grade_batch"),
    "options": ("Confinement", "GradeOptions"),
    "reports": ("GRADE_SCHEMA", "SubmissionResult", "write_all"),
    "stages": ("STAGES", "Stage", "Submission"),
}
_MODULE = {name: module for module, names in _WHERE.items() for name in names}


def __getattr__(name: str) -> Any:
    """The public names, each imported on first use: the command line reads
    :mod:`.options` without importing nbclient or nbformat."""
    module = _MODULE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__all__ = [
    "GRADE_SCHEMA",
    "STAGES",
    "Batch",
    "Confinement",
    "GradeOptions",
    "Stage",
    "Submission",
    "SubmissionResult",
    "grade_all",
    "grade_batch",
    "write_all",
]
