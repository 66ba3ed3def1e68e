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
