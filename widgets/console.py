"""Exec console: the Exec tab, in a notebook.

A persistent interactive session (a shell by default) in a running container: type
``redis-cli`` or ``mongosh`` and their prompt and state stay from one line to the next,
as in Docker Desktop's terminal. Output is plain text (programs are asked for it) and
escaped before it is shown.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import ipywidgets as w

from dockdojo.runner import ContainerInfo, DockdojoError, Engine, ExecSession, LiveState, uses_image

from .common import EnterField, Worker, button, error_note, esc, live, note

_MAX_SHOWN = 20_000
_LINES = 18
ANSWER_WAIT = 2.0
"""Seconds after which a line counts as answered even while output still flows."""


class ExecConsole(w.VBox):
    """Pick a running container, type lines, see what the program prints."""

    def __init__(
        self,
        engine: Engine,
        *,
        image: str | None = None,
        name: str | None = None,
        command: Sequence[str] = ("sh",),
        suggest: Sequence[str] = (),
        on_answered: Callable[[], object] | None = None,
    ) -> None:
        self.engine = engine
        self.on_answered = on_answered
        """Called when a line's answer has been printed (what it changed inside the
        container is for the checks to see)."""
        self._sent_at: float | None = None
        self._heard = False
        self.image = image
        self.command = list(command)
        self.session: ExecSession | None = None
        self.history: list[str] = []
        self._reader: threading.Thread | None = None
        self.container = w.Dropdown(
            description="Container", options=[], style={"description_width": "initial"}
        )
        self.preferred = name
        self.connect_button = button("Connect", "primary", "terminal")
        self.refresh_button = button("↻", tooltip="Refresh the list of running containers")
        self.screen = w.HTML(f'<pre class="dojo-term">{esc("(not connected)")}</pre>')
        self.input = w.Text(
            placeholder="Type a command and press Enter",
            layout=w.Layout(width="420px"),
            continuous_update=False,
        )
        self.input.add_class("dojo-input")
        self.send_button = button("Send", icon="paper-plane")
        self.suggestions = [
            button(line, tooltip="Fill the input with this command") for line in suggest
        ]
        self.recent = w.Dropdown(
            description="History", options=[""], layout=w.Layout(width="260px")
        )
        self.status = w.HTML()
        self.worker = Worker(self.status, [self.connect_button, self.refresh_button])
        self.connect_button.on_click(lambda _: self.connect())
        self.refresh_button.on_click(lambda _: self.refresh())
        self.entry = EnterField(self.input, self.send)  # Enter sends the line
        self.send_button.on_click(lambda _: self.send(self.input.value))
        self.recent.observe(self._recall, names="value")
        for suggestion, line in zip(self.suggestions, suggest, strict=True):
            suggestion.on_click(lambda _, text=line: self._fill(text))
        super().__init__(
            [
                w.HBox([self.container, self.refresh_button, self.connect_button]),
                self.screen,
                w.HBox([self.input, self.send_button, self.recent]),
                w.HBox([w.HTML("Try:"), *self.suggestions]) if self.suggestions else w.HBox(),
                self.status,
            ]
        )
        self._chosen: str | None = None
        """The container the learner picked in the list (kept while it runs)."""
        self._picking = False
        self.container.observe(self._picked, names="value")
        live(engine).subscribe(self.follow)

    # containers -----------------------------------------------------------------------
    def refresh(self) -> bool:
        """Read the engine now (the list follows the live model by itself)."""
        return self.worker.start(lambda: self.follow(live(self.engine).refresh()))

    def follow(self, state: LiveState) -> None:
        """The running containers of the step's image (of any, without one), as the engine
        has them now: the step's program is in no other. The selection stays on the
        learner's pick while it runs; otherwise it goes to the step's own container (the
        one named, else the first)."""
        if state.snapshot is None:
            return
        running: list[ContainerInfo] = [c for c in state.snapshot.containers if c.running]
        if self.image is not None:  # the step's program is in its image's containers only
            wanted = state.snapshot.image(self.image)
            running = [c for c in running if wanted and uses_image(c, image_id=wanted.id)]
        options = [(f"{c.name} ({c.image})", c.name) for c in running]
        if options != list(self.container.options):
            names = [c.name for c in running]
            self._picking = True
            try:
                self.container.options = options
                for choice in (self._chosen, self.preferred, *names):
                    if choice in names:
                        self.container.value = choice
                        break
            finally:
                self._picking = False
        of = f"of {self.image} " if self.image else ""
        self.status.value = (
            ""
            if running
            else note(
                "info",
                f"No container {of}is running, so there is nothing to connect to.",
                f"Run one first{' from the ' + self.image + ' image' if self.image else ''} "
                "(the Run step above, or docker run in a terminal); it shows here by itself.",
            )
        )

    def _picked(self, change: dict[str, object]) -> None:
        if not self._picking and change["new"]:
            self._chosen = str(change["new"])

    def connect(self) -> bool:
        target = self.container.value

        def job() -> None:
            if not target:
                raise DockdojoError(
                    "Choose a running container first.", "Select ↻ to list the running containers."
                )
            self.close()
            self.session = self.engine.session(target, self.command)
            self._reader = threading.Thread(
                target=self._read_loop, args=(self.session,), daemon=True
            )
            self._reader.start()
            self.status.value = note("ok", f"Connected to {target}.")

        return self.worker.start(job, f"Connecting to {target}…")

    # input and output -----------------------------------------------------------------
    def _fill(self, text: str) -> None:
        self.entry.set(text)

    def _recall(self, change: dict[str, object]) -> None:
        if change["new"]:
            self.entry.set(str(change["new"]))

    def send(self, line: str) -> bool:
        """Type ``line`` into the session and press Enter; False when not connected."""
        if self.session is None or self.session.closed:
            self.status.value = note(
                "error",
                "The console is not connected.",
                "Choose a running container and select Connect.",
            )
            return False
        try:
            self.session.send_line(line)
        except DockdojoError as exc:
            self.status.value = error_note(exc)
            return False
        self._sent_at, self._heard = time.monotonic(), False
        if line.strip():
            self.history.append(line)
            self.recent.options = ["", *dict.fromkeys(reversed(self.history[-20:]))]
        self.entry.set("")
        return True

    @property
    def text(self) -> str:
        """What the console shows, as plain text."""
        return self.session.text if self.session is not None else ""

    def _read_loop(self, session: ExecSession) -> None:
        last_draw = 0.0
        while True:
            try:
                new = session.read(0.1)
            except (OSError, DockdojoError) as exc:
                self.status.value = error_note(exc)
                break
            now = time.monotonic()
            if self._sent_at is not None:  # answered: output came, then went quiet
                self._heard = self._heard or bool(new)
                if (self._heard and not new) or now - self._sent_at > ANSWER_WAIT:
                    self._answered()
            if now - last_draw >= 0.1:
                self._draw(session)
                last_draw = now
            if session is not self.session or session.closed:
                break
        self._draw(session)
        if session is self.session:
            self.status.value = note(
                "info", "The session ended.", "Select Connect to start a new one."
            )

    def _answered(self) -> None:
        """A line was answered (its output came and went quiet, or it took too long)."""
        self._sent_at = None
        if self.on_answered is not None:
            try:
                self.on_answered()
            except Exception as exc:  # the console goes on; the learner can Check
                self.status.value = note("error", f"Checking after the command failed: {exc}")

    def _draw(self, session: ExecSession) -> None:
        """Show the newest lines, as a terminal does (a widget cannot keep a scroll position)."""
        lines = session.text[-_MAX_SHOWN:].split("\n")
        shown = "\n".join(lines[-_LINES:])
        if len(lines) > _LINES:
            shown = f"… {len(lines) - _LINES} earlier line(s)\n" + shown
        self.screen.value = f'<pre class="dojo-term dojo-live">{esc(shown)}</pre>'

    def close(self) -> None:
        if self.session is not None:
            session, self.session = self.session, None
            session.close()
