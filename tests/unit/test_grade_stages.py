"""Grading as an ordered list of stages, without an engine: the list, the hooks, each
submission parsed once and each report file written once.

The stages that need an engine (prepare, execute, end, personalize, check, clean up) are
replaced here by one stage that scores by hand (a fake, said here); grading on real
engines is tested in tests/grading/."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from dockdojo.runner.authoring import Lesson
from dockdojo.runner.errors import DockdojoError
from dockdojo.runner.grading import STAGES, GradeOptions, Stage, Submission, grade_batch
from dockdojo.runner.grading.reports import SubmissionResult, files
from dockdojo.runner.grading.stages import read, report, run_stages
from dockdojo.runner.kinds import LessonReport

ROOT = Path(__file__).resolve().parents[2]


def test_the_stages_in_order() -> None:
    assert [s.name for s in STAGES] == [
        "read",
        "prepare",
        "execute",
        "end",
        "personalize",
        "check",
        "clean up",
        "score",
        "report",
    ]
    assert all(s.run.__doc__ for s in STAGES), "each stage says what its one job is"


def _scored_by_hand(sub: Submission) -> None:
    """A fake: the engine's stages, with a result made by hand."""
    lesson = sub.options.lesson
    sub.result = SubmissionResult(
        submission=str(sub.path),
        learner=sub.learner,
        lesson=lesson.id,
        report=LessonReport(lesson.id, lesson.title, (), mode="grade"),
        isolation=sub.options.isolation,
    )


BY_HAND = (Stage("read", read), Stage("scored by hand", _scored_by_hand), Stage("report", report))


def _submission(folder: Path, learner: str) -> Path:
    cell = new_code_cell("print('hi')", outputs=[new_output("stream", text="hi\n")])
    path = folder / f"{learner}.ipynb"
    nbformat.write(new_notebook(cells=[cell]), path)
    return path


def test_hooks_are_called_as_each_stage_starts_and_ends(tmp_path: Path, lesson: Lesson) -> None:
    seen: list[str] = []
    sub = Submission(tmp_path / "ada.ipynb", b"not a notebook", GradeOptions(lesson=lesson))
    result = run_stages(
        sub,
        BY_HAND,
        on_stage_start=lambda stage, _sub: seen.append(f"start {stage.name}"),
        on_stage_end=lambda stage, _sub: seen.append(f"end {stage.name}"),
    )
    assert seen == [f"{when} {s.name}" for s in BY_HAND for when in ("start", "end")]
    assert result.learner == "ada"
    assert sub.notebook is None
    assert sub.outcome is not None
    assert sub.outcome.status == "error"
    assert "could not be read" in sub.outcome.message


def test_each_submission_is_parsed_once_and_each_report_written_once(
    tmp_path: Path, lesson: Lesson, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [_submission(tmp_path, "ada"), _submission(tmp_path, "bob")]
    parsed = Counter[str]()
    reads = nbformat.reads

    def counting_reads(text: str, *args: Any, **kwargs: Any) -> nbformat.NotebookNode:
        parsed[text] += 1
        return reads(text, *args, **kwargs)

    written: list[Path] = []
    write = files._write

    def counting_write(path: Path, text: str) -> Path:
        written.append(path)
        return write(path, text)

    monkeypatch.setattr(nbformat, "reads", counting_reads)
    monkeypatch.setattr(files, "_write", counting_write)
    ended: list[str] = []
    out = tmp_path / "grades"
    options = GradeOptions(lesson=lesson, trusted=True, out=out, jobs=2)
    batch = grade_batch(
        paths,
        options,
        stages=BY_HAND,
        on_stage_end=lambda stage, sub: ended.append(f"{sub.learner} {stage.name}"),
    )
    assert [r.learner for r in batch.results] == ["ada", "bob"]
    assert sorted(parsed.values()) == [1, 1], "a submission was parsed more than once"
    assert Counter(written) == Counter(batch.written)
    assert len(set(written)) == len(written), "a report file was written twice"
    assert sorted(p.name for p in written) == sorted(
        [
            *(f"{who}.{kind}" for who in ("ada", "bob") for kind in ("json", "results.json")),
            "ada.feedback.ipynb",
            "bob.feedback.ipynb",
            "junit.xml",
            "gradebook.csv",
        ]
    )
    feedback = nbformat.read(out / "ada.feedback.ipynb", as_version=4)
    assert [c.outputs for c in feedback.cells if c.cell_type == "code"] == [
        [new_output("stream", text="hi\n")]
    ], "the feedback is the notebook as submitted"
    assert sorted(ended) == sorted(f"{who} {s.name}" for who in ("ada", "bob") for s in BY_HAND)


def test_without_out_nothing_is_written(tmp_path: Path, lesson: Lesson) -> None:
    batch = grade_batch(
        [_submission(tmp_path, "ada")], GradeOptions(lesson=lesson, trusted=True), stages=BY_HAND
    )
    assert batch.written == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ada.ipynb"]


def test_two_learners_whose_reports_would_share_files_are_refused_before_anything_runs(
    tmp_path: Path, lesson: Lesson
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    paths = [_submission(tmp_path / "a", "ada"), _submission(tmp_path / "b", "ada")]
    options = GradeOptions(lesson=lesson, trusted=True, out=tmp_path / "grades")
    with pytest.raises(DockdojoError, match=r"would both be written to ada\.json"):
        grade_batch(paths, options, stages=BY_HAND)
    assert not (tmp_path / "grades").exists()
