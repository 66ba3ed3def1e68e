"""What the instructor's view shows, found on the learners' engines themselves.

:class:`Watch` checks learners' engines with the lessons' own checks, each learner's
lesson as that learner sees it (their :class:`~dockdojo.runner.context.LearnerContext`,
``{learner_tag}`` filled in), in a few worker threads: at once when a learner asks
(a :class:`CheckRequest`, from their Check button), when their engine changes (its
events, followed by :class:`~.follow.Followers`), and every ``recheck_seconds`` for
everyone whose server runs. Nothing a learner sends is taken as a result: a request
names only a lesson, a step and whether they started it over, and concerns only its
sender.

Every change is kept in memory (what the grid shows), handed to subscribers as a
numbered event (the page's live stream), and written to the :class:`~.progress.ProgressStore`;
writes the database refuses are kept, in order, and written again every second until
it takes them.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..authoring import Lesson
from ..context import TrustedImages, context_for
from ..errors import DockdojoError
from ..kinds import check_lesson
from ..kinds.report import StepReport
from ..readiness import engine_findings
from .progress import Attempt, Batch, LearnerRow, ProgressStore, StepRow

log = logging.getLogger("dockdojo.instructor")

PASSIVE = ("change", "recheck")
"""Causes of a check the learner did not ask for (a queued request of theirs says more)."""
OWN_WINDOWS = 8
"""How many of a learner's last checks :meth:`Watch.ours` remembers."""
EngineOf = Callable[[str], "str | None"]
"""A learner's name -> their engine's ``DOCKER_HOST``, or None when it does not answer."""
DOCTOR_EVERY = 600.0
"""Seconds between two readiness checks (``doctor``) of one learner's engine."""
REQUEST_BURST = 10
REQUEST_WINDOW = 2.0
"""A learner may ask to be checked :data:`REQUEST_BURST` times in :data:`REQUEST_WINDOW`
seconds; more are refused (429). Requests that come while one is queued join it, so a
learner's engine is checked once at a time whatever they send."""


@dataclass(frozen=True)
class CheckRequest:
    """A request to check one learner now."""

    learner: str
    lesson: str | None = None
    steps: frozenset[str] = frozenset()
    """The steps whose Check the learner selected (they count as tried)."""
    cause: str = "look"
    """``look`` (the learner's Check, under the name the record has always kept),
    ``start over`` (their Start over), ``change`` (their engine changed: :mod:`.follow`)
    or ``recheck`` (the service's own round)."""
    reset: frozenset[str] = frozenset()
    """The steps the learner started over (they count as not tried again)."""


NOT_STARTED = "not started"
"""The engine state of a room's learner never seen yet (no server, no check)."""


class Watch:
    """The room as the instructor sees it: checked, remembered, streamed."""

    def __init__(
        self,
        lessons: Mapping[str, Lesson],
        store: ProgressStore,
        engine_of: EngineOf,
        *,
        stuck_minutes: int = 10,
        workers: int = 4,
        mirror_view: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.time,
        journal_of: Callable[[str], Path | bool] = lambda _name: True,
        salt: str | None = None,
        images_of: Callable[[Lesson], TrustedImages | None] = lambda _lesson: None,
        roster: Iterable[str] = (),
    ) -> None:
        if not lessons:
            raise DockdojoError("There are no lessons to watch.", "Reinstall dockdojo.")
        self.lessons = dict(lessons)
        self.store = store
        self.engine_of = engine_of
        self.journal_of = journal_of
        """A learner's name -> their engine's journal, as the room that started the engine
        knows it (the default, True, asks the engine where its journal is)."""
        self.salt = salt
        """The room's tag salt, with which learners' tags are made (None: the
        environment's, as :func:`~dockdojo.runner.context.learner_tag` finds it)."""
        self.images_of = images_of
        """A lesson -> which manifests count as its images (the room's mirror's digests,
        read at each check; the default, None: any pulled as the declared repository)."""
        self.stuck_minutes = stuck_minutes
        self.mirror_view = mirror_view
        self.clock = clock
        self.seq = 0
        """Number of the last event published (events are numbered from 1, no gaps)."""
        self.checks_run = 0
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._queue: collections.OrderedDict[str, CheckRequest] = collections.OrderedDict()
        self._busy: set[str] = set()
        self._requests: dict[str, collections.deque[float]] = {}
        self._doctor_at: dict[str, float] = {}
        self._windows: dict[str, collections.deque[tuple[float, float]]] = {}
        self._known_at: dict[str, float] = {}
        """When each learner's engine last answered a check (the marks are as of then)."""
        self._subscribers: list[Callable[[dict[str, Any]], None]] = []
        self._unsaved: list[Batch] = []
        self._rows: dict[tuple[str, str], dict[str, Any]] = {}
        self._summaries: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}
        self._save_lock = threading.Lock()  # one writer at a time keeps batches in order
        self._publish_lock = threading.Lock()
        self._stopping = False
        learners, steps = store.load()
        self.learners: dict[str, LearnerRow] = {row.name: row for row in learners}
        for name in roster:  # the room's learners, shown from the start
            self.learners.setdefault(name, LearnerRow(name, engine=NOT_STARTED))
        self.steps: dict[tuple[str, str, str], StepRow] = {
            (r.learner, r.lesson, r.step): r for r in steps
        }
        self._threads = [
            threading.Thread(target=self._work, name=f"watch-{n}", daemon=True)
            for n in range(workers)
        ]
        self._threads.append(threading.Thread(target=self._flush_loop, daemon=True))
        for thread in self._threads:
            thread.start()

    # requests -----------------------------------------------------------------------
    @property
    def default_lesson(self) -> str:
        return next(iter(self.lessons))

    def valid(self, lesson: object, step: object) -> tuple[str, str | None]:
        """``(lesson, step)`` checked against the lessons; raises :class:`ValueError`."""
        if not isinstance(lesson, str) or lesson not in self.lessons:
            raise ValueError("lesson: not a lesson of this room")
        if step is None:
            return lesson, None
        if not isinstance(step, str) or step not in {s.id for s in self.lessons[lesson].steps}:
            raise ValueError(f"step: not a step of {lesson}")
        return lesson, step

    def accept_request(self, learner: str) -> bool:
        """Whether ``learner`` may ask again now (:data:`REQUEST_BURST` per
        :data:`REQUEST_WINDOW`)."""
        now = time.monotonic()
        with self._lock:
            recent = self._requests.setdefault(learner, collections.deque())
            while recent and now - recent[0] >= REQUEST_WINDOW:
                recent.popleft()
            if len(recent) >= REQUEST_BURST:
                return False
            recent.append(now)
            return True

    def request(self, request: CheckRequest) -> None:
        """Queue a check of ``request.learner`` (merged with one already queued)."""
        with self._lock:
            queued = self._queue.pop(request.learner, None)
            if queued is not None:  # one check answers both, in the order they came
                keep = queued if request.cause in PASSIVE else request
                request = replace(
                    keep,
                    steps=(queued.steps - request.reset) | request.steps,
                    reset=(queued.reset - request.steps) | request.reset,
                )
            self._queue[request.learner] = request
            self._wake.notify()

    def recheck(self, active: Iterable[str]) -> None:
        """Queue a round: the learners whose servers run, and everyone whose engine ran."""
        with self._lock:
            names = dict.fromkeys(active)
            names.update(
                dict.fromkeys(n for n, r in self.learners.items() if r.engine == "running")
            )
        for name in names:
            self.request(CheckRequest(name, cause="recheck"))

    def ours(self, learner: str, at: float) -> bool:
        """Whether epoch second ``at`` falls within one of the view's own last checks of
        ``learner`` (their commands' events are not the learner's changes)."""
        with self._lock:
            windows = list(self._windows.get(learner, ()))
        return any(start <= at <= end for start, end in windows)

    def idle(self) -> bool:
        """Whether nothing is queued or being checked, and everything is stored."""
        with self._lock:
            return not self._queue and not self._busy and not self._unsaved

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=30)
        self._save()

    # subscribers --------------------------------------------------------------------
    def subscribe(self, callback: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call ``callback(event)`` on every change (from a worker thread); returns the
        function that ends the subscription."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _publish(self, learner: str) -> None:
        with self._publish_lock:  # subscribers get the events in their numbers' order
            with self._lock:
                self.seq += 1
                event = {"seq": self.seq, "learner": learner}
                subscribers = list(self._subscribers)
            for callback in subscribers:
                try:
                    callback(event)
                except Exception:  # a page that went away must not stop the watch
                    log.exception("a subscriber failed")

    # what the grid shows --------------------------------------------------------------
    def grid(self, lesson: str) -> dict[str, Any]:
        """The whole grid of ``lesson``: its steps, every learner's row, the summary."""
        with self._lock:
            names = sorted(self.learners)
            return {
                "seq": self.seq,
                "lesson": lesson,
                "title": self.lessons[lesson].title,
                "lessons": [{"id": k, "title": v.title} for k, v in self.lessons.items()],
                "steps": [{"id": s.id, "title": s.title} for s in self.lessons[lesson].steps],
                "stuck_minutes": self.stuck_minutes,
                "now": self.clock(),
                "learners": [self.row(name, lesson) for name in names],
                "summary": self.summary(lesson),
                "room": self.room(),
                "unsaved": sum(len(b.steps) + len(b.learners) for b in self._unsaved),
            }

    def room(self) -> dict[str, Any]:
        """Room-wide, for every lesson: who works on it now (the lesson their last
        request named), and how many of its steps each learner has done."""
        with self._lock:
            done: dict[tuple[str, str], int] = {}
            for (learner, lesson, _step), row in self.steps.items():
                if row.status in ("done", "undone"):
                    done[(learner, lesson)] = done.get((learner, lesson), 0) + 1
            return {
                "lessons": [
                    {"id": k, "title": v.title, "steps": len(v.steps)}
                    for k, v in self.lessons.items()
                ],
                "learners": [
                    {
                        "name": name,
                        "lesson": who.lesson,
                        "done": {k: done.get((name, k), 0) for k in self.lessons},
                    }
                    for name, who in sorted(self.learners.items())
                ],
            }

    def row(self, name: str, lesson: str) -> dict[str, Any]:
        """One learner's row of ``lesson``'s grid."""
        with self._lock:
            row = self._rows.get((name, lesson))
            if row is None:
                row = self._rows[(name, lesson)] = self._make_row(name, lesson)
        on_since = row["on_step_since"]
        minutes = (self.clock() - on_since) / 60 if on_since else 0.0
        return {
            **row,
            "minutes_on_step": round(minutes, 1),
            "stuck": bool(on_since and minutes >= self.stuck_minutes),
        }

    def _make_row(self, name: str, lesson: str) -> dict[str, Any]:
        """The row without what the clock changes (kept until the learner changes)."""
        who = self.learners.get(name) or LearnerRow(name)
        cells: dict[str, dict[str, Any]] = {}
        current, on_since = None, who.seen_at
        known = self._known_at.get(name, 0.0)
        for step in self.lessons[lesson].steps:
            found = self.steps.get((name, lesson, step.id))
            known = max(known, found.checked_at if found else 0.0)
            status = found.status if found else "not_tried"
            cells[step.id] = {
                "status": status,
                "message": found.message if found else "",
                "since": found.since if found else 0.0,
            }
            if current is None and status in ("done", "undone") and found:
                on_since = max(on_since, found.since)
            elif current is None:
                current = step.id
        return {
            "name": name,
            "engine": who.engine,
            "engine_message": who.engine_message,
            "ready": who.ready,
            "doctor": who.doctor,
            "lesson": who.lesson,
            "checked_at": who.checked_at,
            "known_at": known,
            "current": current,
            "on_step_since": on_since if current else 0.0,
            "done": sum(c["status"] in ("done", "undone") for c in cells.values()),
            "steps": cells,
        }

    def summary(self, lesson: str) -> dict[str, Any]:
        """Counts, who is stuck, and the check that fails for the most learners (made
        once per change and per 5 s, however many pages ask)."""
        key = (self.seq, int(self.clock() // 5))
        with self._lock:
            cached = self._summaries.get(lesson)
            if cached is not None and cached[0] == key:
                return cached[1]
            rows = [self.row(name, lesson) for name in self.learners]
        failing: collections.Counter[str] = collections.Counter()
        reasons: dict[str, collections.Counter[str]] = {}
        for row in rows:
            for step, cell in row["steps"].items():
                if cell["status"] == "failing":
                    failing[step] += 1
                    reasons.setdefault(step, collections.Counter())[cell["message"]] += 1
        worst = None
        if failing:
            step, count = failing.most_common(1)[0]
            title = next(s.title for s in self.lessons[lesson].steps if s.id == step)
            worst = {
                "step": step,
                "title": title,
                "learners": count,
                "reason": reasons[step].most_common(1)[0][0],
            }
        summary = {
            "learners": len(rows),
            "finished": sum(1 for r in rows if r["current"] is None),
            "stuck": sorted(r["name"] for r in rows if r["stuck"]),
            "engines_down": sorted(
                r["name"] for r in rows if r["engine"] in ("stopped", "unreachable")
            ),
            "most_failing": worst,
        }
        with self._lock:
            self._summaries[lesson] = (key, summary)
        return summary

    # the work -------------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._stopping and not any(n not in self._busy for n in self._queue):
                    self._wake.wait()
                if self._stopping:
                    return
                name = next(n for n in self._queue if n not in self._busy)
                request = self._queue.pop(name)
                self._busy.add(name)
                windows = self._windows.setdefault(name, collections.deque(maxlen=OWN_WINDOWS))
                windows.append((time.time(), float("inf")))
            try:
                self._check(request)
            except Exception:  # one learner's failure must not end the watch
                log.exception("checking %s failed", request.learner)
            finally:
                with self._lock:
                    windows[-1] = (windows[-1][0], time.time())
                    self._busy.discard(name)
                    self._wake.notify_all()

    def _check(self, request: CheckRequest) -> None:
        now = self.clock()
        with self._lock:
            who = replace(
                self.learners.get(request.learner) or LearnerRow(request.learner, seen_at=now)
            )
        lesson = self.lessons[request.lesson or who.lesson or self.default_lesson]
        who.lesson = lesson.id
        who.checked_at = now
        host = self.engine_of(request.learner)
        batch = Batch(learners=[who])
        if host is None:
            who.engine, who.engine_message = "stopped", "No engine answers for this learner."
            who.ready, who.doctor = None, ""  # asked again when the engine is back
            self._doctor_at.pop(request.learner, None)
        else:
            try:
                journal = self.journal_of(request.learner)
                images = self.images_of(lesson)
                with context_for(
                    lesson, request.learner, host, journal=journal, salt=self.salt, images=images
                ) as context:
                    engine = context.engine
                    report = check_lesson(engine, context.lesson, images=context.images)
                    if (
                        self.clock() - self._doctor_at.get(request.learner, -DOCTOR_EVERY)
                        >= DOCTOR_EVERY
                    ):
                        findings = engine_findings(engine, [lesson], mirror_view=self.mirror_view)
                        self._doctor_at[request.learner] = self.clock()
                        bad = [f for f in findings if not f.ok]
                        who.ready = not bad
                        who.doctor = "\n".join(f"{f.check}: {f.detail}" for f in bad)
                who.engine, who.engine_message = "running", ""
                self._known_at[who.name] = now
                batch.extend(self._steps(request, lesson, report.steps, now))
            except DockdojoError as exc:
                who.engine, who.engine_message = "unreachable", exc.what
        with self._lock:
            self.checks_run += 1
            self.learners[who.name] = who
            for row in batch.steps:
                self.steps[(row.learner, row.lesson, row.step)] = row
            for key in [k for k in self._rows if k[0] == who.name]:
                del self._rows[key]
            self._unsaved.append(batch)
        self._save()
        self._publish(who.name)

    def _steps(
        self, request: CheckRequest, lesson: Lesson, reports: Iterable[StepReport], now: float
    ) -> Batch:
        batch = Batch()
        for report in reports:
            with self._lock:
                old = self.steps.get((request.learner, lesson.id, report.step))
            asked = request.cause == "look" and report.step in request.steps
            reset = report.step in request.reset
            tried = bool(asked or (old and old.tried and not reset) or report.passed)
            if report.passed:
                undone = any("undone_by" in r.evidence for r in report.results)
                status = "undone" if undone else "done"
                message = next((r.message for r in report.results), "")
            else:
                status = "failing" if tried else "not_tried"
                message = next((r.message for r in report.results if not r.passed), "")
            changed = old is None or old.status != status
            if changed or old is None or (old.message, old.tried) != (message, tried):
                since = now if changed or old is None else old.since
                batch.steps.append(
                    StepRow(
                        request.learner,
                        lesson.id,
                        report.step,
                        status,
                        message,
                        since=since,
                        checked_at=now,
                        tried=tried,
                    )
                )
            if changed or asked or reset:  # a learner's Check is history, changed or not
                batch.attempts.append(
                    Attempt(
                        request.learner, lesson.id, report.step, status, message, request.cause, now
                    )
                )
        return batch

    # storage -------------------------------------------------------------------------
    def _save(self) -> bool:
        """Write what is unsaved, oldest first; False when the database refused."""
        with self._save_lock:
            with self._lock:
                pending, self._unsaved = self._unsaved, []
            while pending:
                try:
                    self.store.write(pending[0])
                except Exception as exc:  # kept, and written again later
                    log.warning("the database refused a write (%s); it is kept", exc)
                    with self._lock:
                        self._unsaved = pending + self._unsaved
                    return False
                pending.pop(0)
            return True

    def _flush_loop(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                self._wake.wait(1.0)
                waiting = bool(self._unsaved)
            if waiting:
                self._save()


__all__ = ["DOCTOR_EVERY", "REQUEST_BURST", "REQUEST_WINDOW", "CheckRequest", "EngineOf", "Watch"]
