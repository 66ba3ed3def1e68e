"""A dress rehearsal for ``dockdojo doctor --room``: one lesson solved end to end on a
throwaway learner's engine, as a learner's first minutes would go.

A Unix user ``dd-rehearsal-<hex>`` is made, given an engine of the room (its mirror, its
limits), the lesson is solved and checked on it, and then, whatever happened, the engine
is discarded with its data root and folder and the user removed: nothing of it is left in
the room (its engine's log is kept as ``STATE/rehearsal-engine.log``).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..context import context_for
from ..errors import DockdojoError, HostError
from ..kinds import solve_lesson
from ..lessons import load_lesson
from ..privileged import firewall
from ..privileged.users import UserName, remove
from ..text import plural
from .config import RoomConfig
from .engines import LearnerEngine


def kept_log(config: RoomConfig) -> Path:
    """Where the last rehearsal's engine log is kept (its engine's folder is deleted)."""
    return config.state / "rehearsal-engine.log"


@dataclass(frozen=True)
class Rehearsal:
    """How the rehearsal went."""

    passed: bool
    """Whether every step was solved and its checks passed."""
    detail: str
    """What happened, in a sentence."""
    seconds: float
    """From creating the learner to the lesson checked."""


def rehearse(config: RoomConfig, lesson_id: str = "what-is-an-image") -> Rehearsal:
    """Solve ``lesson_id`` on a new, throwaway learner's engine; never raises for what the
    room lacks: that is the rehearsal's finding."""
    started = time.monotonic()
    name = UserName.rehearsal()
    engine = LearnerEngine(name, config)
    try:
        status = engine.start(create_user=True)
        host_ip = firewall.address(status.uid or 0)  # the learner's own, as the widgets use
        with context_for(
            load_lesson(lesson_id), name, status.verified_host, host_ip=host_ip
        ) as learner:
            report = solve_lesson(learner.engine, learner.lesson)
    except DockdojoError as exc:
        return Rehearsal(False, f"the rehearsal stopped: {exc.what}", time.monotonic() - started)
    finally:
        with contextlib.suppress(DockdojoError):
            engine.discard()  # its images and containers matter to nobody
        with contextlib.suppress(OSError):
            shutil.copyfile(engine.log, kept_log(config))
        shutil.rmtree(engine.folder, ignore_errors=True)
        with contextlib.suppress(HostError):  # what is left is named by the next doctor
            remove(name)
    took = time.monotonic() - started
    if report.passed:
        return Rehearsal(
            True,
            f"{lesson_id} solved on a new learner's engine: "
            f"{plural(report.steps_total, 'step')} passed in {took:.0f} s",
            took,
        )
    failed = [s for s in report.steps if not s.passed]
    first = failed[0]
    why = (
        first.errors[0]
        if first.errors
        else next((r.message for r in first.results if not r.passed), "it failed")
    )
    return Rehearsal(
        False,
        f"{lesson_id} on a new learner's engine: "
        f"{plural(len(failed), 'step')} failed, first {first.step}: {why}",
        took,
    )


__all__ = ["Rehearsal", "kept_log", "rehearse"]
