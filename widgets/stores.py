"""The Volumes and Networks views.

Volumes, as Docker Desktop's Volumes view: each volume with the containers that mount it
and where (the "Container in-use" tab), its files (the "Stored Data" tab: read through
the engine's archive API by a helper container that mounts the volume and is never
started, see :class:`dockdojo.runner.Volumes`), Create, Delete, and Prune after a
confirmation that lists what it removes. Networks: each with the containers attached and
the aliases they answer to there, Create and Delete. Both follow the engine's changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import ipywidgets as w

from dockdojo.runner import (
    Engine,
    FileText,
    Folder,
    LiveState,
    NetworkInfo,
    VolumeInfo,
    human_bytes,
    plural,
)

from .common import Worker, button, esc, live, note, touch
from .folders import FolderWalk


class _Manager(Protocol):
    def create(self, name: str) -> object: ...
    def remove(self, name: str) -> None: ...


class _Store(w.VBox):
    """A list of what the engine keeps of one kind (volumes, networks), read again in the
    background whenever the engine changes, with Create (a name field) and Delete."""

    noun = ""
    """What one row is, for the sentences: "volume", "network"."""

    def __init__(
        self,
        engine: Engine,
        *,
        name: str,
        placeholder: str,
        columns: int,
        on_change: Callable[[], object] | None,
        tools: Sequence[w.Widget] = (),
        above: Sequence[w.Widget] = (),
        below: Sequence[w.Widget] = (),
    ) -> None:
        self.engine = engine
        self.on_change = on_change
        """Called after an action of this view changed the engine (e.g. to check steps)."""
        self.new_name = w.Text(value=name, placeholder=placeholder)
        self.create_button = button("Create", icon="plus")
        self.create_button.on_click(lambda _: self.create(self.new_name.value))
        self.table = w.GridBox(
            layout=w.Layout(
                grid_template_columns=f"repeat({columns}, auto)",
                grid_gap="2px 12px",
                align_items="center",
            )
        )
        self.status = w.HTML()
        """What the last action did (or why it failed)."""
        self.summary = w.HTML()
        """How many there are (or why they cannot be read)."""
        self.worker = Worker(self.status)
        """Runs the learner's actions; their outcome shows in :attr:`status`."""
        self.reader = Worker(self.summary)
        """Reads the list again; its trouble shows in :attr:`summary`, so an action's
        outcome stays."""
        self._seen = -1
        top = w.HBox([self.new_name, self.create_button, *tools])
        super().__init__([top, *above, self.table, self.status, *below, self.summary])
        live(engine).subscribe(self._changed)
        if live(engine).state.snapshot is None:
            self.refresh()

    def _changed(self, state: LiveState) -> None:
        if state.version != self._seen:
            self._seen = state.version
            self.refresh()

    def refresh(self) -> bool:
        return self.reader.start(self.read, queue="Reading again as soon as this ends…")

    def read(self) -> None:
        raise NotImplementedError

    def manager(self) -> _Manager:
        raise NotImplementedError

    def removed(self, name: str) -> None:
        """After ``name`` was deleted here: what the view shows of it goes."""

    def done(self, what: str) -> None:
        """After an action of this view: the list read again, every other panel told,
        the owner's :attr:`on_change` called."""
        self.read()
        touch(self.engine)
        self.status.value = note("ok", what)
        if self.on_change is not None:
            self.on_change()

    def create(self, name: str) -> bool:
        def job() -> None:
            self.manager().create(name)
            self.done(f"Created the {self.noun} {name.strip()}.")

        return self.worker.start(job, f"Creating {name}…")

    def delete(self, name: str) -> bool:
        def job() -> None:
            self.manager().remove(name)  # in use: the error says by whom
            self.removed(name)
            self.done(f"Deleted the {self.noun} {name}.")

        return self.worker.start(job, f"Deleting {name}…")


class VolumesWidget(_Store):
    """The learner's volumes: who mounts each, their files, Create, Delete, Prune."""

    noun = "volume"

    def __init__(
        self, engine: Engine, *, name: str = "", on_change: Callable[[], object] | None = None
    ) -> None:
        self.sizes = w.Checkbox(
            value=False, description="Show sizes (the engine measures them: slower)", indent=False
        )
        self.sizes.observe(lambda _: self.refresh(), "value")
        self.prune_button = button("Prune unused", icon="trash")
        self.prune_button.on_click(lambda _: self.ask_prune())
        self.question = w.HTML()
        self.sure_button = button("Remove them", "danger", "trash")
        self.keep_button = button("Keep them", icon="times")
        self.sure_button.on_click(lambda _: self.prune())
        self.keep_button.on_click(lambda _: self._close())
        self.confirm = w.VBox(
            [self.question, w.HBox([self.sure_button, self.keep_button])],
            layout=w.Layout(display="none"),
        )
        self.detail = w.VBox()
        self.opened: VolumeFiles | None = None
        self.volumes: list[VolumeInfo] = []
        super().__init__(
            engine,
            name=name,
            placeholder="volume name, e.g. log-data",
            columns=5,
            on_change=on_change,
            tools=[self.prune_button, self.sizes],
            above=[self.confirm],
            below=[self.detail],
        )
        self.add_class("dojo-volumes")

    def manager(self) -> _Manager:
        return self.engine.volume_manager()

    def read(self) -> None:
        self.volumes = self.engine.volume_manager().listing(sizes=self.sizes.value)
        cells: list[w.Widget] = [
            w.HTML(f"<b>{h}</b>") for h in ("Name", "Size", "In use by (target)", "", "")
        ]
        for volume in self.volumes:
            cells += self._row(volume)
        self.table.children = cells
        used = sum(v.in_use for v in self.volumes)
        self.summary.value = (
            note("info", f"{plural(len(self.volumes), 'volume')}, {used} in use.")
            if self.volumes
            else note("info", "No volumes yet: create one, or run a container with -v.")
        )

    def _row(self, volume: VolumeInfo) -> list[w.Widget]:
        users = ", ".join(f"{esc(m.name)} ({esc(m.destination)})" for m in volume.mounts)
        files = button("Files", icon="folder-open", tooltip="The files stored in the volume")
        files.on_click(lambda _, ref=volume.name: self.open_volume(ref))
        delete = button("Delete", icon="trash")
        delete.on_click(lambda _, ref=volume.name: self.delete(ref))
        size = human_bytes(volume.size) if volume.size is not None else "?"
        return [
            w.HTML(f"<b>{esc(volume.name)}</b>"),
            w.HTML(esc(size)),
            w.HTML(users or "<i>none</i>"),
            files,
            delete,
        ]

    def removed(self, name: str) -> None:
        if self.opened is not None and self.opened.volume == name:
            self.detail.children = []
            self.opened = None

    def ask_prune(self) -> bool:
        def job() -> None:
            unused = [v.name for v in self.engine.volume_manager().listing() if not v.in_use]
            if not unused:
                self.status.value = note("info", "Every volume is in use: nothing to prune.")
                return
            self.question.value = note(
                "info",
                f"Prune removes {plural(len(unused), 'unused volume')} and the data in them: "
                f"{', '.join(unused)}.",
                "Volumes that a container mounts, running or stopped, stay.",
            )
            self.confirm.layout.display = ""

        return self.worker.start(job)

    def prune(self) -> bool:
        def job() -> None:
            self._close()
            removed = self.engine.volume_manager().prune()
            listed = ", ".join(removed) or "none"
            self.done(f"Removed {plural(len(removed), 'volume')}: {listed}.")

        return self.worker.start(job, "Removing the unused volumes…")

    def _close(self) -> None:
        self.confirm.layout.display = "none"

    def open_volume(self, name: str) -> VolumeFiles:
        self.opened = VolumeFiles(self.engine, name)
        self.detail.children = [self.opened]
        return self.opened


class VolumeFiles(FolderWalk, w.VBox):
    """The files stored in one volume (Desktop's Stored Data tab)."""

    def __init__(self, engine: Engine, volume: str) -> None:
        self.engine = engine
        self.volume = volume
        bar = self.walk_widgets()
        self.status = w.HTML()
        self.worker = Worker(self.status, [self.up, self.go])
        title = w.HTML(f"<h4>Stored data of <code>{esc(volume)}</code></h4>")
        super().__init__([title, bar, self.entries, self.file_view, self.status])
        self.add_class("dojo-volume-files")
        self.list_folder("/")

    def read_folder(self, path: str) -> Folder:
        return self.engine.volume_manager().folder(self.volume, path)

    def read_file(self, path: str) -> FileText:
        return self.engine.volume_manager().read_file(self.volume, path)


class NetworksWidget(_Store):
    """The learner's networks: the containers attached with their aliases, Create, Delete."""

    noun = "network"

    def __init__(
        self, engine: Engine, *, name: str = "", on_change: Callable[[], object] | None = None
    ) -> None:
        self.networks: list[NetworkInfo] = []
        super().__init__(
            engine,
            name=name,
            placeholder="network name, e.g. sample-app",
            columns=4,
            on_change=on_change,
        )
        self.add_class("dojo-networks")

    def manager(self) -> _Manager:
        return self.engine.network_manager()

    def read(self) -> None:
        self.networks = self.engine.network_manager().listing()
        cells: list[w.Widget] = [
            w.HTML(f"<b>{h}</b>") for h in ("Name", "Driver", "Containers (aliases)", "")
        ]
        for network in self.networks:
            cells += self._row(network)
        self.table.children = cells
        made = [n for n in self.networks if not n.builtin]
        self.summary.value = note(
            "info", f"{plural(len(made), 'network')} made here, besides Docker's own."
        )

    def _row(self, network: NetworkInfo) -> list[w.Widget]:
        members = ", ".join(
            f"{esc(m.name)}" + (f" ({esc(', '.join(m.aliases))})" if m.aliases else "")
            for m in network.members
        )
        delete = button("Delete", icon="trash")
        delete.disabled = network.builtin
        delete.on_click(lambda _, ref=network.name: self.delete(ref))
        return [
            w.HTML(f"<b>{esc(network.name)}</b> <code>{esc(network.short_id)}</code>"),
            w.HTML(esc(network.driver)),
            w.HTML(members or "<i>none</i>"),
            delete,
        ]
