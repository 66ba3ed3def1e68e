"""What every dockdojo widget shares: escaping, status notes, and background work.

Slow work (pulls, runs, checks) never runs in a widget callback itself: a callback that
blocks also blocks the kernel. :class:`Worker` runs it in a thread, disables the
widget's buttons meanwhile (so a second click cannot start a second pull), and turns
any failure into a sentence with a next step; no traceback reaches the learner.
"""

from __future__ import annotations

import html
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as w

from dockdojo.runner import DockdojoError, Engine, LiveModel, widgets_sync


def silence_comms() -> None:
    """Widgets built from now on send nothing to a frontend: where there is none (a graded
    kernel), each widget's comm (and its layout's and style's) would still send its whole
    state to nobody, and the grader would read and parse every message."""
    import comm

    def create_comm(**kwargs: Any) -> comm.base_comm.BaseComm:
        return comm.DummyComm(**kwargs)

    comm.create_comm = create_comm


STYLE = """
<style>
.dojo-note{padding:6px 10px;border-radius:4px;margin:4px 0;line-height:1.4}
.dojo-ok{background:#e8f5e9;border-left:4px solid #2e7d32}
.dojo-error{background:#fdecea;border-left:4px solid #c62828}
.dojo-info{background:#e8f0fe;border-left:4px solid #1a73e8}
.dojo-busy{background:#fff8e1;border-left:4px solid #f9a825}
.dojo-hint{color:#555;font-size:0.95em;margin-top:2px}
.dojo-table{border-collapse:collapse}
.dojo-table td,.dojo-table th{padding:2px 10px;text-align:left;border-bottom:1px solid #ddd}
.dojo-term{background:#1e1e1e;color:#e0e0e0;padding:8px;border-radius:4px;max-height:320px;
 overflow-y:auto;white-space:pre-wrap;font-family:monospace;font-size:13px;margin:0}
.dojo-term.dojo-live{max-height:none;overflow-y:visible}
.dojo-gone{background:#f1f1f1;border-left:4px solid #9e9e9e;color:#555}
.dojo-stale{color:#8a6d00;font-size:0.95em}
</style>
"""


def esc(value: object) -> str:
    """Text from images, containers and learners, made safe to show as HTML."""
    return html.escape(str(value), quote=True)


def note(kind: str, what: str, hint: str = "") -> str:
    """A status box: ``kind`` is ``ok``, ``error``, ``info`` or ``busy``; text is escaped."""
    icon = {"ok": "✅", "error": "❌", "info": "💬", "busy": "⏳"}.get(kind, "")
    body = f"{icon} {esc(what)}"
    if hint:
        body += f'<div class="dojo-hint">{esc(hint)}</div>'
    return f'{STYLE}<div class="dojo-note dojo-{kind}">{body}</div>'


def error_note(exc: BaseException) -> str:
    if isinstance(exc, DockdojoError):
        return note("error", exc.what, exc.hint)
    return note(
        "error",
        f"Something unexpected went wrong ({type(exc).__name__}: {exc}).",
        "Try again. If it keeps happening, restart the kernel and tell your instructor.",
    )


def synchronous() -> bool:
    """Run widget work inline instead of in threads (headless runs and grading)."""
    return widgets_sync()


class Worker:
    """Runs one job at a time off the kernel's main thread, for one widget."""

    def __init__(
        self, status: w.HTML, buttons: Sequence[w.Button] = (), sync: bool | None = None
    ) -> None:
        self.status = status
        self.buttons = list(buttons)
        self.sync = synchronous() if sync is None else sync
        self._thread: threading.Thread | None = None
        self._next: tuple[Callable[[], Any], str] | None = None
        self._active = False
        self._lock = threading.Lock()
        self.last_error: BaseException | None = None

    @property
    def busy(self) -> bool:
        return self._active

    def start(self, job: Callable[[], Any], busy_text: str = "", *, queue: str = "") -> bool:
        """Start ``job``. While a job still runs: with ``queue`` (what to tell the learner),
        run it right after that one (a later queued job replaces an earlier one) and return
        True; without, start nothing and return False."""
        with self._lock:
            if self.busy:
                if not queue:
                    return False
                self._next = (job, busy_text)
                self.status.value = note("busy", queue)
                return True
            self._active = True
        for button in self.buttons:
            button.disabled = True
        if busy_text:
            self.status.value = note("busy", busy_text)
        self.last_error = None
        if self.sync:
            self._run(job, busy_text)
        else:
            self._thread = threading.Thread(target=self._run, args=(job, busy_text), daemon=True)
            self._thread.start()
        return True

    def _run(self, job: Callable[[], Any], busy_text: str) -> None:
        while True:
            try:
                job()
            except Exception as exc:  # every failure becomes a sentence for the learner
                self.last_error = exc
                self.status.value = error_note(exc)
            else:  # a job that said nothing of its own leaves no "busy" note behind
                if busy_text and self.status.value == note("busy", busy_text):
                    self.status.value = ""
            with self._lock:
                queued, self._next = self._next, None
                if queued is None:
                    self._active = False
                    for button in self.buttons:
                        button.disabled = False
                    return
            job, busy_text = queued
            if busy_text:
                self.status.value = note("busy", busy_text)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the current job ends (tests and headless runs)."""
        if self._thread is not None:
            self._thread.join(timeout)


def live(engine: Engine) -> LiveModel:
    """The live model of ``engine``: one per engine and kernel, shared by every panel.

    It follows the engine's events in the background, except in synchronous runs
    (grading, headless), where panels are re-read after each action instead."""
    model = engine.__dict__.get("_dockdojo_live")
    if model is None:
        model = engine.__dict__.setdefault("_dockdojo_live", LiveModel(engine))
    assert isinstance(model, LiveModel)
    if synchronous():
        model.refresh()  # nothing follows the engine here: read it as each panel starts
    elif not model.running:
        model.start()
    return model


def touch(engine: Engine) -> None:
    """A widget just changed the engine: have every panel show it."""
    model = engine.__dict__.get("_dockdojo_live")
    if not isinstance(model, LiveModel):
        model = live(engine)
    if model.running and not synchronous():
        model.changed()
    else:
        model.refresh()


def button(description: str, style: str = "", icon: str = "", tooltip: str = "") -> w.Button:
    return w.Button(
        description=description,
        button_style=style,
        icon=icon,
        tooltip=tooltip or description,
        layout=w.Layout(width="auto"),
    )


class EnterField:
    """Calls ``on_enter`` when the learner commits a ``Text`` (Enter), not when code sets it.

    The Text must have ``continuous_update=False``: its value then changes on Enter only.
    """

    def __init__(self, field: w.Text, on_enter: Callable[[str], object]) -> None:
        self.field = field
        self.on_enter = on_enter
        self._setting = False
        field.observe(self._changed, names="value")

    def _changed(self, change: dict[str, object]) -> None:
        if not self._setting and str(change["new"]).strip():
            self.on_enter(str(change["new"]))

    def set(self, text: str) -> None:
        """Put ``text`` in the field without calling ``on_enter``."""
        self._setting = True
        try:
            self.field.value = text
        finally:
            self._setting = False


BEAT = 4.0
"""Seconds between two signs of life a kernel sends to its widgets' pages."""
SILENT_AFTER = 15.0
"""Seconds without a sign of life after which a widget's page says the kernel is gone."""
_hearts: weakref.WeakSet[w.HTML] = weakref.WeakSet()
_beating = threading.Lock()
_beat = [0]


def heartbeat() -> list[w.HTML]:
    """A note that stays hidden while the kernel behind the widget answers.

    The kernel sends it a sign of life every :data:`BEAT` seconds; each one draws it anew,
    which starts its delay again. After a kernel restart (or stop) the page keeps the old
    widgets on screen but nothing answers their buttons: then no sign comes, and after
    :data:`SILENT_AFTER` seconds the note shows and says what to do. A list of it (for a
    box's children), empty in graded and headless runs: they have no page to tell."""
    if synchronous():
        return []
    heart = w.HTML(_heart_html(0))
    heart.add_class("dojo-heartbeat")
    _hearts.add(heart)
    if _beating.acquire(blocking=False):  # one thread per kernel beats for all
        threading.Thread(target=_keep_beating, name="dockdojo-heartbeat", daemon=True).start()
    return [heart]


def _heart_html(beat: int) -> str:
    gone = note(
        "error",
        "This widget no longer answers: the notebook's kernel restarted or stopped, "
        "so its buttons do nothing.",
        "Run the lesson's cells again from the top (Run ▸ Run All Cells) "
        "to bring the widgets back; your containers and images are still there.",
    )
    return (
        "<style>@keyframes dojo-silent{to{visibility:visible;height:auto}}</style>"
        f'<div data-beat="{beat}" style="visibility:hidden;height:0;overflow:hidden;'
        f'animation:dojo-silent 0s linear {SILENT_AFTER:.0f}s forwards">{gone}</div>'
    )


def _keep_beating() -> None:
    while True:
        time.sleep(BEAT)
        _beat[0] += 1
        value = _heart_html(_beat[0])
        for heart in list(_hearts):
            try:
                heart.value = value
            except Exception:  # a widget closed meanwhile: it needs no more beats
                _hearts.discard(heart)
