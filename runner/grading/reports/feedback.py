"""The feedback notebook: the learner's notebook with each step's result under it."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell

from ...authoring.model import SCHEMA as LESSON_SCHEMA
from ...kinds.report import StepReport
from ...text import plural
from .result import RUN_ENDED, TEXT_LIMIT, SubmissionResult, cells_ran, clean


def feedback_notebook(submission_nb: NotebookNode, result: SubmissionResult) -> NotebookNode:
    """A copy of the learner's notebook with the results in it, for the learner to read.

    A summary cell goes first; under each step cell (``metadata.dockdojo.role`` ``step``
    of this lesson) goes that step's result; steps whose cell is missing get theirs at the
    end. Feedback cells of an earlier grading are dropped, saved widget state is removed,
    outputs stay as they were, and every cell ends up with a unique, valid id. Learner and
    engine text is escaped so that it shows as written and cannot add HTML or Markdown.
    """
    if submission_nb.get("nbformat") != 4:
        raise ValueError(
            f"feedback needs an nbformat 4 notebook, not version {submission_nb.get('nbformat')!r}"
        )
    nb: NotebookNode = nbformat.from_dict(copy.deepcopy(dict(submission_nb)))
    nb.metadata.pop("widgets", None)
    kept = [c for c in nb.cells if _dockdojo(c).get("role") != "feedback"]
    ids = _repair_ids(nb, kept)
    steps = {s.step: s for s in result.report.steps}
    placed: set[str] = set()
    cells = [_feedback_cell(_summary_markdown(result), result, None, ids)]
    for cell in kept:
        cells.append(cell)
        meta = _dockdojo(cell)
        step_id = meta.get("step")
        if (
            meta.get("role") == "step"
            and meta.get("lesson") == result.lesson
            and isinstance(step_id, str)
            and step_id in steps
            and step_id not in placed
        ):
            placed.add(step_id)
            cells.append(
                _feedback_cell(_step_markdown(result, steps[step_id]), result, step_id, ids)
            )
    for step in result.report.steps:
        if step.step not in placed:
            text = (
                "*This step's cell is not in your notebook, so its result is here.*\n\n"
                + _step_markdown(result, step)
            )
            cells.append(_feedback_cell(text, result, step.step, ids))
    nb.cells = cells
    return nb


def _dockdojo(cell: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = cell.get("metadata")
    found = meta.get("dockdojo") if isinstance(meta, Mapping) else None
    return found if isinstance(found, Mapping) else {}


_CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def _repair_ids(nb: NotebookNode, cells: list[NotebookNode]) -> set[str]:
    """Make the notebook nbformat 4.5 with unique valid cell ids; the ids in use."""
    nb.nbformat_minor = max(5, int(nb.get("nbformat_minor", 0)))
    used: set[str] = set()
    for number, cell in enumerate(cells, 1):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not _CELL_ID.match(cell_id) or cell_id in used:
            cell_id = _fresh_id(f"cell-{number}", used)
        cell["id"] = cell_id
        used.add(cell_id)
    return used


def _fresh_id(base: str, used: set[str]) -> str:
    base = base[:56]
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    used.add(candidate)
    return candidate


def _feedback_cell(
    text: str, result: SubmissionResult, step: str | None, ids: set[str]
) -> NotebookNode:
    meta: dict[str, Any] = {"schema": LESSON_SCHEMA, "lesson": result.lesson, "role": "feedback"}
    if step is not None:
        meta["step"] = step
    cell_id = _fresh_id(f"feedback-{step}" if step else "feedback-summary", ids)
    cell: NotebookNode = new_markdown_cell(
        text, id=cell_id, metadata={"dockdojo": meta, "editable": False}
    )
    return cell


def _summary_markdown(result: SubmissionResult) -> str:
    report = result.report
    lines = [
        f"## 📋 Your grade: {_md(report.title)}",
        "",
        f"**{result.points}/{plural(result.max_points, 'point')} ({100 * result.score:.1f}%)** · "
        f"{report.steps_passed} of {report.steps_total} steps passed · "
        f"learner {_md(result.learner)}",
        "",
        f"**Notebook run:** {' '.join(RUN_ENDED[result.status])}. {cells_ran(result)}",
    ]
    if result.execution_message:
        lines += ["", _md(result.execution_message)]
    if result.status != "graded":
        lines += ["", "The checks still ran, against what your notebook had done by then."]
    if result.parameters:
        lines += ["", "**Your exercise values:**", "", "| Value | Yours |", "| --- | --- |"]
        lines += [
            f"| {_md(k, 200, one_line=True)} | {_md(str(v), 200, one_line=True)} |"
            for k, v in result.parameters.items()
        ]
    lines += ["", "Each step's result is under its cell: ✅ passed, ❌ failed."]
    return "\n".join(lines)


def _step_markdown(result: SubmissionResult, step: StepReport) -> str:
    mark = "✅" if step.passed else "❌"
    total = plural(step.max_points, "point")
    lines = [f"**{mark} Result: {_md(step.title)}: {step.points}/{total}**", ""]
    for check in step.results:
        lines.append(
            f"- {'✅' if check.passed else '❌'} {_md(check.kind)}: "
            f"{_md(check.message)} *({check.points}/{plural(check.max_points, 'point')})*"
        )
        if not check.passed:
            lines.append(f"  - **Hint:** {_md(check.hint)}")
    lines += [f"- ⚠️ {_md(error)}" for error in step.errors]
    if not step.passed and result.status != "graded":
        lines += [
            "",
            f"*Your notebook's run {RUN_ENDED[result.status][1]}, so this step "
            "may never have run.*",
        ]
    return "\n".join(lines)


_MD_ESCAPED = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$=:@])")
"""ASCII punctuation that can start or form Markdown (with GFM tables, autolinks, math)."""


def _md(text: str, limit: int = TEXT_LIMIT, *, one_line: bool = False) -> str:
    """``text`` as Markdown that shows it literally, on one line or with hard breaks.

    Text is :func:`clean`; punctuation that Markdown reads is backslash-escaped and
    ``& < >`` become entities, so no Markdown, HTML, link or ``$`` math is formed; line breaks
    become hard breaks indented for a list item (or spaces, ``one_line``, for a table).
    """
    text = clean(text).replace("\t", " ")
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    escaped = [
        _MD_ESCAPED.sub(r"\\\1", line)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        for line in lines
    ]
    return (" " if one_line else "\\\n    ").join(escaped)
