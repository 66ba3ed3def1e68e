"""Lessons with every kind dockdojo knows: the authoring layer handed the kinds' table.

Authoring parses Markdown without knowing what the kinds do; this module is where the
two meet, so widgets, commands and the grader load a lesson in one call.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .authoring import Lesson, content_dirs, lesson_sources
from .authoring import parse_lesson as _parse
from .authoring.parse import load_lesson as _load
from .kinds import KINDS


def load_lesson(ref: str | Path) -> Lesson:
    """Find a lesson by name (``what-is-an-image``) or path and parse it.

    Raises :class:`~dockdojo.runner.errors.LessonError` listing every ``file:line``
    problem, or :class:`~dockdojo.runner.errors.DockdojoError` when there is no such lesson.
    """
    return _load(ref, KINDS)


def course() -> tuple[str, ...]:
    """The course's lessons, in order: those of the content folders in the order
    ``dockdojo.content.COURSE`` gives, then any other by name (the room's first lesson,
    where the hub opens JupyterLab, is the first of these)."""
    return in_course_order(p.stem for d in content_dirs() for p in lesson_sources(d))


def in_course_order(names: Iterable[str]) -> tuple[str, ...]:
    """Lesson names in the order ``dockdojo.content.COURSE`` gives, others after by name."""
    from dockdojo.content import COURSE

    found = set(names)
    return (*(n for n in COURSE if n in found), *sorted(found - set(COURSE)))


def parse_lesson(
    path: Path, *, lessons: frozenset[str] = frozenset(), text: str | None = None
) -> Lesson:
    """Parse the lesson source at ``path`` (or ``text``, reported as ``path``)."""
    return _parse(path, KINDS, lessons=lessons, text=text)


def build_lessons(
    sources: list[Path], out_dir: Path, *, docs_base: str | None = None
) -> dict[Path, tuple[Lesson, str]]:
    """Every lesson's notebook text by target path; raises before anything is written.
    ``docs_base`` (``https://docs.docker.com``) is where site paths in the guides go
    when a lesson's front matter names no ``docs_url``."""
    from .authoring.build import build  # only for the commands that write

    return build(sources, out_dir, KINDS, docs_base=docs_base)


__all__ = ["build_lessons", "course", "in_course_order", "load_lesson", "parse_lesson"]
