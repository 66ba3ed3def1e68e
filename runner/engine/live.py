"""One live model of an engine: its images and containers, kept current by its events.

The engine's event stream (``GET /events``, as Docker Desktop itself follows it) says
when anything changes an image, a container, a volume or a network, whoever did it: a
widget, the docker CLI in a terminal, Docker Desktop. :class:`LiveModel` follows that
stream in a thread of its own; each change (a burst of them counts once, gathered for
:attr:`LiveModel.settle` seconds) re-reads the engine into a new :class:`LiveState`,
which every subscriber is given. When the stream drops (the engine stopped or
restarted) the state says so (``connected`` False, with the reason), and the model keeps
trying; when the engine answers again, it reads everything anew.

Subscribers are called from the model's thread; they must be quick (render, or hand
work to a worker of their own).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..errors import DockdojoError
from .facade import Engine
from .snapshot import Snapshot
from .volumes import LABEL_HELPER

log = logging.getLogger("dockdojo.live")

WATCHED = ("container", "image", "volume", "network")
"""Event types that change what the model holds."""
QUIET = ("exec_", "top", "mount", "unmount")
"""Event actions that change nothing the model holds (checks run execs themselves; a
volume is mounted when a container starts or its files are read)."""
RETRY = 1.0
"""Seconds between attempts to reach a stopped engine's event stream."""
START_WAIT = 5.0
"""Seconds :meth:`LiveModel.start` waits for the event stream to be followed."""
STREAM_TIMEOUT = 24 * 3600.0
"""Seconds the event stream may stay quiet (an idle engine sends nothing)."""


@dataclass(frozen=True)
class LiveState:
    """What the engine holds, as of one re-read (or why it cannot be read)."""

    version: int
    """Grows by one with each new state; a result computed from version N is stale once
    the model's version is above N."""
    snapshot: Snapshot | None
    """Images and containers; None until the first read succeeds."""
    connected: bool
    """Whether the event stream is followed (changes show by themselves)."""
    problem: str = ""
    """Why it is not, in a sentence, when it is not."""
    at: float = field(default_factory=time.time)
    """When this state was read."""
    activity: int = 0
    """Grows when something changed inside a container that the images and containers do
    not show (:meth:`LiveModel.bump`: a command typed in a console)."""


Listener = Callable[[LiveState], None]


class LiveModel:
    """The live state of one engine, for every panel of a kernel."""

    def __init__(self, engine: Engine, *, settle: float = 0.1) -> None:
        self.engine = engine
        self.settle = settle
        self._state = LiveState(0, None, False, "not started")
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._stopped = threading.Event()
        self._stream: object = None
        self._following = False
        self._tried = threading.Event()
        self._threads: list[threading.Thread] = []

    # reading -----------------------------------------------------------------------
    @property
    def state(self) -> LiveState:
        return self._state

    def subscribe(self, listener: Listener, *, now: bool = True) -> Callable[[], None]:
        """Call ``listener`` with each new state (and at once with the current one);
        returns the call that unsubscribes it."""
        with self._lock:
            self._listeners.append(listener)
        if now and self._state.snapshot is not None:
            listener(self._state)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return unsubscribe

    # running -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def start(self) -> LiveModel:
        """Read the engine once (so :attr:`state` is current on return), then follow its
        events in the background. Idempotent."""
        if self.running:
            return self
        self._stopped.clear()
        for target, name in ((self._follow, "events"), (self._reread, "reread")):
            thread = threading.Thread(target=target, name=f"dockdojo-live-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()
        self._tried.wait(START_WAIT)  # following (or known not to be) before we return
        self.refresh()
        return self

    def stop(self) -> None:
        """Stop following the engine (the last state stays readable)."""
        self._stopped.set()
        self._dirty.set()
        self._close_stream()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        self._following = False

    def changed(self) -> None:
        """Say that the engine changed (a widget just acted): re-read it soon."""
        self._dirty.set()

    def bump(self) -> LiveState:
        """Say that something changed inside a container (a console command): a new state,
        so that what depends on it (checks) is read again."""
        state = self._state
        return self._publish(state.snapshot, state.connected, state.problem, bump=1)

    def refresh(self) -> LiveState:
        """Re-read the engine now and tell every subscriber."""
        try:
            snapshot = Snapshot.take(self.engine)
        except DockdojoError as exc:
            return self._publish(self._state.snapshot, False, f"{exc.what} {exc.hint}".strip())
        return self._publish(
            snapshot, self._following, "" if self._following else self._state.problem
        )

    # inside ------------------------------------------------------------------------
    def _publish(
        self, snapshot: Snapshot | None, connected: bool, problem: str, bump: int = 0
    ) -> LiveState:
        with self._lock:
            old = self._state
            same = (
                snapshot is not None
                and old.snapshot is not None
                and snapshot.images == old.snapshot.images
                and snapshot.containers == old.snapshot.containers
                and (old.connected, old.problem) == (connected, problem)
                and not bump
            )
            if same:
                return old
            state = LiveState(
                old.version + 1, snapshot, connected, problem, activity=old.activity + bump
            )
            self._state = state
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(state)
            except Exception:  # one broken panel must not stop the rest: logged, not lost
                log.exception("a panel failed to show the engine's state %d", state.version)
        return state

    def _follow(self) -> None:
        while not self._stopped.is_set():
            try:
                api = self.engine.api_client(timeout=STREAM_TIMEOUT)
                stream = api.events(decode=True, filters={"type": list(WATCHED)})
                self._stream = stream
                self._following = True
                self._tried.set()
                self._dirty.set()  # what changed while nobody listened
                for event in stream:
                    if self._stopped.is_set():
                        break
                    action = str(event.get("Action") or event.get("status") or "")
                    if not action.startswith(QUIET) and not _helper(event):
                        self._dirty.set()
                if self._stopped.is_set():
                    break
                reason = "The engine's event stream ended (the engine stopped or restarted)."
            except Exception as exc:  # the engine went away: say so and keep trying
                if self._stopped.is_set():
                    break
                reason = f"The engine cannot be reached ({type(exc).__name__})."
                if isinstance(exc, DockdojoError):
                    reason = exc.what
            self._following = False
            self._close_stream()
            self._publish(self._state.snapshot, False, reason)
            self._tried.set()
            self._stopped.wait(RETRY)

    def _reread(self) -> None:
        while not self._stopped.is_set():
            self._dirty.wait()
            if self._stopped.is_set():
                break
            time.sleep(self.settle)  # a burst of events is one change
            self._dirty.clear()
            try:
                self.refresh()
            except Exception as exc:  # a bug, not the engine (refresh says so itself)
                log.exception("re-reading the engine failed")
                self._publish(
                    self._state.snapshot,
                    False,
                    f"dockdojo could not read the engine ({type(exc).__name__}: {exc}); "
                    "it tries again at the next change.",
                )

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        close = getattr(stream, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # a stream that broke while closing is closed enough
                log.debug("closing the event stream failed", exc_info=True)


def _helper(event: Mapping[str, object]) -> bool:
    """Whether an event is of a helper container dockdojo made for a moment (to read a
    volume's files, to probe a network): it changes nothing a learner made."""
    actor = event.get("Actor")
    attributes = actor.get("Attributes") if isinstance(actor, dict) else None
    return isinstance(attributes, dict) and LABEL_HELPER in attributes


__all__ = ["WATCHED", "LiveModel", "LiveState"]
