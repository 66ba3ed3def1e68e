"""``dockdojo.grade/v1``: dockdojo's own record of one submission (the package docstring
shows its shape; ``schemas/grade-result-v1.json`` describes it)."""

from __future__ import annotations

from typing import Any

from ...kinds.report import StepReport
from .result import GRADE_SCHEMA, SubmissionResult, lost_reason, points_lost


def to_json(result: SubmissionResult) -> dict[str, Any]:
    """The submission as a ``dockdojo.grade/v1`` object (see the module docstring)."""
    report = result.report
    return {
        "schema": GRADE_SCHEMA,
        "learner": result.learner,
        "submission": result.submission,
        "lesson": result.lesson,
        "title": report.title,
        "passed": result.passed,
        "points": result.points,
        "max_points": result.max_points,
        "score": round(result.score, 4),
        "steps_passed": report.steps_passed,
        "steps_total": report.steps_total,
        "execution": {
            "status": result.status,
            "message": result.execution_message,
            "cells_run": result.cells_run,
            "cells_total": result.cells_total,
            "seconds": round(result.seconds, 3),
            "isolation": result.isolation,
        },
        "checking": {
            "engine": report.engine,
            "mode": report.mode,
            "seconds": round(report.seconds, 3),
        },
        "parameters": dict(result.parameters),
        "steps": [_step_json(result, step) for step in report.steps],
    }


def _step_json(result: SubmissionResult, step: StepReport) -> dict[str, Any]:
    data = step.to_json()
    data["checks"] = [
        check.to_json()
        | {"points_lost": points_lost(check), "lost_reason": lost_reason(result, check)}
        for check in step.results
    ]
    return data
