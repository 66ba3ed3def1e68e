"""``dockdojo lab`` without an engine and without JupyterLab: the arguments JupyterLab is
started with, the folder it opens, and the learner's workspace of notebooks.

JupyterLab is never started here: ``os.execv`` is replaced by a recorder, the engine
lookup by a sentence, and the JupyterLab command by a path that is never run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from dockdojo.runner.authoring import lesson_sources
from dockdojo.runner.cli import lab, main
from dockdojo.runner.errors import DockdojoError
from dockdojo.runner.workspace import MANIFEST, WORKSPACE, packaged_content, sync_workspace

REPO = Path(__file__).resolve().parents[2]
FAKE_JUPYTER_LAB = "/fake/bin/jupyter-lab"  # never run: execv is replaced in these tests

LESSON = """# {title}

Pull an image.

```{{step}} pull-it
title: Pull nginx
action: pull
images: [nginx]
checks:
  - check: image_present
    image: nginx
    hint: Pull it with the Pull button.
```
"""


class Exec:
    """Stands in for ``os.execv``: records the command instead of starting it."""

    def __init__(self) -> None:
        self.argv: list[str] | None = None

    def __call__(self, path: str, argv: list[str]) -> None:
        assert path == argv[0]
        self.argv = list(argv)


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Exec:
    """``dockdojo lab`` with a recorded exec, no engine lookup, in an empty folder."""
    recorder = Exec()
    monkeypatch.setattr(os, "execv", recorder)
    monkeypatch.setattr(lab, "choose_engine", lambda: "Using a stand-in engine.")
    monkeypatch.setattr(lab, "jupyter_lab", lambda: [FAKE_JUPYTER_LAB])
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.chdir(home)
    return recorder


def _write_lesson(content: Path, name: str, title: str = "A lesson") -> Path:
    content.mkdir(parents=True, exist_ok=True)
    path = content / f"{name}.md"
    path.write_text(LESSON.format(title=title), encoding="utf-8")
    return path


# arguments -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("passed", "expected"),
    [
        ([], []),
        (["--", "--port", "8899", "--no-browser"], ["--port", "8899", "--no-browser"]),
        (["--", "--", "x"], ["--", "x"]),
        (["--port=1"], ["--port=1"]),
    ],
)
def test_one_leading_double_dash_is_dropped(passed: list[str], expected: list[str]) -> None:
    assert lab.jupyter_arguments(passed) == expected


def test_arguments_after_double_dash_reach_jupyterlab(started: Exec) -> None:
    assert main(["lab", "--", "--port", "8899", "--no-browser"]) == 0
    workspace = Path.cwd() / WORKSPACE
    assert started.argv == [
        FAKE_JUPYTER_LAB,
        f"--notebook-dir={workspace}",
        "--port",
        "8899",
        "--no-browser",
    ]


def test_lessons_option_before_double_dash_is_dockdojos(started: Exec) -> None:
    assert main(["lab", "--lessons", "mine", "--", "--lessons", "x"]) == 0
    assert started.argv == [
        FAKE_JUPYTER_LAB,
        f"--notebook-dir={Path.cwd() / 'mine'}",
        "--lessons",
        "x",
    ]


def test_allow_root_is_added_once_for_root(started: Exec, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert main(["lab"]) == 0
    assert started.argv is not None
    assert started.argv[-1] == "--allow-root"
    assert main(["lab", "--", "--allow-root", "--no-browser"]) == 0
    assert started.argv.count("--allow-root") == 1


@pytest.mark.usefixtures("started")
def test_what_was_done_is_said_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    packaged = len(lesson_sources(packaged_content()))
    assert main(["lab"]) == 0
    err = capsys.readouterr().err.splitlines()
    packaged = len(lesson_sources(packaged_content()))
    assert err[0].startswith(f"built {packaged} lessons into ./{WORKSPACE}")
    assert err[1] == "Using a stand-in engine."
    assert (Path.cwd() / WORKSPACE / "what-is-an-image.ipynb").is_file()
    assert main(["lab"]) == 0
    assert capsys.readouterr().err.splitlines()[0] == (
        f"./{WORKSPACE}: {packaged} lessons, up to date"
    )


def test_inside_a_workspace_that_workspace_is_opened(started: Exec) -> None:
    assert main(["lab"]) == 0
    os.chdir(Path.cwd() / WORKSPACE)
    assert main(["lab"]) == 0
    assert started.argv is not None
    assert started.argv[1] == f"--notebook-dir={Path.cwd()}"
    assert not (Path.cwd() / WORKSPACE).exists()


def test_a_clone_opens_its_lessons_folder_and_writes_nothing(started: Exec) -> None:
    _write_lesson(Path("content"), "first")
    Path("lessons").mkdir()
    assert main(["lab", "--", "--no-browser"]) == 0
    assert started.argv == [
        FAKE_JUPYTER_LAB,
        f"--notebook-dir={Path.cwd() / 'lessons'}",
        "--no-browser",
    ]
    assert sorted(p.name for p in Path.cwd().iterdir()) == ["content", "lessons"]
    assert not any(Path("lessons").iterdir())


def test_a_clone_with_a_missing_lessons_folder_says_how_to_build_it(
    started: Exec, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_lesson(Path("content"), "first")
    Path("lessons").mkdir()
    assert main(["lab", "--lessons", "elsewhere"]) == 1
    err = capsys.readouterr().err
    assert "error: The lessons folder ./elsewhere does not exist." in err
    assert "hint: Build the lessons into it: dockdojo build --out elsewhere" in err
    assert started.argv is None


# what cannot work is said before anything is written -------------------------------------
def test_no_jupyterlab_is_reported_before_anything_is_written(
    started: Exec, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(lab, "jupyter_lab", lambda: None)
    assert main(["lab"]) == 1
    err = capsys.readouterr().err
    assert "error: JupyterLab is not installed next to dockdojo." in err
    assert "hint: Install it: pip install 'dockdojo[lab]'" in err
    assert not any(Path.cwd().iterdir())
    assert started.argv is None


def test_jupyterlab_is_found_beside_this_python_and_not_by_the_jupyter_command(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import importlib.util

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    (bin_dir / "jupyter").write_text("")  # jupyter_core's command: no sign of JupyterLab
    monkeypatch.setattr(importlib.util, "find_spec", lambda *_: None)
    assert lab.jupyter_lab() is None
    (bin_dir / "jupyter-lab").write_text("")
    assert lab.jupyter_lab() == [str(bin_dir / "jupyter-lab")]


def test_a_lessons_path_that_is_a_file_is_refused(
    started: Exec, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("notes.txt").write_text("mine")
    assert main(["lab", "--lessons", "notes.txt"]) == 1
    err = capsys.readouterr().err
    assert "error: ./notes.txt is a file, not a folder for lessons." in err
    assert "hint: Choose a folder with --lessons DIR" in err
    assert Path("notes.txt").read_text() == "mine"
    assert started.argv is None


@pytest.mark.usefixtures("started")
def test_a_folder_that_cannot_be_created_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    Path("notes.txt").write_text("mine")
    assert main(["lab", "--lessons", "notes.txt/lessons"]) == 1
    err = capsys.readouterr().err
    assert "error: Cannot create the lessons folder ./notes.txt/lessons: Not a directory." in err
    assert (
        "hint: Run dockdojo lab in a folder you can write to, or choose one with "
        "--lessons DIR." in err
    )


@pytest.mark.usefixtures("started")
def test_a_folder_that_is_not_writable_is_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "access", lambda *_: False)  # as for a learner, not root
    assert main(["lab"]) == 1
    err = capsys.readouterr().err
    assert f"error: The lessons folder ./{WORKSPACE} is not writable." in err
    assert "hint: Run dockdojo lab in a folder you can write to" in err
    assert not any((Path.cwd() / WORKSPACE).iterdir())


def test_a_failed_write_is_reported_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_lesson(tmp_path / "content", "first")
    monkeypatch.chdir(tmp_path)

    def refuse(*_: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(DockdojoError) as err:
        sync_workspace(Path("ws"), tmp_path / "content")
    assert err.value.what == "Cannot write the lessons into ./ws: Permission denied."
    assert list(Path("ws").iterdir()) == []


# the workspace --------------------------------------------------------------------------
@pytest.fixture
def content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Lesson sources standing for the packaged ones; the current folder is tmp_path."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "content"
    _write_lesson(folder, "first", "First lesson")
    _write_lesson(folder, "second", "Second lesson")
    return folder


def _snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in folder.iterdir() if p.is_file()}


def test_first_build_writes_every_notebook_and_records_it(content: Path) -> None:
    report = sync_workspace(Path("ws"), content)
    assert report.added == ("first.ipynb", "second.ipynb")
    assert report.lines() == ["built 2 lessons into ./ws"]
    notebook = json.loads(Path("ws/first.ipynb").read_text())
    assert notebook["metadata"]["dockdojo"]["lesson"] == "first"
    recorded = json.loads((Path("ws") / MANIFEST).read_text())
    assert set(recorded["notebooks"]) == {"first.ipynb", "second.ipynb"}
    assert [p.name for p in Path("ws").iterdir() if p.name.endswith(".tmp")] == []


def test_a_second_run_writes_nothing(content: Path) -> None:
    sync_workspace(Path("ws"), content)
    before = _snapshot(Path("ws")), _snapshot(Path("ws") / ".dockdojo")
    report = sync_workspace(Path("ws"), content)
    assert (report.added, report.updated, report.kept) == ((), (), ())
    assert report.lines() == ["./ws: 2 lessons, up to date"]
    assert (_snapshot(Path("ws")), _snapshot(Path("ws") / ".dockdojo")) == before


def test_the_notebooks_are_the_same_from_any_folder(content: Path, tmp_path: Path) -> None:
    sync_workspace(Path("ws"), content)
    elsewhere = tmp_path / "a" / "b"
    elsewhere.mkdir(parents=True)
    os.chdir(elsewhere)
    report = sync_workspace(tmp_path / "ws", content)
    assert (report.added, report.updated) == ((), ())


def test_a_new_lesson_is_added(content: Path) -> None:
    sync_workspace(Path("ws"), content)
    _write_lesson(content, "third", "Third lesson")
    report = sync_workspace(Path("ws"), content)
    assert (report.added, report.updated, report.kept) == (("third.ipynb",), (), ())
    assert report.lines() == ["added 1 lesson (third.ipynb) in ./ws"]
    assert Path("ws/third.ipynb").is_file()


def test_an_unchanged_notebook_is_updated_when_its_lesson_changed(content: Path) -> None:
    sync_workspace(Path("ws"), content)
    _write_lesson(content, "first", "First lesson, revised")
    report = sync_workspace(Path("ws"), content)
    assert (report.added, report.updated, report.kept) == ((), ("first.ipynb",), ())
    assert report.lines() == ["updated 1 lesson (first.ipynb) in ./ws"]
    assert "First lesson, revised" in Path("ws/first.ipynb").read_text()
    assert sync_workspace(Path("ws"), content).updated == ()


def test_a_notebook_the_learner_changed_is_kept_and_reported(content: Path) -> None:
    sync_workspace(Path("ws"), content)
    mine = Path("ws/first.ipynb").read_text().replace("Pull an image.", "My notes.")
    Path("ws/first.ipynb").write_text(mine)
    quiet = sync_workspace(Path("ws"), content)  # nothing newer: the learner's work, silently
    assert (quiet.updated, quiet.kept, quiet.lines()) == ((), (), ["./ws: 2 lessons, up to date"])

    _write_lesson(content, "first", "First lesson, revised")
    _write_lesson(content, "second", "Second lesson, revised")
    report = sync_workspace(Path("ws"), content)
    assert Path("ws/first.ipynb").read_text() == mine
    assert (report.updated, report.kept) == (("second.ipynb",), ("first.ipynb",))
    assert report.lines() == [
        "updated 1 lesson (second.ipynb) in ./ws",
        "kept first.ipynb in ./ws: you changed it, so its newer version was not written "
        "(rename yours and run dockdojo lab again to get it)",
    ]
    assert sync_workspace(Path("ws"), content).kept == ("first.ipynb",)  # said on each run

    Path("ws/first.ipynb").rename("ws/first-mine.ipynb")
    again = sync_workspace(Path("ws"), content)
    assert (again.added, again.kept) == (("first.ipynb",), ())
    assert "First lesson, revised" in Path("ws/first.ipynb").read_text()


def test_a_missing_notebook_is_written_again(content: Path) -> None:
    sync_workspace(Path("ws"), content)
    Path("ws/second.ipynb").unlink()
    assert sync_workspace(Path("ws"), content).added == ("second.ipynb",)


def test_without_a_readable_record_no_notebook_is_overwritten(content: Path) -> None:
    sync_workspace(Path("ws"), content)
    Path("ws/first.ipynb").write_text("{}")
    (Path("ws") / MANIFEST).write_text("not json")
    _write_lesson(content, "second", "Second lesson, revised")
    report = sync_workspace(Path("ws"), content)
    assert Path("ws/first.ipynb").read_text() == "{}"
    assert report.kept == ("first.ipynb", "second.ipynb")
    assert "Second lesson, revised" not in Path("ws/second.ipynb").read_text()


def test_the_packaged_lessons_are_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    report = sync_workspace(Path("ws"))
    expected = sorted(
        f"{p.stem}.ipynb" for p in (REPO / "content").glob("*.md") if not p.name.startswith("_")
    )
    assert sorted(report.added) == expected


def test_a_workspace_notebook_says_of_its_language_what_its_kernel_will(content: Path) -> None:
    """JupyterLab writes the kernel's language_info into a notebook when the kernel
    starts; a notebook that already says the same is not shown as modified on opening."""
    from jupyter_client.manager import run_kernel

    sync_workspace(Path("ws"), content)
    written = json.loads(Path("ws/first.ipynb").read_text())["metadata"]["language_info"]
    with run_kernel(kernel_name="python3") as client:
        asked = client.kernel_info()
        reply = client.get_shell_msg(timeout=60)  # type: ignore[attr-defined]  # made blocking at run time
    assert reply["parent_header"]["msg_id"] == asked
    assert written == reply["content"]["language_info"]
