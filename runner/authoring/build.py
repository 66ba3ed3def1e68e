"""Building a set of lessons: every source parsed, every notebook planned, nothing
written until all are sound; which notebooks on disk are stale; and what each page's
constructs became (:func:`report`)."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from ..errors import LessonError, Problem
from .declarations import KindTable
from .links import Catalog
from .model import Lesson
from .notebook import render
from .pages import add_navigation, fix_anchors
from .parse import parse_lesson
from .sources import real, shown_path


def build(
    sources: list[Path], out_dir: Path, kinds: KindTable, *, docs_base: str | None = None
) -> dict[Path, tuple[Lesson, str]]:
    """Every lesson's notebook text, keyed by target path; raises before anything is written.

    All sources are parsed first; one :class:`LessonError` lists the problems of all
    (a missing, unreadable or non-UTF-8 source is one, and so are two sources that would
    make the same notebook). Links between the sources open each other's notebooks; site
    paths go to ``docs_base`` when a lesson's front matter names no ``docs_url``.
    """
    sources = list(dict.fromkeys(sources))  # a file named twice is built once
    found: list[Problem] = []
    catalog = Catalog.of([p for p in sources if p.is_file()], docs_base)
    targets: dict[str, list[Path]] = defaultdict(list)
    for path in sources:
        if path.is_file() or not path.exists():
            targets[catalog.lesson_id(path)].append(path)
    for name, paths in targets.items():
        if len({os.path.realpath(p) for p in paths}) > 1:
            shown = " and ".join(shown_path(p) for p in paths)
            found += [
                Problem(
                    shown_path(p),
                    0,
                    f"{shown} would both become {out_dir / name}.ipynb; rename one of them",
                )
                for p in paths
            ]
    parsed: dict[str, Lesson] = {}
    for path in sources:
        try:
            lesson = parse_lesson(path, kinds, lessons=catalog)
        except LessonError as exc:
            found += exc.problems
            continue
        parsed[f"{lesson.id}.ipynb"] = lesson
    if found:
        raise LessonError(found)
    finished = fix_anchors(add_navigation(parsed))
    return {
        out_dir / name: (
            lesson,
            render(
                lesson, _relative(lesson.source), setup_reference(lesson, lesson.source, out_dir)
            ),
        )
        for name, lesson in finished.items()
    }


def setup_reference(lesson: Lesson, path: Path, out_dir: Path) -> str:
    """How the notebook's setup cell names its lesson: by name when the page is a lesson
    of a ``content/`` folder (found by name from the notebook, as packaged lessons are);
    otherwise by its path from the notebook's folder, where Jupyter runs the kernel."""
    if path.parent.name == "content" and path.stem == lesson.id:
        return lesson.id
    try:
        return Path(os.path.relpath(real(path), real(out_dir))).as_posix()
    except ValueError:  # another drive: only the absolute path reaches it
        return real(path).as_posix()


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


def report(lesson: Lesson, target: Path) -> list[str]:
    """What ``build --report`` prints for one page: what was translated (construct,
    count and lines), what was kept as the guide has it, and every warning."""
    lines = [f"{lesson.source} -> {target} ({len(lesson.steps)} step(s))"]
    for title, kept in (("translated", False), ("kept", True)):
        by_construct: dict[str, list[int]] = defaultdict(list)
        for item in lesson.translations:
            if item.kept == kept:
                by_construct[item.construct].append(item.line)
        if not by_construct:
            lines.append(f"  {title}: nothing")
            continue
        lines.append(f"  {title}:")
        for construct, at in by_construct.items():
            shown = ", ".join(str(n) for n in dict.fromkeys(at))
            lines.append(f"    {construct}: {len(at)} (line {shown})")
    lines.append(f"  warned: {len(lesson.warnings) or 'nothing'}")
    lines += [f"    {lesson.source}:{w.line}: {w.message}" for w in lesson.warnings]
    return lines


def _relative(path: Path) -> str:
    try:
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(Path.cwd())).as_posix()
    except ValueError:
        return path.name
