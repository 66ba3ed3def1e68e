"""Building a set of lessons: every source parsed, every notebook planned, nothing
written until all are sound; and which notebooks on disk are stale."""

from __future__ import annotations

from pathlib import Path

from ..errors import LessonError, Problem
from .declarations import KindTable
from .model import Lesson
from .notebook import render
from .parse import parse_lesson


def build(sources: list[Path], out_dir: Path, kinds: KindTable) -> dict[Path, tuple[Lesson, str]]:
    """Every lesson's notebook text, keyed by target path; raises before anything is written.

    All sources are parsed first; one :class:`LessonError` lists the problems of all.
    """
    names = frozenset(p.stem for p in sources)
    found: list[Problem] = []
    out: dict[Path, tuple[Lesson, str]] = {}
    for path in sources:
        try:
            lesson = parse_lesson(path, kinds, lessons=names)
        except LessonError as exc:
            found += exc.problems
            continue
        out[out_dir / f"{lesson.id}.ipynb"] = (lesson, render(lesson, _relative(path)))
    if found:
        raise LessonError(found)
    return out


def stale(planned: dict[Path, tuple[Lesson, str]], out_dir: Path) -> list[str]:
    """What differs between ``out_dir`` and the planned notebooks, one sentence each."""
    problems = []
    for target, (_, text) in planned.items():
        if not target.exists():
            problems.append(f"{target} is missing")
        elif target.read_text(encoding="utf-8") != text:
            problems.append(f"{target} is stale (its lesson source changed)")
    for orphan in sorted(set(out_dir.glob("*.ipynb")) - set(planned)):
        problems.append(f"{orphan} has no lesson source")
    return problems


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.name
