"""A batch of submissions: each read once before any runs, then each put through the
:data:`~dockdojo.runner.grading.stages.STAGES`, ``jobs`` at a time, then the batch's own
reports (``junit.xml``, ``gradebook.csv``) written once, after the last."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import DockdojoError
from ..room.pyenv import prepare
from ..text import escaped
from .isolation import Pool
from .options import GradeOptions
from .reports import SubmissionResult, check_names, private_folder, write_batch
from .stages import STAGES, Hook, Stage, Submission, learner_of, run_stages
from .submissions import read_submission


@dataclass(frozen=True)
class Batch:
    """What grading a batch gave."""

    results: list[SubmissionResult]
    """One per submission, in the order they were given."""
    written: list[Path]
    """The report files written (none when ``out`` is None), each once."""


def grade_batch(
    paths: Sequence[Path],
    options: GradeOptions,
    *,
    stages: Sequence[Stage] = STAGES,
    on_stage_start: Hook | None = None,
    on_stage_end: Hook | None = None,
) -> Batch:
    """Grade every submission through ``stages``, ``options.jobs`` at a time.

    Each submission is graded from its private copy, read before any submission runs, so
    what one submission does to another's file once it runs changes nothing. The hooks
    are called one at a time, whichever thread the stage ran in. Raises
    :class:`DockdojoError`, before anything runs, when two submissions belong to one
    learner or a setting cannot work.
    """
    learners = [learner_of(p) for p in paths]
    if options.out is not None:
        try:
            check_names(learners)
        except ValueError as exc:
            raise DockdojoError(f"{exc}.", "Give each learner's notebook a distinct name.") from exc
    duplicates = {name for name in learners if learners.count(name) > 1}
    if duplicates:
        raise DockdojoError(
            f"Two submissions belong to the same learner: {', '.join(sorted(duplicates))}.",
            "Give each learner's notebook their own file name (the learner id).",
        )
    options.check()
    copies = private_copies(paths)
    # the folders the submissions are in, not a link's target's (a link to /etc/shadow
    # would hide /etc from every kernel)
    hide = (*options.hide, *{p.parent.resolve() for p in paths})
    if options.out is not None:
        _private_out(options.out)  # hidden from the kernels, closed to their containers
        hide = (*hide, options.out.resolve())
    jobs = max(1, min(options.jobs, len(paths)))
    options = replace(options, hide=hide, jobs=jobs)
    lock = threading.Lock()

    def hook(chosen: Hook | None) -> Hook | None:
        if chosen is None:
            return None

        def one_at_a_time(stage: Stage, sub: Submission) -> None:
            with lock:
                chosen(stage, sub)

        return one_at_a_time

    with _pool(options, len(paths)) as pool:

        def one(path: Path) -> Submission:
            sub = Submission(path, copies[path], options, pool)
            run_stages(
                sub, stages, on_stage_start=hook(on_stage_start), on_stage_end=hook(on_stage_end)
            )
            return sub

        with ThreadPoolExecutor(max_workers=jobs) as workers:
            done = list(workers.map(one, paths))
    results = [sub.result for sub in done if sub.result is not None]
    written = [path for sub in done for path in sub.written]
    if options.out is not None:
        written += write_batch(results, options.out)
    return Batch(results, written)


def grade_all(
    paths: Sequence[Path],
    options: GradeOptions,
    *,
    on_stage_start: Hook | None = None,
    on_stage_end: Hook | None = None,
) -> list[SubmissionResult]:
    """Every submission's result, in the order of ``paths`` (:func:`grade_batch`)."""
    batch = grade_batch(paths, options, on_stage_start=on_stage_start, on_stage_end=on_stage_end)
    return batch.results


def _private_out(out: Path) -> None:
    """Make the reports folder before anything runs, readable by the grader's user only
    (root, when submissions run isolated): the reports hold the lesson's solutions."""
    try:
        private_folder(out)
    except OSError as exc:
        raise DockdojoError(
            f"The reports folder {escaped(str(out))} cannot be made private to you: "
            f"{exc.strerror or exc}.",
            "Give --out a folder of your own (or one that does not exist yet).",
        ) from exc


@contextlib.contextmanager
def _pool(options: GradeOptions, count: int) -> Iterator[Pool | None]:
    """The pool for ``count`` submissions: a user per job, and as many again (while
    there are submissions for them) whose boxes are opened while others run."""
    if options.trusted:
        yield None
        return
    kernel = prepare(options.kernel_env)
    spares = max(0, min(options.jobs, count - options.jobs))
    hide = (*options.hide, options.room.state)
    ahead = (options.lesson.id, options.limits)
    with Pool(
        options.room, options.jobs, kernel, hide, ahead=ahead, count=count, spares=spares
    ) as pool:
        yield pool


def private_copies(paths: Sequence[Path]) -> dict[Path, bytes | OSError]:
    """Every submission's bytes, read once before any runs (or why it could not be: a
    link, a FIFO, a device or a folder is not read, see :func:`read_submission`)."""
    copies: dict[Path, bytes | OSError] = {}
    for path in paths:
        try:
            copies[path] = read_submission(path)
        except OSError as exc:
            copies[path] = exc
    return copies


__all__ = ["Batch", "grade_all", "grade_batch", "private_copies"]
