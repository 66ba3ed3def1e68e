"""The Containers view: every container of the learner, running or stopped, with its port
links and Stop / Start / Delete; Open shows one container's Logs (as they come), Inspect
and Files, as Docker Desktop's container page does."""

from __future__ import annotations

import collections
import json
import threading
import time
from collections.abc import Callable

import ipywidgets as w

from dockdojo.runner import (
    LABEL_HELPER,
    ContainerInfo,
    DockdojoError,
    Engine,
    FileText,
    Folder,
    LiveState,
)

from .common import Worker, button, error_note, esc, live, note, synchronous, touch
from .folders import FolderWalk

LOG_LINES = 200
"""Log lines a container's Logs tab keeps (the newest)."""
LOG_REDRAW_SECONDS = 0.2
"""The Logs tab is redrawn at most this often while lines arrive."""
INSPECT_CHARS = 200_000
"""Characters of ``docker inspect`` shown, at most."""


def port_links(info: ContainerInfo) -> str:
    """The container's published ports as links, as the Port(s) column shows them."""
    links = [
        f'<a href="{esc(p.url)}" target="_blank" rel="noopener" class="dojo-link">'
        f"{esc(p.host_port)}:{esc(p.container_port.split('/')[0])} ↗</a>"
        for p in info.ports
    ]
    return " ".join(links) or "<i>none</i>"


class ContainersWidget(w.VBox):
    """The learner's containers as a table that follows the engine."""

    def __init__(self, engine: Engine, *, on_change: Callable[[], object] | None = None) -> None:
        self.engine = engine
        self.on_change = on_change
        self.live = live(engine)
        self.only_running = w.Checkbox(
            value=False, description="Only show running containers", indent=False
        )
        self.only_running.observe(lambda _: self.show(self.live.state, force=True), "value")
        self.table = w.GridBox(
            layout=w.Layout(
                grid_template_columns="repeat(7, auto)", grid_gap="2px 12px", align_items="center"
            )
        )
        self.status = w.HTML()
        self.detail = w.VBox()
        self.worker = Worker(self.status)
        self.opened: ContainerDetail | None = None
        self._rows: object = None
        super().__init__([self.only_running, self.table, self.status, self.detail])
        self.add_class("dojo-containers")
        self.live.subscribe(self.show)
        if self.live.state.snapshot is None:
            self.show(self.live.state)

    def mine(self, state: LiveState) -> list[ContainerInfo]:
        if state.snapshot is None:
            return []
        found = [
            c
            for c in state.snapshot.containers
            if self.engine.ownership.mine(c) and LABEL_HELPER not in c.labels  # not a moment's
        ]
        return [c for c in found if c.running or not self.only_running.value]

    def show(self, state: LiveState, *, force: bool = False) -> None:
        """Render the table from the live model's state."""
        if state.snapshot is None:
            self.status.value = note(
                "error", state.problem or "The engine cannot be read.", "Start Docker."
            )
            return
        rows = self.mine(state)
        key = tuple((c.id, c.name, c.state, c.ports) for c in rows)
        if key != self._rows or force:
            self._rows = key
            cells: list[w.Widget] = [
                w.HTML(f"<b>{h}</b>") for h in ("Name", "Image", "Status", "Port(s)", "", "", "")
            ]
            for c in rows:
                cells += self._row(c)
            self.table.children = cells
        if self.opened is not None:
            self.opened.follow(state)
        if not rows:
            self.status.value = note("info", "No containers yet: run one, and it shows here.")
        elif not self.worker.busy:
            running = sum(c.running for c in rows)
            self.status.value = note("info", f"{len(rows)} container(s), {running} running.")

    def _row(self, c: ContainerInfo) -> list[w.Widget]:
        toggle = button("Stop", icon="stop") if c.running else button("Start", icon="play")
        toggle.on_click(lambda _, ref=c.name, run=c.running: self.stop_or_start(ref, run))
        delete = button("Delete", icon="trash")
        delete.on_click(lambda _, ref=c.name: self.delete(ref))
        opener = button("Open", icon="folder-open", tooltip="Logs, Inspect and Files")
        opener.on_click(lambda _, info=c: self.open_container(info))
        state = "🟢" if c.running else "⚪"
        return [
            w.HTML(f"<b>{esc(c.name)}</b> <code>{esc(c.short_id)}</code>"),
            w.HTML(f"<code>{esc(c.image)}</code>"),
            w.HTML(f"{state} {esc(c.status or c.state)}"),
            w.HTML(port_links(c)),
            toggle,
            delete,
            opener,
        ]

    def _changed(self) -> None:
        touch(self.engine)
        if self.on_change is not None:
            self.on_change()

    def stop_or_start(self, ref: str, running: bool) -> bool:
        def job() -> None:
            if running:
                self.engine.stop_container(ref)
            else:
                self.engine.explore(ref).start()
            self._changed()
            self.status.value = note("ok", f"{'Stopped' if running else 'Started'} {ref}.")

        return self.worker.start(job, f"{'Stopping' if running else 'Starting'} {ref}…")

    def delete(self, ref: str) -> bool:
        def job() -> None:
            self.engine.remove_container(ref)
            self._changed()
            self.status.value = note("ok", f"Deleted {ref}.")

        return self.worker.start(job, f"Deleting {ref}…")

    def open_container(self, info: ContainerInfo) -> ContainerDetail:
        if self.opened is not None:
            self.opened.close_streams()
        self.opened = ContainerDetail(self.engine, info)
        self.detail.children = [self.opened]
        return self.opened


class ContainerDetail(FolderWalk, w.VBox):
    """One container's Logs (following), Inspect and Files tabs."""

    def __init__(self, engine: Engine, info: ContainerInfo) -> None:
        self.engine = engine
        self.info = info
        self.explorer = engine.explore(info.id)
        self.title = w.HTML()
        self.logs = w.HTML()
        self.inspect_view = w.HTML()
        bar = self.walk_widgets()
        self.status = w.HTML()
        self.worker = Worker(self.status, [self.up, self.go])
        files = w.VBox([bar, self.entries, self.file_view])
        self.tabs = w.Tab(children=[self.logs, self.inspect_view, files])
        for index, name in enumerate(("Logs", "Inspect", "Files")):
            self.tabs.set_title(index, name)
        super().__init__([self.title, self.tabs, self.status])
        self.add_class("dojo-container-detail")
        self.lines: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self._stream: object = None
        self._drawn = 0.0
        self.gone = False
        self._title()
        self.show_inspect()
        self.list_folder("/")
        self.follow_logs()

    def _title(self) -> None:
        state = "🟢 running" if self.info.running else f"⚪ {self.info.state}"
        self.title.value = (
            f"<h4>{esc(self.info.name)} <code>{esc(self.info.short_id)}</code> {state} · "
            f"<code>{esc(self.info.image)}</code> · {port_links(self.info)}</h4>"
        )

    def follow(self, state: LiveState) -> None:
        """The container as the engine has it now: its title; logs again after a start."""
        if state.snapshot is None:
            return
        now = next((c for c in state.snapshot.containers if c.id == self.info.id), None)
        if now is None:
            self.gone = True
            self.close_streams()
            self.title.value = note("info", f"{self.info.name} was deleted.")
            return
        was_running, self.info = self.info.running, now
        self._title()
        if now.running and not was_running:
            self.follow_logs()

    # Logs ---------------------------------------------------------------------------
    def _draw_logs(self, *, last: bool = False) -> None:
        now = time.monotonic()
        if not last and now - self._drawn < LOG_REDRAW_SECONDS:
            return
        self._drawn = now
        text = "\n".join(self.lines) or "(no output yet)"
        ended = "" if not last else note("info", "The container stopped: its logs end here.")
        self.logs.value = f'<pre class="dojo-term dojo-logs">{esc(text)}</pre>{ended}'

    def follow_logs(self) -> None:
        """Show the last lines, then each new one as it comes, until the container stops
        (in a graded or headless run: the last lines once)."""
        self.close_streams()
        self.lines.clear()
        if synchronous() or not self.info.running:
            try:
                self.lines.extend(self.engine.logs(self.info.id, tail=LOG_LINES).splitlines())
            except DockdojoError as exc:
                self.logs.value = note("error", exc.what, exc.hint)
                return
            self._draw_logs(last=True)
            return
        try:
            stream = self.explorer.follow_logs(tail=LOG_LINES)
        except DockdojoError as exc:
            self.logs.value = note("error", exc.what, exc.hint)
            return
        self._stream = stream

        def read() -> None:
            try:
                for line in stream.lines():
                    self.lines.append(line)
                    self._draw_logs()
            except Exception as exc:  # closed here (another tab opened), or failed
                if self._stream is stream:
                    self.logs.value = error_note(exc)
                return
            self._draw_logs(last=True)

        threading.Thread(target=read, name="dockdojo-logs", daemon=True).start()

    def close_streams(self) -> None:
        stream, self._stream = self._stream, None
        close = getattr(stream, "close", None)
        if close is not None:
            close()

    # Inspect ------------------------------------------------------------------------
    def show_inspect(self) -> None:
        try:
            data = self.explorer.inspect()
        except DockdojoError as exc:
            self.inspect_view.value = note("error", exc.what, exc.hint)
            return
        text = json.dumps(data, indent=2, sort_keys=True)
        if len(text) > INSPECT_CHARS:
            text = text[:INSPECT_CHARS] + "\n…"
        self.inspect_view.value = f'<pre class="dojo-term dojo-inspect">{esc(text)}</pre>'

    # Files --------------------------------------------------------------------------
    def read_folder(self, path: str) -> Folder:
        return self.explorer.folder(path)

    def read_file(self, path: str) -> FileText:
        return self.explorer.read_file(path)
