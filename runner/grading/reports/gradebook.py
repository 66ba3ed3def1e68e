"""The gradebook: a CSV of one row per submission, one column per step."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from .result import SubmissionResult, clean

GRADEBOOK_COLUMNS = ("learner", "submission", "lesson", "status", "points", "max_points", "percent")
"""The gradebook's first columns; one column per step (``LESSON.STEP``) follows."""


def gradebook_csv(results: Sequence[SubmissionResult]) -> str:
    """A CSV gradebook: a header, then one row per submission in the given order.

    Step columns, named ``LESSON.STEP`` and holding the points earned, follow the
    lessons in order of first appearance and each lesson's steps in lesson order; a cell
    is empty when the row's lesson has no such step. Text cells that a spreadsheet
    would run as a formula (``=``, ``+``, ``-``, ``@``) start with ``'``.
    """
    columns: dict[str, list[str]] = {}
    for result in results:
        steps = columns.setdefault(result.lesson, [])
        steps += [s.step for s in result.report.steps if s.step not in steps]
    step_columns = [(lesson, step) for lesson, steps in columns.items() for step in steps]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*GRADEBOOK_COLUMNS, *(f"{lesson}.{step}" for lesson, step in step_columns)])
    for result in results:
        earned = {s.step: s.points for s in result.report.steps}
        row: list[str | int] = [
            _cell(result.learner),
            _cell(result.submission),
            _cell(result.lesson),
            result.status,
            result.points,
            result.max_points,
            f"{100 * result.score:.1f}",
        ]
        row += [
            earned.get(step, "") if lesson == result.lesson else "" for lesson, step in step_columns
        ]
        writer.writerow(row)
    return out.getvalue()


def _cell(text: str) -> str:
    text = clean(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
