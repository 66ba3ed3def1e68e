"""What ``dockdojo grade`` writes: graded submissions in the formats people and machines read.

The grader runs each learner's notebook, then the lesson's checks against the engine it
left behind, and hands the outcome over as a :class:`SubmissionResult`. This module only
formats results; it runs nothing and reaches no engine.

- :func:`to_json`: dockdojo's own record of one submission (schema ``dockdojo.grade/v1``,
  described by ``schemas/grade-result-v1.json``).
- :func:`junit_xml`: JUnit XML for CI, one ``<testsuite>`` per submission.
- :func:`gradescope_json`: Gradescope's autograder ``results.json`` for one submission.
- :func:`gradebook_csv`: one row per submission, one column per step.
- :func:`feedback_notebook`: the learner's notebook with each step's result under it.
- :func:`write_all`: all of the above, written atomically into one folder.

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

from __future__ import annotations

import copy
import csv
import hashlib
import io
import json
import os
import re
import secrets
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell

from ..authoring.model import SCHEMA as LESSON_SCHEMA
from ..kinds.report import CheckResult, LessonReport, StepReport
from ..text import plain_text, plural

GRADE_SCHEMA = "dockdojo.grade/v1"
"""Version of :func:`to_json`'s shape (``schemas/grade-result-v1.json``)."""

Status = Literal["graded", "timeout", "kernel-died", "error"]
STATUSES: tuple[Status, ...] = ("graded", "timeout", "kernel-died", "error")
Isolation = Literal["isolated", "trusted"]
"""How a submission's notebook run ended; anything but ``graded`` ended it early."""

ParameterValue = str | int | float | bool

LOST_CHECK_FAILED = "check-failed"
LOST_RUN_ENDED_EARLY = "run-ended-early"

_RUN_ENDED = {
    "graded": ("✅", "ran to the end"),
    "timeout": ("⏱️", "stopped when its time ran out"),
    "kernel-died": ("💥", "stopped when its Python kernel died"),
    "error": ("⚠️", "stopped at an error"),
}
"""Per status: a mark, and how the run ended after "the notebook" or "the run"."""
_TEXT_LIMIT = 2000
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


def _clean(text: str) -> str:
    """Learner or engine text for people: terminal escape sequences removed, carriage
    returns applied, and :data:`_HIDDEN` characters replaced by U+FFFD."""
    return _HIDDEN.sub("\N{REPLACEMENT CHARACTER}", plain_text(text))


# dockdojo.grade/v1 --------------------------------------------------------------------
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


# JUnit XML ----------------------------------------------------------------------------
def junit_xml(results: Sequence[SubmissionResult]) -> str:
    """JUnit XML: a ``<testsuite>`` per submission, a ``<testcase>`` per check.

    Each suite starts with a ``notebook execution`` testcase (classname ``LESSON``),
    which holds an ``<error>`` when the run did not end ``graded``; each check's testcase
    (classname ``LESSON.STEP``, name ``KIND (line N)``) holds a ``<failure>`` when the
    check failed. Text is made XML-safe: control characters a parser would reject are
    replaced, terminal escape sequences removed.
    """
    root = ET.Element("testsuites", name="dockdojo grade")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    seconds = 0.0
    for result in results:
        suite = _suite(result)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        seconds += float(suite.get("time", "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    out = io.StringIO()
    ET.ElementTree(root).write(out, encoding="unicode", xml_declaration=True)
    out.write("\n")
    return out.getvalue()


def _suite(result: SubmissionResult) -> ET.Element:
    report = result.report
    suite = ET.Element("testsuite", name=_xml(f"{result.learner}/{result.submission}"))
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("learner", result.learner),
        ("submission", result.submission),
        ("lesson", result.lesson),
        ("status", result.status),
        ("points", str(result.points)),
        ("max_points", str(result.max_points)),
        ("cells_run", str(result.cells_run)),
        ("cells_total", str(result.cells_total)),
        *((f"parameter:{k}", str(v)) for k, v in result.parameters.items()),
    ):
        ET.SubElement(properties, "property", name=_xml(name), value=_xml(value))
    failures = errors = 0
    run = ET.SubElement(
        suite,
        "testcase",
        classname=_xml(result.lesson),
        name="notebook execution",
        time=f"{result.seconds:.3f}",
    )
    if result.status != "graded":
        errors += 1
        ended = f"The notebook {_RUN_ENDED[result.status][1]}."
        error = ET.SubElement(
            run, "error", type=result.status, message=_xml(result.execution_message or ended)
        )
        error.text = _xml(f"{ended} {_cells(result)}\n{result.execution_message}".strip())
    for check in report.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_xml(f"{result.lesson}.{check.step}"),
            name=_xml(f"{check.kind} (line {check.line})"),
            time=f"{check.seconds:.3f}",
        )
        if not check.passed:
            failures += 1
            failure = ET.SubElement(
                case,
                "failure",
                type=lost_reason(result, check) or "check-failed",
                message=_xml(check.message),
            )
            failure.text = _xml(
                f"{check.message}\nHint: {check.hint}\nPoints: {check.points}/{check.max_points}"
            )
    suite.set("tests", str(1 + len(report.results)))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", "0")
    suite.set("time", f"{result.seconds + report.seconds:.3f}")
    return suite


def _xml(text: str) -> str:
    """Text XML 1.0 can hold (see :func:`_clean`)."""
    return _clean(text)


# Gradescope ---------------------------------------------------------------------------
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
                f"The notebook {_RUN_ENDED[result.status][1]}. {_cells(result)}"
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
        f"Notebook run: {_RUN_ENDED[result.status][1]}. {_cells(result)}",
    ]
    if result.execution_message:
        lines.append(result.execution_message)
    if result.parameters:
        lines.append(
            "Your exercise values: " + ", ".join(f"{k} = {v}" for k, v in result.parameters.items())
        )
    return "\n".join(lines)


def _plain(text: str) -> str:
    return _shorten(_clean(text))


def _shorten(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


def _cells(result: SubmissionResult) -> str:
    return f"{result.cells_run} of {result.cells_total} code cells ran in {result.seconds:.1f} s."


def _lost_sentence(result: SubmissionResult, check: CheckResult) -> str:
    if lost_reason(result, check) == LOST_RUN_ENDED_EARLY:
        return (
            f"the check failed, and the notebook's run {_RUN_ENDED[result.status][1]}"
            ", so this work may never have been done"
        )
    return "the check failed"


# gradebook ----------------------------------------------------------------------------
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
    text = _clean(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# feedback notebook --------------------------------------------------------------------
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
        f"**Notebook run:** {' '.join(_RUN_ENDED[result.status])}. {_cells(result)}",
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
            f"*Your notebook's run {_RUN_ENDED[result.status][1]}, so this step "
            "may never have run.*",
        ]
    return "\n".join(lines)


_MD_ESCAPED = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$=:@])")
"""ASCII punctuation that can start or form Markdown (with GFM tables, autolinks, math)."""


def _md(text: str, limit: int = _TEXT_LIMIT, *, one_line: bool = False) -> str:
    """``text`` as Markdown that shows it literally, on one line or with hard breaks.

    Text is :func:`_clean`; punctuation that Markdown reads is backslash-escaped and
    ``& < >`` become entities, so no Markdown, HTML, link or ``$`` math is formed; line breaks
    become hard breaks indented for a list item (or spaces, ``one_line``, for a table).
    """
    text = _clean(text).replace("\t", " ")
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


# files --------------------------------------------------------------------------------
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)


def safe_name(learner: str) -> str:
    """A file name stem for ``learner``: ``[a-z0-9._-]``, at most 64 characters.

    An id already of that form is used as it is; any other gets a hash of the id
    appended, so two learners whose ids differ only in odd characters or case do not
    share files.
    """
    ascii_text = unicodedata.normalize("NFKD", learner).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9._-]+", "-", ascii_text.lower()).strip("._-")[:55]
    if stem != learner or stem.split(".")[0] in _WINDOWS_RESERVED:
        digest = hashlib.sha256(learner.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = f"{stem or 'learner'}-{digest}"
    return stem


def write_all(
    results: Sequence[SubmissionResult], out_dir: Path, submissions: Mapping[str, NotebookNode]
) -> list[Path]:
    """Write every report into ``out_dir``; the paths written, in order.

    Per submission, named by :func:`safe_name` of the learner: ``NAME.json``
    (``dockdojo.grade/v1``), ``NAME.feedback.ipynb`` (when ``submissions`` holds the
    notebook, keyed by the result's submission path or else its learner id) and
    ``NAME.results.json`` (Gradescope); for the batch, ``junit.xml`` and
    ``gradebook.csv``. Each file is written to a temporary file beside it, then renamed
    over it. Raises ValueError, before writing anything, when two results would share
    files.
    """
    check_names([r.learner for r in results])
    written = []
    for result in results:
        written += write_one(result, out_dir, submissions)
    written.append(_write(out_dir / "junit.xml", junit_xml(results)))
    written.append(_write(out_dir / "gradebook.csv", gradebook_csv(results)))
    return written


def check_names(learners: Sequence[str]) -> None:
    """Raise ValueError when two learners' reports would share files."""
    seen: dict[str, str] = {}
    for learner in learners:
        name = safe_name(learner)
        if name in seen:
            raise ValueError(
                f"learners {seen[name]!r} and {learner!r} would both be "
                f"written to {name}.json; grade them in separate folders"
            )
        seen[name] = learner


def write_one(
    result: SubmissionResult, out_dir: Path, submissions: Mapping[str, NotebookNode]
) -> list[Path]:
    """One submission's own reports (as :func:`write_all` names them), written as soon as
    it is graded, so that a grader stopped halfway keeps what it finished."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = safe_name(result.learner)
    written = [_write(out_dir / f"{name}.json", _json(to_json(result)))]
    notebook = submissions.get(result.submission, submissions.get(result.learner))
    if notebook is not None:
        text: str = nbformat.writes(feedback_notebook(notebook, result))
        written.append(_write(out_dir / f"{name}.feedback.ipynb", text + "\n"))
    written.append(_write(out_dir / f"{name}.results.json", _json(gradescope_json(result))))
    return written


def _json(data: Mapping[str, Any]) -> str:
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (say, from a file name): escape it
        text = json.dumps(data, indent=2)
    return text + "\n"


def _write(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` by renaming a temporary file."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


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
    "safe_name",
    "to_json",
    "write_all",
    "write_one",
]
