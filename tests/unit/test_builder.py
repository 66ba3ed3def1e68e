"""The builder, by fixture files: each ``builder_cases/ok/X.md`` beside ``X.expected.json``
(the lesson model it must give) and each ``builder_cases/errors/X.md`` beside
``X.expected.txt`` (the exact ``file:line`` problems). Regenerate the expectations after a
deliberate change with ``DOCKDOJO_UPDATE_SNAPSHOTS=1 pytest tests/unit/test_builder.py``
and read the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from dockdojo.runner import LessonError, parse_lesson
from dockdojo.runner.authoring import Block, Lesson, Prose
from dockdojo.runner.cli import main

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).parent / "builder_cases"
OK = sorted((CASES / "ok").glob("*.md"))
ERRORS = sorted((CASES / "errors").glob("*.md"))
UPDATE = os.environ.get("DOCKDOJO_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # paths in messages are relative to the working directory


def lesson_dict(lesson: Lesson) -> dict[str, Any]:
    def block(b: Block) -> dict[str, Any]:
        if isinstance(b, Prose):
            return {"prose": b.markdown, "line": b.line}
        action = None if b.action is None else {"kind": b.action.kind, "args": dict(b.action.args)}
        checks = [
            {
                "kind": c.kind,
                "args": dict(c.args),
                "hint": c.hint,
                "points": c.points,
                "line": c.line,
            }
            for c in b.checks
        ]
        return {
            "step": b.id,
            "title": b.title,
            "line": b.line,
            "exercise": b.exercise,
            "task": b.task,
            "action": action,
            "checks": checks,
            "solve": [{"kind": a.kind, "args": dict(a.args)} for a in b.solve],
        }

    return {
        "id": lesson.id,
        "title": lesson.title,
        "description": lesson.description,
        "keywords": list(lesson.keywords),
        "points": lesson.points,
        "sections": [
            {"title": s.title, "level": s.level, "blocks": [block(b) for b in s.blocks]}
            for s in lesson.sections
        ],
        "warnings": [f"{w.line}: {w.message}" for w in lesson.warnings],
    }


@pytest.mark.parametrize("case", OK, ids=[p.stem for p in OK])
def test_lesson_model_matches_its_snapshot(case: Path) -> None:
    lesson = parse_lesson(case, lessons=frozenset(p.stem for p in OK))
    got = json.loads(json.dumps(lesson_dict(lesson)))  # as JSON has it (string keys)
    expected = case.with_suffix(".expected.json")
    if UPDATE:
        expected.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert got == json.loads(expected.read_text())


@pytest.mark.parametrize("case", ERRORS, ids=[p.stem for p in ERRORS])
def test_bad_lessons_fail_with_file_line_messages(case: Path) -> None:
    with pytest.raises(LessonError) as err:
        parse_lesson(case)
    got = "\n".join(str(p) for p in err.value.problems) + "\n"
    expected = case.with_suffix(".expected.txt")
    if UPDATE:
        expected.write_text(got)
    assert got == expected.read_text()
    assert all(
        str(p).startswith(f"tests/unit/builder_cases/errors/{case.name}:")
        for p in err.value.problems
    )


def test_build_of_a_bad_lesson_writes_nothing_and_exits_nonzero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = CASES / "ok" / "front-matter.md"
    bad = CASES / "errors" / "duplicate-ids.md"
    assert main(["build", str(good), str(bad), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "tests/unit/builder_cases/errors/duplicate-ids.md:11: duplicate step id 'same'" in err
    assert "nothing was written" in err
    assert list(tmp_path.iterdir()) == []  # not even the good lesson's notebook


def test_build_check_names_stale_missing_and_orphan_notebooks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "content").mkdir()
    source = tmp_path / "content" / "lesson-a.md"
    source.write_text((CASES / "ok" / "front-matter.md").read_text())
    monkeypatch.chdir(tmp_path)
    assert main(["build", "--check"]) == 1
    assert "lessons/lesson-a.ipynb is missing" in capsys.readouterr().err
    assert main(["build"]) == 0
    assert main(["build", "--check"]) == 0
    source.write_text(source.read_text().replace("killer web app", "great web app"))
    (tmp_path / "lessons" / "gone.ipynb").write_text("{}")
    assert main(["build", "--check"]) == 1
    err = capsys.readouterr().err
    assert "lessons/lesson-a.ipynb is stale" in err
    assert "lessons/gone.ipynb has no lesson source" in err
    assert "great web app" not in (tmp_path / "lessons" / "lesson-a.ipynb").read_text()


# issue 13 ------------------------------------------------------------------------------
def write(root: Path, files: dict[str, str]) -> list[Path]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return [root / name for name in files if "_includes" not in name]


def notebook_text(out: Path, name: str) -> str:
    cells = json.loads((out / f"{name}.ipynb").read_text())["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_links_between_lessons_built_together_open_their_notebooks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Defect 4: button urls without .md, relative links, a url with a space, and the
    _index.md of another section."""
    pages = write(
        tmp_path / "docs",
        {
            "basics/_index.md": "# Basics\n\nSee [building](../building/_index.md).\n",
            "basics/what-is-a-container.md": (
                "# Container\n\n"
                '{{< button text="Next" url="what-is-an-image" >}}\n\n'
                '{{< button text="Apps" url="Multi-container applications" >}}\n\n'
                "[Section](_index.md), [other section](../building/_index.md), "
                "[page](what-is-an-image.md#try-it-out), [folder](../building/).\n"
            ),
            "basics/what-is-an-image.md": "# Image\n",
            "basics/multi-container-applications.md": "# Apps\n",
            "building/_index.md": "# Building\n\nBack to [basics](../basics/_index.md).\n",
        },
    )
    out = tmp_path / "out"
    assert main(["build", *map(str, pages), "--out", str(out)]) == 0
    text = notebook_text(out, "what-is-a-container")
    assert "**[Next →](what-is-an-image.ipynb)**" in text
    assert "**[Apps →](multi-container-applications.ipynb)**" in text
    assert "[Section](basics.ipynb), [other section](building.ipynb)" in text
    assert "[page](what-is-an-image.ipynb#try-it-out), [folder](building.ipynb)" in text
    assert "[basics](basics.ipynb)" in notebook_text(out, "building")
    assert "[building](building.ipynb)" in notebook_text(out, "basics")
    assert "read as 'multi-container-applications'" in capsys.readouterr().err


def test_site_paths_become_links_to_the_docs_site(tmp_path: Path) -> None:
    """Defect 5: site paths go to the site of the front matter's docs_url, else to
    --docs-base; an include's relative links are resolved from the include's folder."""
    pages = write(
        tmp_path,
        {
            "with-url.md": (
                "---\ndockdojo:\n  docs_url: https://docs.example.com/get-started/with-url/\n---\n\n"
                "[run](/reference/cli/docker/container/run/), "
                "[desktop](/manuals/desktop/_index.md#install), [next](next-page.md)\n"
            ),
            "plain.md": (
                "# Plain\n\n[run](/reference/cli/docker/container/run/)\n\n"
                '{{< include "note.md" >}}\n'
            ),
            "_includes/note.md": "> [!NOTE]\n> See [with url](../with-url.md) and [x](/x/).\n",
        },
    )
    out = tmp_path / "out"
    argv = ["build", *map(str, pages), "--out", str(out), "--docs-base", "https://docs.docker.com"]
    assert main(argv) == 0
    assert (
        "[run](https://docs.example.com/reference/cli/docker/container/run/), "
        "[desktop](https://docs.example.com/desktop/#install), "
        "[next](https://docs.example.com/get-started/next-page/)"
    ) in notebook_text(out, "with-url")
    plain = notebook_text(out, "plain")
    assert "[run](https://docs.docker.com/reference/cli/docker/container/run/)" in plain
    assert "See [with url](with-url.ipynb) and [x](https://docs.docker.com/x/)." in plain


def test_section_pages_are_named_after_their_folder_and_same_names_get_their_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five _index.md become five notebooks named after their folders; pages whose names
    are the same get their section's folder before the name, the others keep theirs."""
    folders = ["get-started", "basics", "building", "running", "workshop"]
    pages = write(tmp_path, {f"{f}/_index.md": f"# {f}\n" for f in folders})
    out = tmp_path / "out"
    assert main(["build", *map(str, pages), "--out", str(out)]) == 0
    assert sorted(p.stem for p in out.iterdir()) == sorted(folders)
    write(
        tmp_path,
        {
            "content/basics/_index.md": "# Basics\n",
            "content/more/basics.md": "# Basics again\n",
            "content/running/publishing-ports.md": "# Ports\n",
            "content/building/publishing-ports.md": "# Ports again\n",
            "content/building/unique.md": "# Unique\n",
        },
    )
    monkeypatch.chdir(tmp_path)
    named = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "content").rglob("*.md"))
    assert main(["build", *named, "--out", "out2"]) == 0
    assert sorted(p.name for p in Path("out2").iterdir()) == [
        "building--publishing-ports.ipynb",
        "content--basics.ipynb",
        "more--basics.ipynb",
        "running--publishing-ports.ipynb",
        "unique.ipynb",
    ]
    meta = json.loads(Path("out2/more--basics.ipynb").read_text())["metadata"]["dockdojo"]
    assert meta["lesson"] == "more--basics"


def test_a_block_scalar_description_is_one_line(tmp_path: Path) -> None:
    """Defect 8: ``description: |`` leaves no asterisk on a line of its own."""
    (page,) = write(
        tmp_path,
        {
            "page.md": (
                "---\ntitle: Intro\ndescription: |\n  Get started\n  with Docker.\n---\n\nText.\n"
            )
        },
    )
    lesson = parse_lesson(page)
    assert lesson.description == "Get started with Docker."
    out = tmp_path / "out"
    assert main(["build", str(page), "--out", str(out)]) == 0
    cells = json.loads((out / "page.ipynb").read_text())["cells"]
    assert "".join(cells[0]["source"]) == "# Intro\n\n*Get started with Docker.*"


@pytest.mark.parametrize("check", [False, True], ids=["build", "check"])
@pytest.mark.parametrize("bad", ["missing", "folder", "latin-1"])
def test_a_bad_path_names_itself_and_nothing_is_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bad: str,
    check: bool,
) -> None:
    """Defect 9: a missing source, a folder, a file that is not UTF-8."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"good.md": "# Good\n"})
    if bad == "folder":
        Path("folder.md").mkdir()
    if bad == "latin-1":
        Path("latin-1.md").write_bytes("# Caf\u00e9\n\nNa\u00efve\n".encode("latin-1"))
    argv = ["build", "good.md", f"{bad}.md", "--out", "out"] + (["--check"] if check else [])
    assert main(argv) == 1
    err = capsys.readouterr().err
    expected = {
        "missing": "missing.md: there is no such file",
        "folder": "folder.md: is a folder, not a lesson file (name the .md files in it)",
        "latin-1": "latin-1.md: is not UTF-8 text (byte 0xe9 on line 1); save it as UTF-8",
    }[bad]
    assert err.splitlines() == [expected, "1 problem(s); nothing was written."]
    assert not Path("out").exists()


def test_build_report_says_what_was_translated_kept_and_warned(
    capsys: pytest.CaptureFixture[str],
) -> None:
    page = "tests/unit/builder_cases/ok/concepts-page.md"
    assert main(["build", page, "--report", "--check", "--out", "lessons"]) == 1  # not built
    out = capsys.readouterr().out
    assert out.splitlines()[:3] == [
        f"{page} -> lessons/concepts-page.ipynb (1 step(s))",
        "  translated:",
        "    front matter (title, description, keywords): 1 (line 1)",
    ]
    assert "    tab set: 1 (line 24)" in out
    assert "  kept:\n    table: 1 (line 14)\n    code block: 3 (line 27, 34, 43)" in out
    assert f"  warned: 4\n    {page}:12: link /reference/dockerfile/ is a path" in out
