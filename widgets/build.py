"""Build and Compose: one button for the step's ``build``, ``compose-up`` or
``compose-down``, and the output as it comes (a build's steps, Compose's lines)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w

from dockdojo.runner import BuildProgress, Engine, Step, build_step, compose_step

from .common import Worker, button, esc, note, touch

LOG_LINES = 40
"""Lines of output the log shows (the last ones)."""


class ProjectWidget(w.VBox):
    """A step's Build (with its steps as a progress bar), Compose up or Compose down."""

    def __init__(
        self,
        engine: Engine,
        step: Step,
        kind: str,
        args: Mapping[str, Any],
        *,
        on_done: Callable[[], object] | None = None,
    ) -> None:
        self.engine = engine
        self.step = step
        self.kind = kind
        self.args = dict(args)
        self.on_done = on_done
        self.lines: list[str] = []
        labels = {
            "build": (f"Build {args.get('tag')}", "hammer"),
            "compose-up": ("Compose up", "play"),
            "compose-down": ("Compose down", "stop"),
        }
        text, icon = labels[kind]
        self.button = button(text, "primary", icon)
        self.bar = w.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=w.Layout(width="280px", visibility="hidden")
        )
        self.detail = w.HTML()
        self.output = w.HTML()
        self.status = w.HTML()
        self.worker = Worker(self.status, [self.button])
        self.button.on_click(lambda _: self.go())
        super().__init__([self.button, w.HBox([self.bar, self.detail]), self.output, self.status])

    def _line(self, text: str) -> None:
        self.lines.append(text)
        shown = "\n".join(self.lines[-LOG_LINES:])
        self.output.value = f'<pre class="dojo-log">{esc(shown)}</pre>'

    def _progress(self, progress: BuildProgress) -> None:
        self.bar.value = progress.fraction
        self.detail.value = esc(progress.describe())
        for line in progress.lines:
            self._line(line)

    def go(self) -> bool:
        """Do the step's action in the background; True when it started."""

        def job() -> None:
            self.lines.clear()
            self.output.value = ""
            if self.kind == "build":
                self.bar.layout.visibility = "visible"
                self.bar.bar_style = ""
                try:
                    said = build_step(
                        self.engine, self.engine.lesson, self.step.id, self.args, self._progress
                    )
                except Exception:
                    self.bar.bar_style = "danger"
                    raise
                self.bar.bar_style = "success"
                self.bar.value = 1.0
            else:
                up = self.kind == "compose-up"
                said = compose_step(
                    self.engine,
                    self.engine.lesson,
                    self.step.id,
                    self.args,
                    up=up,
                    on_line=self._line,
                )
            self.status.value = note("ok", said)
            touch(self.engine)
            if self.on_done is not None:
                self.on_done()

        busy = {"build": "Building…", "compose-up": "Compose up…", "compose-down": "Compose down…"}
        return self.worker.start(job, busy[self.kind])
