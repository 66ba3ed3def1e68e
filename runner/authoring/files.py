"""A lesson's own files (a sample app it builds), kept beside its notebook.

A lesson ``content/LESSON.md`` may have a folder ``content/LESSON/`` of files its steps
use (the multi-container lesson's ``nginx-node-redis`` app). Wherever its notebook is
written, the folder goes beside it, so the learner has it in JupyterLab (and in a
terminal opened there): ``dockdojo build`` writes it into ``lessons/`` (``--check``
says when it differs), and a learner's workspace gets it with the notebooks, where a
file the learner has already is never overwritten. The actions find the folder with
:func:`~dockdojo.runner.kinds.projects.lesson_path`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

_SKIPPED = ("__pycache__", ".ipynb_checkpoints", "node_modules")


def lesson_files(sources: Iterable[Path]) -> dict[str, Path]:
    """The files of the lessons ``sources``, by their path relative to the notebooks'
    folder (``LESSON/app/Dockerfile``); links are skipped, never followed."""
    found: dict[str, Path] = {}
    for source in sources:
        folder = source.parent / source.stem
        if not folder.is_dir() or folder.is_symlink():
            continue
        for root, dirs, names in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d not in _SKIPPED)
            for name in sorted(names):
                path = Path(root) / name
                if path.is_file() and not path.is_symlink():
                    found[path.relative_to(source.parent).as_posix()] = path
    return found


def place_files(files: dict[str, Path], out_dir: Path, *, replace: bool) -> list[str]:
    """Copy ``files`` into ``out_dir``: every one (``replace``, what ``dockdojo build``
    does), or only those missing (a learner's workspace); the names written."""
    written = []
    for name, source in files.items():
        target = out_dir / name
        data = source.read_bytes()
        if target.exists() and (not replace or target.read_bytes() == data):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(data)
            tmp.chmod(source.stat().st_mode & 0o777)
            tmp.replace(target)
        finally:
            tmp.unlink(missing_ok=True)
        written.append(name)
    return written


def stale_files(files: dict[str, Path], out_dir: Path) -> list[str]:
    """What differs between ``out_dir`` and the lessons' files, one sentence each."""
    problems = []
    for name, source in files.items():
        target = out_dir / name
        if not target.is_file():
            problems.append(f"{target} is missing (a file of its lesson)")
        elif target.read_bytes() != source.read_bytes():
            problems.append(f"{target} is stale (its lesson's file changed)")
    return problems


__all__ = ["lesson_files", "place_files", "stale_files"]
