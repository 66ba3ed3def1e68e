"""The instructor's view following each learner's engine, as the notebook's live model does.

Most progress in a lesson is made without a Check: a widget pulls or runs, the learner
types ``docker rm`` in a terminal or ``SET`` in ``redis-cli``. Each of those is an event
on the learner's engine. :class:`Followers` keeps one event stream open per learner (to
the engine the room started, as :data:`~.watch.EngineOf` finds it) and, within
:data:`SETTLE` seconds of a change, asks that the learner be checked again (a burst of
events is one request). It also notices an engine that stops (the stream ends: checked
at once, so the grid says "stopped") or starts (checked at once).

What counts as a change: any container, image, volume or network event but ``top`` and
the exec events, except an exec that ended (``exec_die``: a command typed in a console
may change what a check reads inside a container) outside the view's own checks of that
learner (``ours``: the checks' own commands would otherwise ask for checks forever).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from ..engine.facade import Engine
from ..engine.live import STREAM_TIMEOUT, WATCHED

log = logging.getLogger("dockdojo.instructor")

SETTLE = 0.15
"""Seconds gathered after an event before asking (one request per burst)."""
RETRY = 2.0
"""Seconds between two looks for an engine that is not there (or whose stream broke)."""


def is_change(event: dict[str, Any], ours: Callable[[float], bool]) -> bool:
    """Whether ``event`` may change what a check reads (``ours(at)``: whether a time
    falls within one of the view's own checks of this learner)."""
    action = str(event.get("Action") or event.get("status") or "")
    if action.startswith("exec_"):
        at = float(event.get("timeNano") or 0) / 1e9 or float(event.get("time") or 0)
        return action.startswith("exec_die") and not ours(at)
    return not action.startswith("top")


class Followers:
    """One event stream per learner; ``changed(name)`` when their engine changed."""

    def __init__(
        self,
        engine_of: Callable[[str], str | None],
        changed: Callable[[str], None],
        *,
        ours: Callable[[str, float], bool] = lambda _name, _at: False,
        settle: float = SETTLE,
        retry: float = RETRY,
    ) -> None:
        self.engine_of = engine_of
        self.changed = changed
        self.ours = ours
        self.settle = settle
        self.retry = retry
        self.events = 0
        """Events seen that counted as changes (all learners)."""
        self._lock = threading.Condition()
        self._threads: dict[str, threading.Thread] = {}
        self._streams: dict[str, Any] = {}
        self._due: dict[str, float] = {}
        self._stopped = threading.Event()
        self._timer = threading.Thread(target=self._ask_when_due, name="follow-ask", daemon=True)
        self._timer.start()

    def follow(self, names: Iterable[str]) -> None:
        """Follow each of ``names`` not followed yet (idempotent)."""
        for name in names:
            with self._lock:
                if name in self._threads or self._stopped.is_set():
                    continue
                thread = threading.Thread(
                    target=self._follow, args=(name,), name=f"follow-{name}", daemon=True
                )
                self._threads[name] = thread
            thread.start()

    @property
    def followed(self) -> list[str]:
        """The learners whose engine's events are being read now."""
        with self._lock:
            return sorted(self._streams)

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            streams = list(self._streams.values())
            threads = list(self._threads.values())
            self._lock.notify_all()
        for stream in streams:
            _close(stream)
        for thread in [*threads, self._timer]:
            thread.join(timeout=5)

    # inside ------------------------------------------------------------------------
    def _soon(self, name: str) -> None:
        with self._lock:
            self._due.setdefault(name, time.monotonic() + self.settle)
            self._lock.notify_all()

    def _ask_when_due(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                now = time.monotonic()
                due = [n for n, at in self._due.items() if at <= now]
                for name in due:
                    del self._due[name]
                if not due:
                    wait = min(self._due.values(), default=now + 1.0) - now
                    self._lock.wait(max(0.01, wait))
                    continue
            for name in due:
                try:
                    self.changed(name)
                except Exception:  # one learner's request must not end the others'
                    log.exception("asking that %s be checked failed", name)

    def _follow(self, name: str) -> None:
        was_up: bool | None = None
        since: float | None = None
        while not self._stopped.is_set():
            try:
                host = self.engine_of(name)
            except Exception:  # the lookup failed: as if no engine answered
                log.exception("finding %s's engine failed", name)
                host = None
            up = host is not None
            if was_up is not None and up != was_up:
                self._soon(name)  # started or stopped: the grid says so at once
            was_up = up
            if host is not None:
                since = self._read(name, host, since)
            self._stopped.wait(self.retry)

    def _read(self, name: str, host: str, since: float | None) -> float | None:
        """Follow ``host``'s events until the stream ends; the time to resume from."""
        try:
            api = Engine(host, journal=False).api_client(timeout=STREAM_TIMEOUT)
            stream = api.events(
                decode=True, filters={"type": list(WATCHED)}, since=int(since) if since else None
            )
        except Exception as exc:  # the engine went between the look and the stream
            log.info("could not follow %s's engine: %s", name, exc)
            return since
        with self._lock:
            if self._stopped.is_set():
                _close(stream)
                return since
            self._streams[name] = stream
        if since is not None:
            self._soon(name)  # what happened while the stream was down
        try:
            for event in stream:
                since = time.time()
                if is_change(event, lambda at: self.ours(name, at)):
                    self.events += 1
                    self._soon(name)
        except Exception as exc:  # the engine stopped: the next look says so
            log.info("%s's engine's events ended: %s", name, type(exc).__name__)
        finally:
            with self._lock:
                self._streams.pop(name, None)
            _close(stream)
        self._soon(name)
        return since


def _close(stream: Any) -> None:
    with contextlib.suppress(Exception):  # a stream that broke while closing is closed
        stream.close()


__all__ = ["RETRY", "SETTLE", "Followers", "is_change"]
