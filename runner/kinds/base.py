"""What an action kind and a check kind are, and what a check is handed when it runs.

Every kind is one entry of an ordered table (:data:`~dockdojo.runner.kinds.ACTIONS`,
:data:`~dockdojo.runner.kinds.CHECKS`), in the manner of markdown-it-py's rule tables:
its name, what it is for, its arguments, and what it does. Everything else (the
parser's validation, ``dockdojo run``'s plan, the notebook's widget, the README's
lists) reads the entry.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import requests
from docker.errors import DockerException

from ..authoring.declarations import Param, Schema
from ..authoring.model import CheckSpec, Lesson, Step
from ..engine import Engine, Snapshot, TrustedImages
from ..errors import DockdojoError
from .report import CheckResult

DEFAULT_TIMEOUT = 10.0
"""Seconds one check may take before it fails as too slow."""

ENGINE_FAILURES = (
    DockdojoError,
    DockerException,
    requests.RequestException,
    OSError,
    http.client.HTTPException,
)
"""What a failing engine, container or HTTP call may raise; kinds report these, never
let them escape."""

T = TypeVar("T")


class Seen(NamedTuple):
    """What one check saw, before points and timing are added."""

    passed: bool
    """Whether the check passes."""
    message: str
    """What was seen, as a sentence for the learner."""
    evidence: dict[str, Any]
    """The facts behind the message (ids, ports, output), for reports and graders."""


@dataclass
class Context:
    """What the checks of one run share."""

    engine: Engine
    """The engine the checks read."""
    lesson: Lesson
    """The lesson being checked (``step_done`` looks up other steps in it)."""
    snapshot: Snapshot
    """Images and containers, read once for the whole run."""
    timeout: float
    """Seconds each check may take."""
    evaluate: Callable[[Call], CheckResult]
    """Runs one check to its result (how ``step_done`` reaches the checks it depends on)."""
    results: dict[int, CheckResult] = field(default_factory=dict)
    """Results so far, by ``id()`` of their CheckSpec, shared with ``step_done``."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    """Guards :attr:`results` across worker threads."""
    images: TrustedImages = field(default_factory=TrustedImages)
    """Which manifests count as the lesson's images (the ``images`` of the learner's
    :class:`~dockdojo.runner.context.LearnerContext`)."""
    folder: Path | None = None
    """The notebook's folder, where files beside it are read; None where the checks run
    away from it (the grader, the instructor's view): see :mod:`.checks.files`."""


@dataclass
class Call:
    """One check being evaluated in a worker thread: what its function is handed."""

    ctx: Context
    """What the run shares."""
    step: Step
    """The step the check belongs to."""
    spec: CheckSpec
    """The check as declared."""
    deadline: float = 0.0
    """``time.monotonic()`` by which the check must end."""
    visiting: tuple[str, ...] = ()
    """Steps whose checks ``step_done`` is expanding, so a loop ends."""

    @property
    def args(self) -> Mapping[str, Any]:
        """The check's declared arguments."""
        return self.spec.args

    def left(self) -> float:
        """Seconds left for this check (at least a little, so calls can fail cleanly)."""
        return round(max(0.5, self.deadline - time.monotonic()), 1)

    def result_of(self, step: Step, spec: CheckSpec, chain: tuple[str, ...]) -> CheckResult:
        """The result of another check (of ``step``), computed once per run.

        ``chain`` lists the steps whose checks are being expanded, so loops end.
        """
        if spec.kind == "step_done":
            return self.ctx.evaluate(Call(self.ctx, step, spec, self.deadline, chain))
        with self.ctx.lock:
            known = self.ctx.results.get(id(spec))
        if known is None:
            known = self.ctx.evaluate(Call(self.ctx, step, spec, self.deadline))
            with self.ctx.lock:
                self.ctx.results[id(spec)] = known
        return known


Checker = Callable[[Call], Seen]
"""A check kind's function: what it sees on the engine."""
Performer = Callable[[Engine, Lesson, Step, Mapping[str, Any]], str]
"""An action kind's function: do it on the engine; say what was done, as a sentence."""
Describer = Callable[[Mapping[str, Any]], str]
"""An action kind's plan line: what it would do, in a few words."""


@dataclass(frozen=True)
class CheckKind:
    """One kind of check: its name, what it checks, its arguments, its function."""

    name: str
    """Its name in declarations (``check: NAME``)."""
    summary: str
    """What it checks, for lesson authors."""
    check: Checker
    """Reads the engine (through the :class:`Call`) and says what it saw."""
    params: tuple[Param, ...] = ()
    """Its arguments."""
    one_of: tuple[tuple[str, ...], ...] = ()
    """Groups of which at least one argument must be given (e.g. ``image`` or ``name``)."""
    costly: bool = False
    """Whether it takes seconds (it starts a program such as mongosh): a live view
    marks its result "changed since checked" instead of running it at every change."""

    @property
    def schema(self) -> Schema:
        """Its arguments as the lesson parser validates them."""
        return Schema(self.name, self.summary, self.params, self.one_of)


@dataclass(frozen=True)
class ActionKind:
    """One kind of action: its name, its arguments, what it does and which widget shows it."""

    name: str
    """Its name in declarations (``action: NAME``, or a ``solve:`` item's key)."""
    summary: str
    """What it does, for lesson authors."""
    perform: Performer
    """Does it on the engine, as ``run --solve`` and a learner's click would."""
    describe: Describer
    """What it would do, for ``dockdojo run``'s plan."""
    widget: str
    """Name of the notebook widget that offers it (``dockdojo.widgets.WIDGETS``)."""
    params: tuple[Param, ...] = ()
    """Its arguments."""
    one_of: tuple[tuple[str, ...], ...] = ()
    """Groups of which at least one argument must be given."""

    @property
    def schema(self) -> Schema:
        """Its arguments as the lesson parser validates them."""
        return Schema(self.name, self.summary, self.params, self.one_of)


K = TypeVar("K", CheckKind, ActionKind)


def table(kinds: Iterable[K]) -> dict[str, K]:
    """An ordered table of kinds by name; a name given twice is a mistake."""
    out: dict[str, K] = {}
    for kind in kinds:
        if kind.name in out:
            raise ValueError(f"kind {kind.name!r} is registered twice")
        out[kind.name] = kind
    return out


class Schemas(Mapping[str, Schema]):
    """The schemas of a table of kinds, read through to the table (so a kind added to it
    is known to the parser at once)."""

    def __init__(self, kinds: Mapping[str, CheckKind] | Mapping[str, ActionKind]) -> None:
        self._kinds = kinds

    def __getitem__(self, name: str) -> Schema:
        return self._kinds[name].schema

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)


class TimedOut:
    """A worker that was still busy when its time was up."""


def bounded(
    engine: Engine, jobs: Sequence[Callable[[], T]], timeout: float
) -> list[T | BaseException | TimedOut]:
    """Run ``jobs`` at once, one daemon thread each; wait at most ``timeout`` for each.

    A worker closes its own SDK clients when it ends (the engine keeps one per thread).
    A worker that overruns is left to finish on its own and its result is dropped: a
    thread cannot be stopped, and a command read from ``docker exec`` has no time limit
    of its own in the SDK.
    """
    slots: list[T | BaseException | TimedOut] = [TimedOut() for _ in jobs]

    def work(index: int, job: Callable[[], T]) -> None:
        try:
            slots[index] = job()
        except BaseException as exc:  # handed to the caller, which re-raises or reports it
            slots[index] = exc
        finally:
            engine.close()

    threads = [
        threading.Thread(target=work, args=(i, job), daemon=True, name=f"dockdojo-check-{i}")
        for i, job in enumerate(jobs)
    ]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return list(slots)


def as_error(outcome: object, slow: str) -> DockdojoError:
    """A worker's failed outcome as a :class:`DockdojoError` (a bug is raised as it is)."""
    if isinstance(outcome, DockdojoError):
        return outcome
    if isinstance(outcome, TimedOut):
        return DockdojoError(slow, "The engine may be busy or stuck; try again, or restart Docker.")
    if isinstance(outcome, ENGINE_FAILURES):
        return DockdojoError(
            f"The engine could not be read ({outcome}).",
            "Check that Docker is running, then try again.",
        )
    raise outcome if isinstance(outcome, BaseException) else TypeError(outcome)
