"""The output formats of ``dockdojo grade``, over hand-made results of the real lesson.

The lesson is the real ``what-is-an-image`` (``load_lesson``), and the learner's
notebook is the one the builder makes from it. The check results are **made by hand**
(no engine runs here): one :class:`CheckResult` per declared check, with the check's real
kind, hint, points and line, and an outcome and message chosen by the test. Concrete
numbers are asserted for the lesson's first seven steps (pulling the images to mongosh),
whose checks come straight from the seed guide. The later steps (removing an image, the
exercises) are still being written: in the partial cases every check of theirs fails, and
values that depend on them are derived from the lesson.

Expected texts live in ``grade_report_cases/``; regenerate them after a deliberate change
with ``DOCKDOJO_UPDATE_SNAPSHOTS=1 pytest tests/unit/test_grade_report.py`` and read the
diff. They cover two of the stable steps only, and hold source line numbers as ``N``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import pytest
from lesson_kit import seed_lesson
from markdown_it import MarkdownIt

from dockdojo.runner import load_lesson
from dockdojo.runner.authoring import Lesson
from dockdojo.runner.authoring.notebook import schema as notebook_schema
from dockdojo.runner.authoring.notebook import to_notebook
from dockdojo.runner.grading.reports import (
    GRADE_SCHEMA,
    SubmissionResult,
    feedback_notebook,
    grade_schema,
    gradebook_csv,
    gradescope_json,
    junit_xml,
    safe_name,
    to_json,
    write_all,
)
from dockdojo.runner.kinds import CheckResult, LessonReport, StepReport

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "grade_report_cases"
UPDATE = os.environ.get("DOCKDOJO_UPDATE_SNAPSHOTS") == "1"
STABLE = (
    "pull-images",
    "view-images",
    "run-nginx",
    "run-redis",
    "redis-cli",
    "run-mongo",
    "mongosh",
)
"""The lesson's first seven steps, in order, as the seed guide has them."""

HOSTILE = (
    'Container "web" said: <script>alert(1)</script> & `rm -rf /` | a | $x^2$ '
    "**bold** [link](javascript:alert(1)) \x1b[31mred\x1b[0m \x00 naïve 🐳 "
    "\u202eevil &lt;\n# heading\n---"
)
"""A check message as an engine (or a learner's container) might return it."""


@pytest.fixture(scope="module")
def lesson() -> Iterator[Lesson]:
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        yield load_lesson("what-is-an-image")


@pytest.fixture(scope="module")
def submitted(lesson: Lesson) -> nbformat.NotebookNode:
    """The learner's notebook: the lesson notebook as the builder makes it."""
    return to_notebook(lesson, "content/what-is-an-image.md")


# hand-made results --------------------------------------------------------------------
Outcome = Callable[[str, int], bool]


def hand_made(
    lesson: Lesson,
    passes: Outcome,
    *,
    only: tuple[str, ...] = (),
    message: Callable[[str, int, bool], str] | None = None,
) -> LessonReport:
    """A report made by hand: each declared check passes when ``passes(step, index)``."""
    steps = []
    for step in lesson.steps:
        if only and step.id not in only:
            continue
        results = []
        for index, spec in enumerate(step.checks):
            ok = passes(step.id, index)
            text = (
                message(step.id, index, ok)
                if message
                else f"{spec.kind} {'passed' if ok else 'failed'} (made by hand)."
            )
            results.append(
                CheckResult(
                    step=step.id,
                    kind=spec.kind,
                    passed=ok,
                    message=text,
                    hint=spec.hint,
                    evidence={"by": "hand"},
                    points=spec.points if ok else 0,
                    max_points=spec.points,
                    seconds=0.25,
                    line=spec.line,
                )
            )
        steps.append(StepReport(step.id, step.title, tuple(results), seconds=0.25))
    return LessonReport(
        lesson.id,
        lesson.title,
        tuple(steps),
        mode="check",
        engine="unix:///run/dockdojo-unit.sock",
        seconds=2.0,
    )


PARTIAL_FAILS = {("run-nginx", 2), ("redis-cli", 0), ("mongosh", 0)}
"""Partial: these checks of the first seven steps fail, and every later check."""


def partial(step: str, index: int) -> bool:
    return step in STABLE and (step, index) not in PARTIAL_FAILS


def result(lesson: Lesson, passes: Outcome, learner: str = "ada", **kw: Any) -> SubmissionResult:
    report = kw.pop("report", None) or hand_made(lesson, passes)
    kw.setdefault("cells_run", 20)
    kw.setdefault("cells_total", 20)
    return SubmissionResult(
        submission=f"submissions/{learner}.ipynb",
        learner=learner,
        lesson=lesson.id,
        report=report,
        seconds=31.0,
        **kw,
    )


@pytest.fixture(scope="module")
def cases(lesson: Lesson) -> dict[str, SubmissionResult]:
    hostile_report = hand_made(
        lesson,
        lambda s, i: not (s == "run-nginx" and i == 2),
        only=("run-nginx", "redis-cli"),
        message=lambda s, i, ok: (
            HOSTILE if not ok and s == "run-nginx" else f"made by hand: {s} {i}"
        ),
    )
    return {
        "full": result(lesson, lambda _s, _i: True, "ada"),
        "zero": result(lesson, lambda _s, _i: False, "bob"),
        "partial": result(lesson, partial, "cy"),
        "timeout": result(
            lesson,
            partial,
            "dee",
            status="timeout",
            cells_run=12,
            execution_message="Cell 14 (redis-cli) ran for more than 600 s.",
            parameters={"redis-cache.name": "cache-3f2a"},
        ),
        "hostile": SubmissionResult(
            submission="submissions/<evil>&.ipynb",
            learner='Zoë "<o\'brien>" & co',
            lesson=lesson.id,
            report=hostile_report,
            status="error",
            execution_message="Cell 3 raised NameError: name '<x>' is not defined\x1b[0m",
            cells_run=3,
            cells_total=20,
            seconds=4.5,
            parameters={"redis-cache.name": "a|b`c<d>"},
        ),
    }


def snapshot(name: str, text: str) -> None:
    text = re.sub(r"\(line \d+\)", "(line N)", text)
    path = CASES / name
    if UPDATE:
        path.write_bytes(text.encode("utf-8"))
    assert text == path.read_bytes().decode("utf-8")


# SubmissionResult ---------------------------------------------------------------------
def test_scores_of_full_zero_and_partial_submissions(
    lesson: Lesson, cases: dict[str, SubmissionResult]
) -> None:
    full, zero, part = cases["full"], cases["zero"], cases["partial"]
    assert lesson.points == full.max_points == zero.max_points == part.max_points
    assert (full.points, full.score, full.passed) == (lesson.points, 1.0, True)
    assert (zero.points, zero.score, zero.passed) == (0, 0.0, False)
    # pull 3 + view 1 + run-nginx 2 + run-redis 1 + redis-cli 0 + run-mongo 1 + mongosh 0;
    # every later check failed.
    assert part.points == 8
    assert part.score == pytest.approx(8 / lesson.points)
    assert [s.step for s in part.report.steps if s.passed] == [
        "pull-images",
        "view-images",
        "run-redis",
        "run-mongo",
    ]
    assert cases["timeout"].points == 8
    assert not cases["timeout"].passed


def test_a_submission_result_refuses_values_that_cannot_be(lesson: Lesson) -> None:
    report = hand_made(lesson, lambda _s, _i: True)
    with pytest.raises(ValueError, match="status 'crashed'"):
        result(lesson, partial, status="crashed")
    with pytest.raises(ValueError, match="not 'other'"):
        SubmissionResult("a.ipynb", "ada", "other", report)
    with pytest.raises(ValueError, match="cells_run"):
        result(lesson, partial, cells_run=21)
    with pytest.raises(ValueError, match="learner id"):
        SubmissionResult("a.ipynb", " ", lesson.id, report)
    empty = SubmissionResult("a.ipynb", "ada", lesson.id, LessonReport(lesson.id, "t", ()))
    assert (empty.points, empty.max_points, empty.score) == (0, 0, 0.0)


# dockdojo.grade/v1 --------------------------------------------------------------------
@pytest.mark.parametrize("case", ["full", "zero", "partial", "timeout", "hostile"])
def test_the_json_follows_its_schema(case: str, cases: dict[str, SubmissionResult]) -> None:
    jsonschema.Draft202012Validator.check_schema(grade_schema())
    data = json.loads(json.dumps(to_json(cases[case])))
    jsonschema.Draft202012Validator(grade_schema()).validate(data)
    assert data["schema"] == GRADE_SCHEMA == grade_schema()["$id"]


def test_the_json_says_why_points_were_lost(
    lesson: Lesson, cases: dict[str, SubmissionResult]
) -> None:
    data = to_json(cases["timeout"])
    assert {
        k: data[k]
        for k in (
            "learner",
            "submission",
            "lesson",
            "passed",
            "points",
            "steps_passed",
            "parameters",
        )
    } == {
        "learner": "dee",
        "submission": "submissions/dee.ipynb",
        "lesson": "what-is-an-image",
        "passed": False,
        "points": 8,
        "steps_passed": 4,
        "parameters": {"redis-cache.name": "cache-3f2a"},
    }
    assert data["max_points"] == lesson.points
    assert data["score"] == round(8 / lesson.points, 4)
    assert data["execution"] == {
        "status": "timeout",
        "message": "Cell 14 (redis-cli) ran for more than 600 s.",
        "cells_run": 12,
        "cells_total": 20,
        "seconds": 31.0,
        "isolation": "isolated",
    }
    assert data["checking"] == {
        "engine": "unix:///run/dockdojo-unit.sock",
        "mode": "check",
        "seconds": 2.0,
    }
    run_nginx = data["steps"][2]
    assert (run_nginx["id"], run_nginx["points"], run_nginx["max_points"]) == ("run-nginx", 2, 3)
    http = run_nginx["checks"][2]
    assert http == {
        "step": "run-nginx",
        "kind": "http_ok",
        "line": lesson.step("run-nginx").checks[2].line,
        "passed": False,
        "message": "http_ok failed (made by hand).",
        "hint": lesson.step("run-nginx").checks[2].hint,
        "evidence": {"by": "hand"},
        "points": 0,
        "max_points": 1,
        "seconds": 0.25,
        "points_lost": 1,
        "lost_reason": "run-ended-early",
    }
    assert run_nginx["checks"][0]["lost_reason"] is None
    assert run_nginx["checks"][0]["points_lost"] == 0
    graded = to_json(cases["partial"])
    assert graded["steps"][2]["checks"][2]["lost_reason"] == "check-failed"
    assert graded["passed"] is False
    assert to_json(cases["full"])["passed"] is True


# JUnit XML ----------------------------------------------------------------------------
def test_junit_has_a_suite_per_submission_and_a_case_per_check(
    lesson: Lesson, cases: dict[str, SubmissionResult]
) -> None:
    checks = sum(len(s.checks) for s in lesson.steps)
    text = junit_xml([cases["full"], cases["partial"], cases["timeout"]])
    assert text.startswith("<?xml version='1.0' encoding='utf-8'?>\n<testsuites ")
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    full, part, late = root.findall("testsuite")
    assert [s.get("name") for s in (full, part, late)] == [
        "ada/submissions/ada.ipynb",
        "cy/submissions/cy.ipynb",
        "dee/submissions/dee.ipynb",
    ]
    failed = len(PARTIAL_FAILS) + sum(
        len(lesson.step(s).checks) for s in (x.id for x in lesson.steps) if s not in STABLE
    )
    assert {k: full.get(k) for k in ("tests", "failures", "errors", "skipped", "time")} == {
        "tests": str(checks + 1),
        "failures": "0",
        "errors": "0",
        "skipped": "0",
        "time": "33.000",
    }
    assert (part.get("failures"), part.get("errors")) == (str(failed), "0")
    assert (late.get("failures"), late.get("errors")) == (str(failed), "1")
    assert root.get("tests") == str(3 * (checks + 1))
    assert root.get("failures") == str(2 * failed)
    assert root.get("errors") == "1"
    # properties come first, then the notebook run, then one case per check
    assert [c.tag for c in late][:2] == ["properties", "testcase"]
    props = {p.get("name"): p.get("value") for p in late.find("properties") or []}
    assert props["status"] == "timeout"
    assert props["points"] == "8"
    assert props["parameter:redis-cache.name"] == "cache-3f2a"
    run, *cases_ = late.findall("testcase")
    assert (run.get("classname"), run.get("name")) == ("what-is-an-image", "notebook execution")
    error = run.find("error")
    assert error is not None
    assert error.get("type") == "timeout"
    assert error.get("message") == "Cell 14 (redis-cli) ran for more than 600 s."
    assert full.findall("testcase")[0].find("error") is None
    assert len(cases_) == checks
    http = cases_[6]
    line = lesson.step("run-nginx").checks[2].line
    assert (http.get("classname"), http.get("name"), http.get("time")) == (
        "what-is-an-image.run-nginx",
        f"http_ok (line {line})",
        "0.250",
    )
    failure = http.find("failure")
    assert failure is not None
    assert failure.get("message") == "http_ok failed (made by hand)."
    assert failure.get("type") == "run-ended-early"
    assert failure.text == (
        "http_ok failed (made by hand).\n"
        f"Hint: {lesson.step('run-nginx').checks[2].hint}\nPoints: 0/1"
    )
    assert cases_[5].find("failure") is None


def test_junit_escapes_hostile_text(cases: dict[str, SubmissionResult]) -> None:
    text = junit_xml([cases["hostile"]])
    snapshot("hostile.junit.xml", text)
    root = ET.fromstring(text.encode("utf-8"))  # as a CI system reads the file
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("name") == 'Zoë "<o\'brien>" & co/submissions/<evil>&.ipynb'
    failure = suite.find("testcase[@name]/failure")
    assert failure is not None
    cleaned = (
        HOSTILE.replace("\x1b[31m", "")
        .replace("\x1b[0m", "")
        .replace("\x00", "\ufffd")
        .replace("\u202e", "\ufffd")
    )
    assert failure.get("message") == cleaned  # newlines survive in the attribute
    assert "<script>alert(1)</script>" in (failure.text or "")
    assert "\x1b" not in text
    assert "&lt;script&gt;" in text
    error = suite.find("testcase/error")
    assert error is not None
    assert error.get("message") == "Cell 3 raised NameError: name '<x>' is not defined"


# Gradescope ---------------------------------------------------------------------------
SPEC_TOP = {
    "score",
    "execution_time",
    "output",
    "output_format",
    "test_output_format",
    "test_name_format",
    "visibility",
    "stdout_visibility",
    "extra_data",
    "tests",
    "leaderboard",
}
SPEC_TEST = {
    "score",
    "max_score",
    "status",
    "name",
    "name_format",
    "number",
    "output",
    "output_format",
    "tags",
    "visibility",
    "extra_data",
}
"""The keys Gradescope's autograder specification allows (results.json, "Output format")."""


def test_gradescope_results_follow_the_spec(
    lesson: Lesson, cases: dict[str, SubmissionResult]
) -> None:
    for case in cases.values():
        data = json.loads(json.dumps(gradescope_json(case)))
        assert set(data) <= SPEC_TOP
        assert all(set(t) <= SPEC_TEST for t in data["tests"])
        assert {t["status"] for t in data["tests"]} <= {"passed", "failed"}
        assert {t["visibility"] for t in data["tests"]} == {"visible"}
        assert data["score"] == sum(t["score"] for t in data["tests"])
    data = gradescope_json(cases["timeout"])
    assert data["score"] == 8.0
    assert data["extra_data"]["max_score"] == float(lesson.points)
    assert data["execution_time"] == 33
    assert (data["output_format"], data["stdout_visibility"]) == ("text", "hidden")
    assert data["output"] == (
        f"What is an image?: 8/{lesson.points} points ({800 / lesson.points:.1f}%), "
        f"4 of {len(lesson.steps)} steps passed.\n"
        "Notebook run: stopped when its time ran out. 12 of 20 code cells ran in 31.0 s.\n"
        "Cell 14 (redis-cli) ran for more than 600 s.\n"
        "Your exercise values: redis-cache.name = cache-3f2a"
    )
    run, *tests = data["tests"]
    assert run == {
        "name": "Notebook run",
        "score": 0.0,
        "max_score": 0.0,
        "status": "failed",
        "output": "The notebook stopped when its time ran out. 12 of 20 code "
        "cells ran in 31.0 s.\nCell 14 (redis-cli) ran for more than "
        "600 s.",
        "visibility": "visible",
    }
    assert len(tests) == sum(len(s.checks) for s in lesson.steps)
    assert tests[0] == {
        "name": "1.1 Pull nginx, redis and mongo (image_present)",
        "score": 1.0,
        "max_score": 1.0,
        "status": "passed",
        "output": "image_present passed (made by hand).",
        "visibility": "visible",
    }
    hint = lesson.step("run-nginx").checks[2].hint
    assert tests[6] == {
        "name": "3.3 Run nginx on a random host port and open its link (http_ok)",
        "score": 0.0,
        "max_score": 1.0,
        "status": "failed",
        "output": f"http_ok failed (made by hand).\nHint: {hint}\nLost 1 point: the check "
        "failed, and the notebook's run stopped when its time ran out, so this "
        "work may never have been done.",
        "visibility": "visible",
    }
    full = gradescope_json(cases["full"])
    assert full["score"] == float(lesson.points) == full["extra_data"]["max_score"]
    assert full["tests"][0]["status"] == "passed"
    assert gradescope_json(cases["zero"])["score"] == 0.0


def test_gradescope_output_is_plain_text(cases: dict[str, SubmissionResult]) -> None:
    data = gradescope_json(cases["hostile"])
    failed = next(t for t in data["tests"] if t["status"] == "failed" and t["max_score"])
    assert failed["output"].startswith('Container "web" said: <script>')  # shown as text
    assert "\x1b" not in json.dumps(data)
    assert "\\u0000" not in json.dumps(data)
    assert data["output_format"] == "text"


# gradebook ----------------------------------------------------------------------------
def test_the_gradebook_has_a_row_per_submission_and_a_column_per_step(
    lesson: Lesson, cases: dict[str, SubmissionResult]
) -> None:
    text = gradebook_csv([cases["full"], cases["zero"], cases["partial"], cases["timeout"]])
    rows = list(csv.reader(io.StringIO(text)))
    steps = [s.id for s in lesson.steps]
    assert rows[0] == [
        "learner",
        "submission",
        "lesson",
        "status",
        "points",
        "max_points",
        "percent",
        *(f"what-is-an-image.{s}" for s in steps),
    ]
    assert rows[0][7:14] == [f"what-is-an-image.{s}" for s in STABLE]
    total, pct = str(lesson.points), f"{800 / lesson.points:.1f}"
    assert rows[1][:7] == [
        "ada",
        "submissions/ada.ipynb",
        "what-is-an-image",
        "graded",
        total,
        total,
        "100.0",
    ]
    assert rows[2][:7] == [
        "bob",
        "submissions/bob.ipynb",
        "what-is-an-image",
        "graded",
        "0",
        total,
        "0.0",
    ]
    assert rows[3][:14] == [
        "cy",
        "submissions/cy.ipynb",
        "what-is-an-image",
        "graded",
        "8",
        total,
        pct,
        "3",
        "1",
        "2",
        "1",
        "0",
        "1",
        "0",
    ]
    assert rows[3][14:] == ["0"] * (len(steps) - len(STABLE))
    assert rows[4][:7] == [
        "dee",
        "submissions/dee.ipynb",
        "what-is-an-image",
        "timeout",
        "8",
        total,
        pct,
    ]
    assert rows[1][7:] == [str(s.points) for s in lesson.steps]
    assert len(rows) == 5
    assert text.endswith("\r\n")  # RFC 4180 line ends


def test_the_gradebook_keeps_lessons_apart_and_defuses_formulas(
    lesson: Lesson, cases: dict[str, SubmissionResult]
) -> None:
    other = seed_lesson("other-lesson")  # a hand-made lesson (tests/lesson_kit.py)
    mine = hand_made(other, lambda s, _i: s == "run-redis")
    evil = SubmissionResult("=cmd|' /C calc'!A0.ipynb", '=HYPERLINK("x")', other.id, mine)
    rows = list(csv.reader(io.StringIO(gradebook_csv([cases["partial"], evil]))))
    width = 7 + len(lesson.steps) + len(other.steps)
    assert [len(r) for r in rows] == [width] * 3
    assert rows[0][7 + len(lesson.steps) :] == [f"other-lesson.{s.id}" for s in other.steps]
    assert rows[2][:7] == [
        '\'=HYPERLINK("x")',
        "'=cmd|' /C calc'!A0.ipynb",
        "other-lesson",
        "graded",
        "1",
        str(other.points),
        f"{100 / other.points:.1f}",
    ]
    assert rows[2][7 : 7 + len(lesson.steps)] == [""] * len(lesson.steps)
    assert rows[1][7 + len(lesson.steps) :] == [""] * len(other.steps)
    assert rows[2][7 + len(lesson.steps) + 3] == "1"  # other-lesson's run-redis


# feedback notebook --------------------------------------------------------------------
def roles(nb: nbformat.NotebookNode) -> list[tuple[str, str | None]]:
    out = []
    for cell in nb.cells:
        meta = cell.metadata.get("dockdojo", {})
        out.append((meta.get("role", cell.cell_type), meta.get("step")))
    return out


def valid(nb: nbformat.NotebookNode) -> None:
    nbformat.validate(nb)
    defs = notebook_schema()
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids))
    for cell in nb.cells:
        if "dockdojo" in cell.metadata:
            jsonschema.validate(dict(cell.metadata["dockdojo"]), {**defs, "$ref": "#/$defs/cell"})


def test_feedback_sits_under_each_step_cell(
    lesson: Lesson, submitted: nbformat.NotebookNode, cases: dict[str, SubmissionResult]
) -> None:
    nb = feedback_notebook(submitted, cases["timeout"])
    valid(nb)
    assert len(nb.cells) == len(submitted.cells) + 1 + len(lesson.steps)
    assert roles(nb)[0] == ("feedback", None)
    assert nb.cells[0].id == "feedback-summary"
    assert roles(nb)[1:3] == [("title", None), ("setup", None)]
    for step in lesson.steps:
        at = roles(nb).index(("step", step.id))
        assert roles(nb)[at + 1] == ("feedback", step.id)
        assert nb.cells[at + 1].id == f"feedback-{step.id}"
        assert nb.cells[at + 1].metadata.dockdojo == {
            "schema": "dockdojo.lesson/v1",
            "lesson": "what-is-an-image",
            "role": "feedback",
            "step": step.id,
        }
        assert nb.cells[at + 1].cell_type == "markdown"
    # the learner's cells are all there, in order, unchanged
    assert [
        c for c in nb.cells if c.metadata.get("dockdojo", {}).get("role") != "feedback"
    ] == list(submitted.cells)
    assert submitted.cells[0].metadata.dockdojo["role"] == "title"  # the input is untouched
    assert nb.cells[0].source.splitlines()[:5] == [
        "## 📋 Your grade: What is an image?",
        "",
        f"**8/{lesson.points} points ({800 / lesson.points:.1f}%)** · 4 of "
        f"{len(lesson.steps)} steps passed · learner dee",
        "",
        "**Notebook run:** ⏱️ stopped when its time ran out. 12 of 20 code cells ran in 31.0 s.",
    ]
    assert "| redis\\-cache\\.name | cache\\-3f2a |" in nb.cells[0].source
    at = roles(nb).index(("step", "run-nginx"))
    snapshot("timeout.run-nginx.md", nb.cells[at + 1].source + "\n")
    passed = nb.cells[roles(nb).index(("step", "pull-images")) + 1].source
    assert passed.splitlines()[0] == "**✅ Result: Pull nginx, redis and mongo: 3/3 points**"
    assert "Hint" not in passed


def test_feedback_text_cannot_inject_html_or_markdown(
    submitted: nbformat.NotebookNode, cases: dict[str, SubmissionResult]
) -> None:
    nb = feedback_notebook(submitted, cases["hostile"])
    valid(nb)
    at = roles(nb).index(("step", "run-nginx"))
    snapshot("hostile.run-nginx.md", nb.cells[at + 1].source + "\n")
    snapshot("hostile.summary.md", nb.cells[0].source + "\n")
    render = MarkdownIt("commonmark").enable("table").render  # raw HTML on, like Jupyter
    html = render(nb.cells[at + 1].source)
    assert "<script" not in html
    assert "<code>" not in html
    assert "<a " not in html
    assert "<h1>" not in html
    assert "<hr" not in html
    assert "<strong>bold" not in html
    shown = unescape(html)
    assert (
        'Container "web" said: <script>alert(1)</script> & `rm -rf /` | a | $x^2$ '
        "**bold** [link](javascript:alert(1)) red \ufffd naïve 🐳 \ufffdevil &lt;"
    ) in shown
    assert "$x^2$" not in nb.cells[at + 1].source  # no math for MathJax
    summary = render(nb.cells[0].source)
    assert "<script" not in summary
    assert "<o'brien>" not in summary
    assert 'Zoë "&lt;o\'brien&gt;" &amp; co' in summary.replace("&quot;", '"')
    table = summary[summary.index("<table>") :]
    assert table.count("<td>") == 2  # the pipe in the value did not add a column
    assert "<td>a|b`c&lt;d&gt;</td>" in table
    assert "Cell 3 raised NameError: name '&lt;x&gt;' is not defined" in summary.replace(
        "&#x27;", "'"
    )


def test_feedback_replaces_old_feedback_and_stale_widget_state(
    lesson: Lesson, submitted: nbformat.NotebookNode, cases: dict[str, SubmissionResult]
) -> None:
    nb = nbformat.from_dict(json.loads(json.dumps(submitted)))
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    step_at = roles(nb).index(("step", "run-redis"))
    view = {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            "application/vnd.jupyter.widget-view+json": {
                "version_major": 2,
                "version_minor": 0,
                "model_id": "abc",
            },
            "text/plain": "Run(...)",
        },
    }
    nb.cells[step_at].outputs = [nbformat.from_dict(view)]
    nb.cells[step_at].execution_count = 7
    forged = nbformat.v4.new_markdown_cell(
        "**✅ 22/22**",
        id="feedback-summary",
        metadata={
            "dockdojo": {"schema": "dockdojo.lesson/v1", "lesson": lesson.id, "role": "feedback"}
        },
    )
    nb.cells.insert(0, forged)
    nb.cells[5].id = nb.cells[4].id  # a duplicate id, as some editors leave them
    once = feedback_notebook(nb, cases["partial"])
    valid(once)
    assert "widgets" not in once.metadata
    assert "**✅ 22/22**" not in [c.source for c in once.cells]
    redis = once.cells[roles(once).index(("step", "run-redis"))]
    assert redis.outputs == [view]  # outputs stay as they were
    assert redis.execution_count == 7
    assert once.cells[5].id != once.cells[6].id
    twice = feedback_notebook(once, cases["partial"])
    assert [c.source for c in twice.cells] == [c.source for c in once.cells]
    assert [c.id for c in twice.cells] == [c.id for c in once.cells]


def test_feedback_of_steps_without_a_cell_goes_at_the_end(
    submitted: nbformat.NotebookNode, cases: dict[str, SubmissionResult]
) -> None:
    nb = nbformat.from_dict(json.loads(json.dumps(submitted)))
    nb.cells = [c for c in nb.cells if c.metadata.get("dockdojo", {}).get("step") != "mongosh"]
    other = roles(nb).index(("step", "run-mongo"))
    nb.cells[other].metadata.dockdojo.lesson = "another-lesson"
    nb.nbformat_minor = 4  # an nbformat 4.4 notebook has no cell ids
    for cell in nb.cells:
        del cell["id"]
    out = feedback_notebook(nb, cases["partial"])
    valid(out)
    assert out.nbformat_minor == 5
    assert roles(out)[-2:] == [("feedback", "run-mongo"), ("feedback", "mongosh")]
    assert out.cells[-1].source.startswith(
        "*This step's cell is not in your notebook, so its result is here.*\n\n"
        "**❌ Result: Insert and find a document with mongosh: 0/1 point**"
    )
    assert [c.id for c in out.cells[:3]] == ["feedback-summary", "cell-1", "cell-2"]


def test_feedback_needs_an_nbformat_4_notebook(cases: dict[str, SubmissionResult]) -> None:
    with pytest.raises(ValueError, match="nbformat 4"):
        feedback_notebook(nbformat.from_dict({"nbformat": 3, "cells": []}), cases["full"])


# files ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("learner", "name"),
    [
        ("ada", "ada"),
        ("ada.lovelace_1-x", "ada.lovelace_1-x"),
        ("Ada", "ada-99a563ab"),
        ("../../etc/passwd", "etc-passwd-3754d6cb"),
        ('Zoë "<o\'brien>" & co', "zoe-o-brien-co-34685358"),
        ("con", "con-1143da2b"),
        (".hidden", "hidden-16924190"),
        ("李", "learner-c16667ca"),
    ],
)
def test_safe_names(learner: str, name: str) -> None:
    assert safe_name(learner) == name


def test_safe_names_are_short_and_tame() -> None:
    name = safe_name("x" * 300)
    assert len(name) <= 64
    assert name.startswith("x" * 55 + "-")


def test_write_all_writes_every_file(
    tmp_path: Path, submitted: nbformat.NotebookNode, cases: dict[str, SubmissionResult]
) -> None:
    results = [cases["full"], cases["timeout"], cases["hostile"]]
    out = tmp_path / "grades"
    notebooks = {
        "submissions/ada.ipynb": submitted,
        "dee": submitted,
        "submissions/<evil>&.ipynb": submitted,
    }
    paths = write_all(results, out, notebooks)
    hostile = safe_name(cases["hostile"].learner)
    assert [p.name for p in paths] == [
        "ada.json",
        "ada.feedback.ipynb",
        "ada.results.json",
        "dee.json",
        "dee.feedback.ipynb",
        "dee.results.json",
        f"{hostile}.json",
        f"{hostile}.feedback.ipynb",
        f"{hostile}.results.json",
        "junit.xml",
        "gradebook.csv",
    ]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    assert all(p.parent == out for p in paths)
    assert json.loads((out / "dee.json").read_text(encoding="utf-8")) == json.loads(
        json.dumps(to_json(cases["timeout"]))
    )
    assert json.loads((out / "dee.results.json").read_text(encoding="utf-8"))["score"] == 8.0
    written = nbformat.read(out / "ada.feedback.ipynb", as_version=4)
    valid(written)
    assert written.cells[0].id == "feedback-summary"
    assert (out / "junit.xml").read_text(encoding="utf-8") == junit_xml(results)
    assert (out / "gradebook.csv").read_bytes() == gradebook_csv(results).encode()
    assert "Zoë" in (out / f"{hostile}.json").read_text(encoding="utf-8")


def test_write_all_without_a_notebook_skips_only_the_feedback(
    tmp_path: Path, cases: dict[str, SubmissionResult]
) -> None:
    paths = write_all([cases["zero"]], tmp_path, {})
    assert [p.name for p in paths] == ["bob.json", "bob.results.json", "junit.xml", "gradebook.csv"]


def test_write_all_refuses_two_results_for_one_file(
    tmp_path: Path, cases: dict[str, SubmissionResult]
) -> None:
    with pytest.raises(ValueError, match=r"'ada' and 'ada' would both be written to ada\.json"):
        write_all([cases["full"], cases["full"]], tmp_path / "grades", {})
    assert not (tmp_path / "grades").exists()


def test_write_all_replaces_files_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cases: dict[str, SubmissionResult]
) -> None:
    (tmp_path / "bob.json").write_text("old", encoding="utf-8")
    write_all([cases["zero"]], tmp_path, {})
    assert json.loads((tmp_path / "bob.json").read_text(encoding="utf-8"))["learner"] == "bob"

    def refuse(_src: object, _dst: object) -> None:  # a rename that fails, e.g. disk trouble
        raise OSError("rename refused")

    (tmp_path / "bob.json").write_text("kept", encoding="utf-8")
    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="rename refused"):
        write_all([cases["zero"]], tmp_path, {})
    assert (tmp_path / "bob.json").read_text(encoding="utf-8") == "kept"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
