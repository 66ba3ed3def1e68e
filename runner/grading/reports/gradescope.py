"""Gradescope's autograder ``results.json`` for one submission."""

from __future__ import annotations

from typing import Any

from ...kinds.report import CheckResult
from ...text import plural
from .result import (
    GRADE_SCHEMA,
    LOST_RUN_ENDED_EARLY,
    RUN_ENDED,
    TEXT_LIMIT,
    SubmissionResult,
    cells_ran,
    clean,
    lost_reason,
    points_lost,
)


def gradescope_json(result: SubmissionResult) -> dict[str, Any]:
    """Gradescope's autograder ``results.json`` for one submission.

    Follows https://gradescope-autograders.readthedocs.io/en/latest/specs/: top-level
    ``score`` (it overrides the tests' total), ``execution_time`` in whole seconds,
    ``output`` as plain text (``output_format`` ``text``, so nothing in a message is
    rendered as HTML), and one test per check with ``status`` ``passed`` or ``failed``.
    The first test, ``Notebook run``, is worth nothing and fails when the run ended
    early. The spec has no top-level ``max_score``: it is in ``extra_data``, with the
    ``dockdojo.grade/v1`` identifiers.
    """
    report = result.report
    tests: list[dict[str, Any]] = [
        {
            "name": "Notebook run",
            "score": 0.0,
            "max_score": 0.0,
            "status": "passed" if result.status == "graded" else "failed",
            "output": _plain(
                f"The notebook {RUN_ENDED[result.status][1]}. {cells_ran(result)}"
                + (f"\n{result.execution_message}" if result.execution_message else "")
            ),
            "visibility": "visible",
        }
    ]
    for number, step in enumerate(report.steps, 1):
        for index, check in enumerate(step.results, 1):
            output = [check.message]
            if not check.passed:
                output.append(f"Hint: {check.hint}")
            if points_lost(check):
                output.append(
                    f"Lost {plural(points_lost(check), 'point')}: {_lost_sentence(result, check)}."
                )
            tests.append(
                {
                    "name": _plain(f"{number}.{index} {step.title} ({check.kind})"),
                    "score": float(check.points),
                    "max_score": float(check.max_points),
                    "status": "passed" if check.passed else "failed",
                    "output": _plain("\n".join(output)),
                    "visibility": "visible",
                }
            )
    return {
        "score": float(result.points),
        "execution_time": round(result.seconds + report.seconds),
        "output": _plain(_summary_text(result)),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "schema": GRADE_SCHEMA,
            "learner": result.learner,
            "lesson": result.lesson,
            "status": result.status,
            "max_score": float(result.max_points),
        },
    }


def _summary_text(result: SubmissionResult) -> str:
    lines = [
        f"{result.report.title}: {result.points}/{plural(result.max_points, 'point')} "
        f"({100 * result.score:.1f}%), {result.report.steps_passed} of "
        f"{result.report.steps_total} steps passed.",
        f"Notebook run: {RUN_ENDED[result.status][1]}. {cells_ran(result)}",
    ]
    if result.execution_message:
        lines.append(result.execution_message)
    if result.parameters:
        lines.append(
            "Your exercise values: " + ", ".join(f"{k} = {v}" for k, v in result.parameters.items())
        )
    return "\n".join(lines)


def _plain(text: str) -> str:
    return _shorten(clean(text))


def _shorten(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def _lost_sentence(result: SubmissionResult, check: CheckResult) -> str:
    if lost_reason(result, check) == LOST_RUN_ENDED_EARLY:
        return (
            f"the check failed, and the notebook's run {RUN_ENDED[result.status][1]}"
            ", so this work may never have been done"
        )
    return "the check failed"
