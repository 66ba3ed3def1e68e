"""A lesson's own files (content/LESSON/) beside its notebook: found, written by
``dockdojo build`` (and checked by ``--check``), and given to a workspace without ever
overwriting the learner's (no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockdojo.runner.authoring.files import lesson_files, place_files, stale_files
from dockdojo.runner.cli import main
from dockdojo.runner.workspace import sync_workspace

LESSON = """---
title: Files
---

Build the app in the app folder.
"""


def _content(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    (content / "files-lesson" / "app" / "node_modules" / "x").mkdir(parents=True)
    (content / "files-lesson.md").write_text(LESSON)
    (content / "files-lesson" / "app" / "Dockerfile").write_text("FROM busybox\n")
    (content / "files-lesson" / "app" / "node_modules" / "x" / "index.js").write_text("")
    (content / "files-lesson" / "app" / "linked").symlink_to("/etc/passwd")
    return content


def test_a_lessons_files_are_its_folders_files_but_links_and_installed_packages(
    tmp_path: Path,
) -> None:
    content = _content(tmp_path)
    found = lesson_files([content / "files-lesson.md"])
    assert list(found) == ["files-lesson/app/Dockerfile"]


def test_a_workspace_gets_the_missing_files_and_keeps_the_learners(tmp_path: Path) -> None:
    content = _content(tmp_path)
    files = lesson_files([content / "files-lesson.md"])
    out = tmp_path / "out"
    assert place_files(files, out, replace=False) == ["files-lesson/app/Dockerfile"]
    mine = out / "files-lesson/app/Dockerfile"
    mine.write_text("FROM busybox\nRUN echo mine\n")
    assert place_files(files, out, replace=False) == []
    assert mine.read_text().endswith("mine\n")
    assert stale_files(files, out) == [f"{mine} is stale (its lesson's file changed)"]
    assert place_files(files, out, replace=True) == ["files-lesson/app/Dockerfile"]
    assert stale_files(files, out) == []

    workspace = tmp_path / "workspace"
    sync_workspace(workspace, content)
    assert (workspace / "files-lesson/app/Dockerfile").read_text() == "FROM busybox\n"
    (workspace / "files-lesson/app/Dockerfile").write_text("edited\n")
    sync_workspace(workspace, content)
    assert (workspace / "files-lesson/app/Dockerfile").read_text() == "edited\n"


def test_build_writes_the_files_beside_the_notebooks_and_check_says_when_they_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _content(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["build"]) == 0
    assert "wrote lessons/files-lesson/app/Dockerfile" in capsys.readouterr().out
    assert main(["build", "--check"]) == 0
    (tmp_path / "lessons/files-lesson/app/Dockerfile").unlink()
    assert main(["build", "--check"]) == 1
    err = capsys.readouterr().err
    assert "lessons/files-lesson/app/Dockerfile is missing (a file of its lesson)" in err
