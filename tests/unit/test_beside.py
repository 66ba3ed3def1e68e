"""Files beside the notebook (runner/beside.py, the write-file action, its widget): written
inside the notebook's folder and nowhere else. Each attack is a path or a link that would
write (or read) elsewhere; it is refused with a message, and nothing outside changes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import pytest
from lesson_kit import action, lesson, step

from dockdojo.runner import ACTIONS, DockdojoError, Engine, read_beside, write_beside
from dockdojo.runner.beside import MAX_BYTES


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    """A notebook's folder, and beside it (outside it) a folder that must stay untouched."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "target").write_text("precious\n")
    folder = tmp_path / "notebook"
    folder.mkdir()
    return folder


def _untouched(notebook: Path) -> None:
    outside = notebook.parent / "outside"
    assert sorted(p.name for p in outside.iterdir()) == ["target"]
    assert (outside / "target").read_text() == "precious\n"


def test_a_file_is_written_beside_the_notebook_with_its_folders(notebook: Path) -> None:
    written = write_beside("public_html/index.html", "<h1>hi</h1>\n", notebook)
    assert written == notebook / "public_html" / "index.html"
    assert written.read_text() == "<h1>hi</h1>\n"
    assert read_beside("public_html/index.html", notebook) == "<h1>hi</h1>\n"
    write_beside("./public_html/index.html", "again\n", notebook)  # overwritten in place
    assert written.read_text() == "again\n"
    assert read_beside("public_html/missing.html", notebook) is None
    assert read_beside("nowhere/index.html", notebook) is None


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("/etc/passwd", "'/etc/passwd' is an absolute path"),
        ("~/.bashrc", "'~/.bashrc' is an absolute path"),
        ("../outside/target", "'../outside/target' leads out of the notebook's folder"),
        ("public_html/../../outside/x", "leads out of the notebook's folder (..)"),
        ("", "No file was named"),
        (".", "names the notebook's folder itself"),
    ],
)
def test_paths_that_leave_the_folder_are_refused(notebook: Path, path: str, said: str) -> None:
    with pytest.raises(DockdojoError) as refused:
        write_beside(path, "owned\n", notebook)
    assert said in refused.value.what
    assert "inside the notebook's folder" in refused.value.hint or not path.strip(". ")
    with pytest.raises(DockdojoError):
        read_beside(path, notebook)
    _untouched(notebook)


def test_a_link_to_a_folder_elsewhere_is_not_followed(notebook: Path) -> None:
    (notebook / "public_html").symlink_to(notebook.parent / "outside")
    with pytest.raises(DockdojoError) as refused:
        write_beside("public_html/target", "owned\n", notebook)
    assert "public_html beside the notebook is a symbolic link" in refused.value.what
    assert "Remove or rename public_html" in refused.value.hint
    with pytest.raises(DockdojoError):
        read_beside("public_html/target", notebook)
    _untouched(notebook)


def test_a_link_to_a_file_elsewhere_is_not_followed(notebook: Path) -> None:
    (notebook / "site").mkdir()
    (notebook / "site" / "index.html").symlink_to(notebook.parent / "outside" / "target")
    with pytest.raises(DockdojoError) as refused:
        write_beside("site/index.html", "owned\n", notebook)
    assert "site/index.html beside the notebook is a symbolic link" in refused.value.what
    with pytest.raises(DockdojoError) as read:
        read_beside("site/index.html", notebook)  # the link's target is not shown either
    assert "symbolic link" in read.value.what
    _untouched(notebook)


def test_a_folder_where_the_file_should_be_and_a_big_file_are_refused(notebook: Path) -> None:
    (notebook / "public_html" / "index.html").mkdir(parents=True)
    with pytest.raises(DockdojoError) as folder:
        write_beside("public_html/index.html", "x", notebook)
    assert "is a folder, not a file" in folder.value.what
    with pytest.raises(DockdojoError) as big:
        write_beside("big.html", "x" * (MAX_BYTES + 1), notebook)
    assert "may have 256 KiB at most" in big.value.what or "at most" in big.value.what
    assert not (notebook / "big.html").exists()


def test_a_folder_that_is_not_writable_says_so(notebook: Path) -> None:
    if os.geteuid() == 0:  # root writes anyway: make the folder a file in the way instead
        (notebook / "blocked").write_text("a file, not a folder\n")
        with pytest.raises(DockdojoError) as refused:
            write_beside("blocked/index.html", "x", notebook)
        assert "blocked beside the notebook is a symbolic link or not a folder" in (
            refused.value.what
        )
        return
    (notebook / "locked").mkdir(mode=0o500)
    with pytest.raises(DockdojoError) as refused:
        write_beside("locked/index.html", "x", notebook)
    assert "cannot be written" in refused.value.what


def test_the_write_file_action_writes_in_the_current_folder_and_refuses_the_rest(
    notebook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(notebook)
    kind = ACTIONS["write-file"]
    the_step = step("make-site", act=action("write-file", path="p/index.html", content="hi"))
    model = lesson("files", the_step)
    no_engine = cast(Engine, None)  # writing a file asks nothing of the engine
    said = kind.perform(no_engine, model, the_step, {"path": "p/index.html", "content": "hi\n"})
    assert said == "Wrote p/index.html (3 B) beside the notebook."
    assert (notebook / "p" / "index.html").read_text() == "hi\n"
    hostile: dict[str, Any] = {"path": "../outside/target", "content": "owned\n"}
    with pytest.raises(DockdojoError, match="leads out of the notebook's folder"):
        kind.perform(no_engine, model, the_step, hostile)
    _untouched(notebook)


def test_the_file_widget_shows_the_disk_and_saves_only_inside(
    notebook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockdojo.widgets.files import FileWidget

    monkeypatch.setenv("DOCKDOJO_WIDGETS_SYNC", "1")
    saved: list[Path] = []
    widget = FileWidget("public_html/index.html", "<h1>guide</h1>\n", base=notebook)
    assert widget.text.value == "<h1>guide</h1>\n"  # nothing on disk yet: the guide's text
    widget.on_saved = saved.append
    widget.text.value = "<h1>mine</h1>\n"
    widget.save()
    assert (notebook / "public_html" / "index.html").read_text() == "<h1>mine</h1>\n"
    assert saved == [notebook / "public_html" / "index.html"]
    assert "Saved public_html/index.html" in widget.status.value
    again = FileWidget("public_html/index.html", "<h1>guide</h1>\n", base=notebook)
    assert again.text.value == "<h1>mine</h1>\n"  # what is on disk, not the guide's

    hostile = FileWidget("../outside/target", "owned\n", base=notebook)
    hostile.save()
    assert "leads out of the notebook&#x27;s folder" in hostile.status.value
    _untouched(notebook)
