"""What ``dockdojo grade`` reads and writes on disk, against hostile names and files: the
reports folder is closed to everyone but the grader's user, report names cannot collide
whatever the learner ids are, and only regular files are graded."""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from dockdojo.runner.authoring import Lesson
from dockdojo.runner.cli import main
from dockdojo.runner.errors import DockdojoError
from dockdojo.runner.grading import GradeOptions, Stage, Submission, grade_batch
from dockdojo.runner.grading.execute import Execution
from dockdojo.runner.grading.reports import (
    SubmissionResult,
    private_folder,
    safe_name,
    write_all,
)
from dockdojo.runner.grading.stages import read, report
from dockdojo.runner.grading.submissions import NotRegularFile, read_submission
from dockdojo.runner.kinds import LessonReport

ROOT = Path(__file__).resolve().parents[2]


def _scored_by_hand(sub: Submission) -> None:
    """A fake: the engine's stages, with a result made by hand (and the read's outcome)."""
    lesson = sub.options.lesson
    outcome = sub.outcome or Execution("graded", "", 0, 0)
    sub.result = SubmissionResult(
        submission=str(sub.path),
        learner=sub.learner,
        lesson=lesson.id,
        report=LessonReport(lesson.id, lesson.title, (), mode="grade"),
        status=outcome.status,
        execution_message=outcome.message,
        isolation=sub.options.isolation,
    )


BY_HAND = (Stage("read", read), Stage("scored by hand", _scored_by_hand), Stage("report", report))


def _notebook(folder: Path, name: str) -> Path:
    path = folder / f"{name}.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(f"print({name!r})")]), path)
    return path


def _modes(folder: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.lstat().st_mode) for p in folder.iterdir()}


# --out: readable by the grader's user only --------------------------------------------
def test_reports_and_their_folder_are_readable_by_the_grader_only(
    tmp_path: Path, lesson: Lesson
) -> None:
    subs = tmp_path / "submissions"
    subs.mkdir()
    out = tmp_path / "grades"
    options = GradeOptions(lesson=lesson, trusted=True, out=out)
    umask = os.umask(0o022)  # as a shell leaves it: new files 644, new folders 755
    try:
        batch = grade_batch([_notebook(subs, "ada")], options, stages=BY_HAND)
    finally:
        os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert {p.name for p in batch.written} == set(_modes(out))
    assert set(_modes(out).values()) == {0o600}


def test_an_existing_reports_folder_and_its_old_files_are_closed(
    tmp_path: Path, lesson: Lesson
) -> None:
    out = tmp_path / "grades"
    out.mkdir(mode=0o755)
    out.chmod(0o755)
    old = out / "earlier.feedback.ipynb"  # an earlier batch's, written 644
    old.write_text("the solutions")
    old.chmod(0o644)
    script = out / "tool.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    (out / "old").mkdir(mode=0o777)
    (out / "old").chmod(0o777)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not in --out")
    elsewhere.chmod(0o644)
    (out / "link").symlink_to(elsewhere)
    os.mkfifo(out / "fifo", 0o666)  # never opened: it would not hang the grader anyway
    subs = tmp_path / "submissions"
    subs.mkdir()
    grade_batch(
        [_notebook(subs, "ada")],
        GradeOptions(lesson=lesson, trusted=True, out=out),
        stages=BY_HAND,
    )
    modes = _modes(out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert modes["earlier.feedback.ipynb"] == 0o600
    assert modes["tool.sh"] == 0o700
    assert modes["old"] == 0o700
    assert modes["ada.json"] == 0o600
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644, "a link in --out was followed"


def test_write_all_closes_the_folder_it_writes_to(tmp_path: Path, lesson: Lesson) -> None:
    out = tmp_path / "deep" / "grades"
    result = SubmissionResult(
        "ada.ipynb", "ada", lesson.id, LessonReport(lesson.id, lesson.title, (), mode="grade")
    )
    paths = write_all([result], out, {})
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in paths} == {0o600}


def test_a_reports_folder_that_cannot_be_closed_is_refused_before_anything_runs(
    tmp_path: Path, lesson: Lesson, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "theirs"
    out.mkdir()
    chmod = os.chmod

    def not_the_owner(path: object, mode: int, **kwargs: object) -> None:
        if Path(str(path)) == out:  # as for someone else's folder, when not root
            raise PermissionError(errno.EPERM, "Operation not permitted", str(path))
        chmod(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "chmod", not_the_owner)
    with pytest.raises(PermissionError):
        private_folder(out)
    subs = tmp_path / "submissions"
    subs.mkdir()
    options = GradeOptions(lesson=lesson, trusted=True, out=out)
    ran: list[str] = []
    with pytest.raises(DockdojoError, match=r"theirs cannot be made private to you: Operation"):
        grade_batch(
            [_notebook(subs, "ada")],
            options,
            stages=BY_HAND,
            on_stage_start=lambda stage, _sub: ran.append(stage.name),
        )
    assert ran == []


# report names: none shared, whatever the learner ids ------------------------------------
def test_a_learner_named_like_another_learners_report_overwrites_nothing(
    tmp_path: Path, lesson: Lesson
) -> None:
    subs = tmp_path / "submissions"
    subs.mkdir()
    out = tmp_path / "grades"
    paths = [
        _notebook(subs, "bob"),
        _notebook(subs, "bob.results"),
        _notebook(subs, "bob.feedback"),
    ]
    batch = grade_batch(paths, GradeOptions(lesson=lesson, trusted=True, out=out), stages=BY_HAND)
    assert [r.learner for r in batch.results] == ["bob", "bob.results", "bob.feedback"]
    assert len(set(batch.written)) == len(batch.written) == 3 * 3 + 2
    theirs = safe_name("bob.results")
    assert theirs.startswith("bob.results-")
    gradescope = json.loads((out / "bob.results.json").read_text())
    assert "tests" in gradescope, "bob's Gradescope file"
    assert "schema" not in gradescope, "bob's Gradescope file, not another's record"
    assert json.loads((out / f"{theirs}.json").read_text())["learner"] == "bob.results"
    assert json.loads((out / "bob.json").read_text())["learner"] == "bob"
    assert json.loads((out / "bob.feedback.json").read_text())["learner"] == "bob.feedback"


HOSTILE_IDS = [
    "bob",
    "bob.results",
    "bob.results.results",
    "bob.feedback",
    "Bob.Results",
    "bob.json",
    "bob.results.json",
    "bob.feedback.ipynb",
    "junit",
    "junit.xml",
    "gradebook",
    "gradebook.csv",
    ".bob",
    "bob.",
    "-bob",
    "con",
    "x" * 70 + ".results",
    "results",
    ".results",
]


def test_no_two_reports_share_a_file_whatever_the_ids(tmp_path: Path, lesson: Lesson) -> None:
    report = LessonReport(lesson.id, lesson.title, (), mode="grade")
    results = [SubmissionResult(f"{who}.ipynb", who, lesson.id, report) for who in HOSTILE_IDS]
    notebook = new_notebook(cells=[new_code_cell("1")])
    paths = write_all(results, tmp_path, {r.submission: notebook for r in results})
    names = [p.name for p in paths]
    assert len(names) == len(set(names)) == 3 * len(HOSTILE_IDS) + 2
    for result in results:  # each record is its own learner's
        record = json.loads((tmp_path / f"{safe_name(result.learner)}.json").read_text())
        assert record["learner"] == result.learner


@pytest.mark.parametrize("learner", ["bob", "ada.lovelace_1-x", "bob.feedback", "junit"])
def test_ids_that_were_fine_keep_their_names(learner: str) -> None:
    assert safe_name(learner) == learner


# only regular files are graded -----------------------------------------------------------
SECRET = "root-only: the grader's secret"


def _graded_alone(path: Path, lesson: Lesson, out: Path) -> SubmissionResult:
    """``path`` graded by itself, in a thread: a grader that hangs fails the test."""
    options = GradeOptions(lesson=lesson, trusted=True, out=out)
    got: list[SubmissionResult] = []
    worker = threading.Thread(
        target=lambda: got.extend(grade_batch([path], options, stages=BY_HAND).results),
        daemon=True,
    )
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), f"grading {path} hung"
    [result] = got
    return result


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    secret.chmod(0o600)
    return secret


def _link(tmp_path: Path, subs: Path) -> Path:
    path = subs / "ada.ipynb"
    path.symlink_to(_secret(tmp_path))
    return path


def _dangling(_tmp_path: Path, subs: Path) -> Path:
    path = subs / "ada.ipynb"
    path.symlink_to(subs / "nowhere.ipynb")
    return path


def _link_to_notebook(_tmp_path: Path, subs: Path) -> Path:
    path = subs / "ada.ipynb"
    path.symlink_to(_notebook(subs, "real"))
    return path


def _fifo(_tmp_path: Path, subs: Path) -> Path:
    path = subs / "ada.ipynb"
    os.mkfifo(path)
    return path


def _socket(_tmp_path: Path, subs: Path) -> Path:
    path = subs / "ada.ipynb"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
    return path


def _device(_tmp_path: Path, _subs: Path) -> Path:
    return Path("/dev/null")  # a character device every machine has; never opened


def _folder(_tmp_path: Path, subs: Path) -> Path:
    path = subs / "ada.ipynb"
    path.mkdir()
    return path


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (_link, "a symbolic link"),
        (_dangling, "a symbolic link"),
        (_link_to_notebook, "a symbolic link"),
        (_fifo, "a FIFO (a named pipe)"),
        (_socket, "a socket"),
        (_device, "a character device"),
        (_folder, "a folder"),
    ],
    ids=lambda v: getattr(v, "__name__", v).strip("_"),
)
def test_only_regular_files_are_graded(
    tmp_path: Path, lesson: Lesson, make: Callable[[Path, Path], Path], kind: str
) -> None:
    subs = tmp_path / "submissions"
    subs.mkdir()
    out = tmp_path / "grades"
    path = make(tmp_path, subs)
    result = _graded_alone(path, lesson, out)
    assert result.status == "error"
    assert result.points == 0
    assert result.execution_message == (
        f"The notebook could not be read: {path} is {kind}, not a regular file, and only "
        "regular files are graded. Submit the notebook file itself (its .ipynb), not a link "
        "or anything else."
    )
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{result.learner}.json", f"{result.learner}.results.json", "junit.xml", "gradebook.csv"]
    ), "no feedback notebook: there was no notebook"
    for written in out.iterdir():
        assert SECRET not in written.read_text(), f"{written.name} holds what the link pointed at"


def test_a_file_made_a_link_after_it_was_looked_at_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _link(tmp_path, tmp_path)
    looked_at = os.stat(path)  # what lstat saw before the swap: a regular file
    monkeypatch.setattr(os, "lstat", lambda _path: looked_at)
    with pytest.raises(NotRegularFile, match="is a symbolic link, not a regular file"):
        read_submission(path)


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = _notebook(tmp_path, "ada")
    assert read_submission(path) == path.read_bytes()


def test_the_command_refuses_missing_paths_and_folders_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    folder = tmp_path / "submissions"
    folder.mkdir()
    argv = ["grade", "--lesson", "what-is-an-image", "--trusted", "--out", str(tmp_path / "o")]
    assert main([*argv, str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"error: Not a notebook but a folder: {folder}." in err
    assert f"hint: Give the notebooks in it (for example {folder}/*.ipynb)." in err
    assert main([*argv, str(tmp_path / "gone.ipynb")]) == 1
    assert f"error: No such submission: {tmp_path / 'gone.ipynb'}." in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_link_hides_the_submissions_folder_not_its_target_folder(
    tmp_path: Path, lesson: Lesson
) -> None:
    subs = tmp_path / "submissions"
    subs.mkdir()
    elsewhere = tmp_path / "elsewhere"  # as /etc for a link to /etc/shadow
    elsewhere.mkdir()
    link = _link(elsewhere, subs)
    hidden: list[tuple[Path, ...]] = []
    stages = (Stage("seen", lambda sub: hidden.append(sub.options.hide)), *BY_HAND)
    grade_batch([link], GradeOptions(lesson=lesson, trusted=True), stages=stages)
    assert hidden == [(subs.resolve(),)]
