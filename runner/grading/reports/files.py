"""The reports written to files: each atomically, named by a safe form of the learner's
id, into a folder only the grader's user may open (:func:`private_folder`)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from .feedback import feedback_notebook
from .gradebook import gradebook_csv
from .gradescope import gradescope_json
from .junit import junit_xml
from .record import to_json
from .result import SubmissionResult

_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
)
RECORD = ".json"
"""A submission's ``dockdojo.grade/v1`` record: ``NAME.json``."""
FEEDBACK = ".feedback.ipynb"
"""Its feedback notebook: ``NAME.feedback.ipynb``."""
GRADESCOPE = ".results.json"
"""Its Gradescope ``results.json``: ``NAME.results.json``."""
JUNIT = "junit.xml"
"""The batch's JUnit XML."""
GRADEBOOK = "gradebook.csv"
"""The batch's gradebook."""
_OWN = (RECORD, FEEDBACK, GRADESCOPE)
_ENDINGS = tuple(sorted({b[: -len(a)] for a in _OWN for b in _OWN if b != a and b.endswith(a)}))
"""Ends a name may not have: ``bob.results`` + ``.json`` is ``bob`` + ``.results.json``."""
_STEMS = frozenset(b[: -len(a)] for a in _OWN for b in (JUNIT, GRADEBOOK) if b.endswith(a))
"""Names that with one of a submission's suffixes would be a batch's file."""


def safe_name(learner: str) -> str:
    """A file name stem for ``learner``: ``[a-z0-9._-]``, at most 64 characters.

    An id already of that form is used as it is; any other gets a hash of the id
    appended, so two learners whose ids differ only in odd characters or case do not
    share files. So does an id that, with one report's suffix, would name another
    learner's report or the batch's (``bob.results``: its ``.json`` would be ``bob``'s
    Gradescope file), so that no two reports share a file whatever the ids are.
    """
    ascii_text = unicodedata.normalize("NFKD", learner).encode("ascii", "ignore").decode()
    stem = re.sub(r"[^a-z0-9._-]+", "-", ascii_text.lower()).strip("._-")[:55]
    if (
        stem != learner
        or stem.split(".")[0] in _WINDOWS_RESERVED
        or stem.endswith(_ENDINGS)
        or stem in _STEMS
    ):
        digest = hashlib.sha256(learner.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        stem = f"{stem or 'learner'}-{digest}"
    return stem


def write_all(
    results: Sequence[SubmissionResult], out_dir: Path, submissions: Mapping[str, NotebookNode]
) -> list[Path]:
    """Write every report into ``out_dir``; the paths written, in order.

    Per submission, named by :func:`safe_name` of the learner: ``NAME.json``
    (``dockdojo.grade/v1``), ``NAME.feedback.ipynb`` (when ``submissions`` holds the
    notebook, keyed by the result's submission path or else its learner id) and
    ``NAME.results.json`` (Gradescope); for the batch, ``junit.xml`` and
    ``gradebook.csv``. Each file is written to a temporary file beside it, then renamed
    over it; the folder is made private first (:func:`private_folder`). Raises
    ValueError, before writing anything, when two results would share files.
    """
    check_names([r.learner for r in results])
    private_folder(out_dir)
    written = []
    for result in results:
        written += write_one(result, out_dir, submissions)
    return written + write_batch(results, out_dir)


def write_batch(results: Sequence[SubmissionResult], out_dir: Path) -> list[Path]:
    """The batch's own reports, ``junit.xml`` and ``gradebook.csv``, once every result is
    in (each submission's own were written by :func:`write_one` as it was graded)."""
    _folder(out_dir)
    return [
        _write(out_dir / JUNIT, junit_xml(results)),
        _write(out_dir / GRADEBOOK, gradebook_csv(results)),
    ]


def check_names(learners: Sequence[str]) -> None:
    """Raise ValueError when two learners' reports would share files."""
    seen: dict[str, str] = {}
    for learner in learners:
        name = safe_name(learner)
        if name in seen:
            raise ValueError(
                f"learners {seen[name]!r} and {learner!r} would both be "
                f"written to {name}{RECORD}; grade them in separate folders"
            )
        seen[name] = learner


def write_one(
    result: SubmissionResult, out_dir: Path, submissions: Mapping[str, NotebookNode]
) -> list[Path]:
    """One submission's own reports (as :func:`write_all` names them), written as soon as
    it is graded, so that a grader stopped halfway keeps what it finished."""
    _folder(out_dir)
    name = safe_name(result.learner)
    written = [_write(out_dir / f"{name}{RECORD}", _json(to_json(result)))]
    notebook = submissions.get(result.submission, submissions.get(result.learner))
    if notebook is not None:
        text: str = nbformat.writes(feedback_notebook(notebook, result))
        written.append(_write(out_dir / f"{name}{FEEDBACK}", text + "\n"))
    written.append(_write(out_dir / f"{name}{GRADESCOPE}", _json(gradescope_json(result))))
    return written


def private_folder(out_dir: Path) -> None:
    """Make ``out_dir`` (and its missing parents) and close it to everyone but its owner
    and root: the folder ``0700``, and every file or folder directly in it (reports of an
    earlier batch, say) stripped of its group's and others' permissions, so that no other
    user (a learner, or a submission's containers) reads a report, with its solutions.
    The reports are written ``0600`` (by :func:`write_one` and :func:`write_batch`).
    Links in it are not followed. Raises OSError when the folder cannot be made private
    (it belongs to someone else, and the grader is not root).
    """
    folder = _folder(out_dir)
    with os.scandir(folder) as entries:
        names = [entry.name for entry in entries]
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for name in names:
            _close_entry(fd, name)
    finally:
        os.close(fd)


def _folder(out_dir: Path) -> Path:
    """``out_dir``, made if missing, its mode ``0700`` (an existing one's is fixed)."""
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    out_dir.chmod(0o700)
    return out_dir


def _close_entry(folder_fd: int, name: str) -> None:
    """Strip group and other permissions from the file or folder ``name`` in the folder
    open as ``folder_fd``; links, FIFOs, sockets and devices are left (the folder is
    closed around them), and an entry gone meanwhile is fine."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        if not _regular_or_folder(os.lstat(name, dir_fd=folder_fd).st_mode):
            return
        fd = os.open(name, flags, dir_fd=folder_fd)
    except (FileNotFoundError, PermissionError):  # gone, or a folder closed to root itself
        return
    try:
        mode = os.fstat(fd).st_mode
        if _regular_or_folder(mode) and stat.S_IMODE(mode) & 0o077:
            os.fchmod(fd, stat.S_IMODE(mode) & ~0o077)
    finally:
        os.close(fd)


def _regular_or_folder(mode: int) -> bool:
    return stat.S_ISREG(mode) or stat.S_ISDIR(mode)


def _json(data: Mapping[str, Any]) -> str:
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False)
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (say, from a file name): escape it
        text = json.dumps(data, indent=2)
    return text + "\n"


def _write(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` by renaming a temporary file,
    readable by its owner only (``0600``)."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path
