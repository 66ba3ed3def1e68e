"""A learner's own folder of lesson notebooks, built from the lessons packaged with dockdojo.

In a clone of the project, ``dockdojo lab`` opens ``lessons/`` (which ``dockdojo build``
writes from ``content/``). An installed dockdojo has no ``lessons/``: it ships the lesson
sources (``dockdojo.content``), and ``dockdojo lab`` opens a *workspace* instead
(``./dockdojo-lessons`` by default) that :func:`sync_workspace` fills:

- on first use every packaged lesson is built into it;
- a notebook that is missing is written (delete one to get a fresh copy);
- a notebook the learner has not changed is updated when its lesson changed;
- a notebook the learner changed is never overwritten; when a newer version of its
  lesson is packaged, the report says so;
- a lesson's own files (a sample app, :mod:`.authoring.files`) are written when missing,
  never over the learner's.

What dockdojo last wrote is recorded in the workspace, in ``.dockdojo/built.json``: the
sha256 of each notebook's text. A notebook whose text has another hash was changed by
the learner (or was not written by dockdojo), so it is left alone. Every file is written
to a temporary name first and then moved into place, so an interrupted run leaves whole
files only.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .authoring.files import lesson_files, place_files
from .authoring.sources import lesson_sources
from .errors import DockdojoError
from .text import few, plural

WORKSPACE = "dockdojo-lessons"
"""The workspace's folder name, in the current folder, when none is given."""
MANIFEST = Path(".dockdojo") / "built.json"
"""Where a workspace records what dockdojo wrote, relative to the workspace."""
MANIFEST_FORMAT = "dockdojo.workspace/v1"

_WRITE_HINT = "Run dockdojo lab in a folder you can write to, or choose one with --lessons DIR."


def in_clone(folder: Path) -> bool:
    """Whether ``folder`` is a clone of dockdojo: lesson sources in ``content/`` and a
    ``lessons/`` folder."""
    content = folder / "content"
    return content.is_dir() and bool(lesson_sources(content)) and (folder / "lessons").is_dir()


def default_workspace(cwd: Path) -> Path:
    """``cwd`` itself when it is a workspace already, else ``cwd/dockdojo-lessons``."""
    return cwd if (cwd / MANIFEST).is_file() else cwd / WORKSPACE


def packaged_content() -> Path:
    """The folder of lesson sources installed with dockdojo (``dockdojo.content``)."""
    try:
        folder: Path | None = Path(str(resources.files("dockdojo.content")))
    except (ModuleNotFoundError, TypeError):
        folder = None
    if folder is None or not folder.is_dir() or not lesson_sources(folder):
        raise DockdojoError(
            "The lessons packaged with dockdojo are missing from this installation.",
            "Reinstall it: pip install --force-reinstall 'dockdojo[lab]'",
        )
    return folder


@dataclass(frozen=True)
class WorkspaceReport:
    """What :func:`sync_workspace` did, by notebook file name."""

    folder: Path
    """The workspace."""
    lessons: tuple[str, ...]
    """Every packaged lesson's notebook."""
    added: tuple[str, ...]
    """Notebooks that were missing and were written."""
    updated: tuple[str, ...]
    """Notebooks the learner had not changed, rewritten because their lesson changed."""
    kept: tuple[str, ...]
    """Notebooks the learner changed, left alone although their lesson changed."""
    first: bool
    """Whether this was the workspace's first build."""

    def lines(self) -> list[str]:
        """What was done, for people: one line, then one line per notebook kept."""
        where = shown(self.folder)
        if self.first and len(self.added) == len(self.lessons):
            out = [f"built {plural(len(self.added), 'lesson')} into {where}"]
        elif self.added or self.updated:
            done = [
                f"{verb} {plural(len(names), 'lesson')} ({few(names)})"
                for verb, names in (("added", self.added), ("updated", self.updated))
                if names
            ]
            out = [f"{' and '.join(done)} in {where}"]
        else:
            out = [
                f"{where}: {plural(len(self.lessons), 'lesson')}, up to date"
                + (", except the ones you changed" if self.kept else "")
            ]
        out += [
            f"kept {name} in {where}: you changed it, so its newer version was not "
            "written (rename yours and run dockdojo lab again to get it)"
            for name in self.kept
        ]
        return out


def sync_workspace(folder: Path, content: Path | None = None) -> WorkspaceReport:
    """Build the lessons of ``content`` (default: the packaged ones) into ``folder``.

    Writes the notebooks that are missing and updates those the learner has not changed;
    never overwrites one the learner changed. Raises :class:`DockdojoError` when
    ``folder`` is a file or cannot be created or written, before any notebook is written.
    """
    content = packaged_content() if content is None else content
    planned = _plan(content)
    _prepare(folder)
    recorded, first = _read_manifest(folder / MANIFEST)
    before = dict(recorded)
    added: list[str] = []
    updated: list[str] = []
    kept: list[str] = []
    try:
        for name, text in planned.items():
            data = text.encode("utf-8")
            digest = _digest(data)
            target = folder / name
            if not target.exists():
                _write(target, data)
                added.append(name)
            else:
                current = _digest(target.read_bytes())
                if current != digest and current == recorded.get(name):
                    _write(target, data)
                    updated.append(name)
                elif current != digest:
                    # The learner's: left alone, and what dockdojo wrote stays recorded.
                    if recorded.get(name) != digest:
                        kept.append(name)  # ...although a newer version is packaged
                    continue
            recorded[name] = digest
        if recorded != before or first:
            _write_manifest(folder / MANIFEST, recorded)
        # the lessons' own files: the missing ones only (the learner's are theirs)
        place_files(lesson_files(lesson_sources(content.resolve())), folder, replace=False)
    except OSError as exc:
        raise DockdojoError(
            f"Cannot write the lessons into {shown(folder)}: {exc.strerror or exc}.", _WRITE_HINT
        ) from exc
    return WorkspaceReport(
        folder=folder,
        lessons=tuple(planned),
        added=tuple(added),
        updated=tuple(updated),
        kept=tuple(kept),
        first=first,
    )


def shown(folder: Path) -> str:
    """``folder`` as a learner would type it: ``./dockdojo-lessons``, ``.``, or absolute."""
    try:
        relative = folder.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return str(folder.resolve())
    return "." if relative == Path() else f"./{relative.as_posix()}"


def _plan(content: Path) -> dict[str, str]:
    """Each lesson's notebook text by file name."""
    from .lessons import build_lessons  # nbformat: only when notebooks are written

    sources = lesson_sources(content.resolve())
    # A notebook names its source relative to the current folder; from inside the content
    # folder that is the file name, so the text is the same wherever dockdojo lab runs.
    with contextlib.chdir(content.resolve()):
        planned = build_lessons(sources, Path())
    language = kernel_language()
    return {target.name: _with_language(text, language) for target, (_, text) in planned.items()}


def kernel_language() -> dict[str, Any] | None:
    """What this Python's kernel says of its language (ipykernel's ``language_info``), or
    None without ipykernel. JupyterLab writes it into a notebook when its kernel starts,
    and a notebook whose copy differs shows as modified right after opening; the
    workspace's notebooks are opened by a kernel of the Python that wrote them."""
    try:
        from ipykernel.ipkernel import IPythonKernel
    except ImportError:
        return None
    return dict(IPythonKernel.language_info)


def _with_language(text: str, language: dict[str, Any] | None) -> str:
    if language is None:
        return text
    import nbformat

    nb = nbformat.reads(text, as_version=4)
    nb.metadata["language_info"] = language
    return str(nbformat.writes(nb)) + "\n"


def _prepare(folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise DockdojoError(
            f"{shown(folder)} is a file, not a folder for lessons.",
            "Choose a folder with --lessons DIR (it is created when "
            "missing), or move the file away.",
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DockdojoError(
            f"Cannot create the lessons folder {shown(folder)}: {exc.strerror or exc}.", _WRITE_HINT
        ) from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DockdojoError(f"The lessons folder {shown(folder)} is not writable.", _WRITE_HINT)


def _read_manifest(path: Path) -> tuple[dict[str, str], bool]:
    """What dockdojo recorded, and whether there was no record yet. A record that cannot
    be read counts as empty: then no notebook is taken for dockdojo's, none is overwritten."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, True
    except (OSError, ValueError):
        return {}, False
    notebooks = data.get("notebooks") if isinstance(data, dict) else None
    if not isinstance(notebooks, dict):
        return {}, False
    return {str(k): str(v) for k, v in notebooks.items()}, False


def _write_manifest(path: Path, recorded: dict[str, str]) -> None:
    path.parent.mkdir(exist_ok=True)
    data = {"format": MANIFEST_FORMAT, "notebooks": dict(sorted(recorded.items()))}
    _write(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then move it into place."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


__all__ = [
    "MANIFEST",
    "WORKSPACE",
    "WorkspaceReport",
    "default_workspace",
    "in_clone",
    "packaged_content",
    "shown",
    "sync_workspace",
]
