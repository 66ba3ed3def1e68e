"""Where lessons are: ``content/`` in the current folder, then the lessons packaged with
dockdojo."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from ..errors import DockdojoError


def content_dirs() -> list[Path]:
    """Where lessons are looked up by name: ./content, then the installed lessons."""
    dirs = [Path.cwd() / "content"]
    try:
        packaged = Path(str(resources.files("dockdojo.content")))
        dirs.append(packaged)
    except (ModuleNotFoundError, TypeError):
        pass
    return [d for d in dirs if d.is_dir()]


def find_lesson(ref: str | Path) -> Path:
    """A lesson source from a name (``what-is-an-image``) or a path."""
    path = Path(ref)
    if path.suffix == ".md" or path.exists() or os.sep in str(ref):
        if not path.is_file():
            raise DockdojoError(f"There is no lesson file {path}.", "Check the path.")
        return path
    for folder in content_dirs():
        candidate = folder / f"{ref}.md"
        if candidate.is_file():
            return candidate
    known = sorted({p.stem for d in content_dirs() for p in lesson_sources(d)})
    raise DockdojoError(
        f"There is no lesson named {ref!r}.", f"Known lessons: {', '.join(known) or 'none'}."
    )


def shown_path(path: Path) -> str:
    """``path`` as messages show it: relative to the current folder when inside it."""
    cwd = os.path.realpath(Path.cwd())
    for full in (os.path.abspath(path), os.path.realpath(path)):  # a link named as given
        try:
            return str(Path(full).relative_to(cwd))
        except ValueError:
            continue
    return str(path)


def lesson_id(path: Path) -> str:
    """The lesson id (and notebook name) of a source: its file name without ``.md``, or
    for a section page (``_index.md``, ``index.md``) the name of its folder."""
    if path.stem in ("_index", "index"):
        return Path(os.path.realpath(path)).parent.name
    return path.stem


def real(path: Path) -> Path:
    """Where ``path`` really is, every link followed; a loop of links gives the path as
    far as it resolves instead of an error (what reads the file says what is wrong)."""
    return Path(os.path.realpath(path))


def lesson_sources(folder: Path) -> list[Path]:
    """The lesson files of a content folder (``_includes`` and READMEs are not lessons)."""
    return sorted(
        p
        for p in folder.glob("*.md")
        if not p.name.startswith(("_", ".")) and p.stem.lower() != "readme"
    )


__all__ = ["content_dirs", "find_lesson", "lesson_id", "lesson_sources", "real", "shown_path"]
