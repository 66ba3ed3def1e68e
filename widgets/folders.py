"""Walking through folders as Docker Desktop's Files and Stored Data tabs do: a folder's
entries to select (a folder opens, a file shows its text), a path to type, and Up.

:class:`FolderWalk` is mixed into a view that reads the files somewhere: a container's
(:class:`~.panel.ContainerDetail`, through the engine's archive API) or a volume's
(:class:`~.stores.VolumeFiles`, through a helper that mounts it).
"""

from __future__ import annotations

import ipywidgets as w

from dockdojo.runner import FileEntry, FileText, Folder, human_bytes

from .common import Worker, button, esc, note


def entry_label(entry: FileEntry) -> str:
    """One entry of a folder's list."""
    if entry.kind == "folder":
        return f"📁 {entry.name}/"
    if entry.kind == "link":
        return f"🔗 {entry.name} → {entry.target}"
    return f"📄 {entry.name}  ({human_bytes(entry.size)})"


class FolderWalk:
    """The folder walk of a view; the view says where files are read
    (:meth:`read_folder`, :meth:`read_file`) and runs the reads on its :attr:`worker`."""

    worker: Worker

    def walk_widgets(self) -> w.HBox:
        """Make the walk's widgets (:attr:`path`, :attr:`entries`, :attr:`file_view`...);
        the bar of path, Open and Up, to lay out with the others."""
        self.path = w.Text(value="/", description="Folder", layout=w.Layout(width="420px"))
        self.up = button("Up", icon="arrow-up")
        self.go = button("Open", icon="folder-open")
        self.entries = w.Select(options=[], rows=12, layout=w.Layout(width="420px"))
        self.file_view = w.HTML()
        self._listing: dict[str, FileEntry] = {}
        self.up.on_click(lambda _: self.list_folder(self.path.value.rstrip("/") + "/.."))
        self.go.on_click(lambda _: self.list_folder(self.path.value))
        self.entries.observe(self._picked, "value")
        return w.HBox([self.path, self.go, self.up])

    def read_folder(self, path: str) -> Folder:
        raise NotImplementedError

    def read_file(self, path: str) -> FileText:
        raise NotImplementedError

    def list_folder(self, path: str) -> bool:
        def job() -> None:
            folder = self.read_folder(path)
            self.path.value = folder.path
            self._listing = {e.name: e for e in folder.entries}
            self.entries.unobserve(self._picked, "value")
            self.entries.options = [(entry_label(e), e.name) for e in folder.entries]
            self.entries.value = None
            self.entries.observe(self._picked, "value")
            if not folder.entries:
                self.file_view.value = note("info", f"{folder.path} is empty.")
            elif not folder.complete:
                shown = len(folder.entries)
                self.file_view.value = note("info", f"Only the first {shown} entries are shown.")
            else:
                self.file_view.value = ""

        return self.worker.start(job, f"Reading {path}…")

    def _picked(self, change: dict[str, object]) -> None:
        entry = self._listing.get(str(change.get("new")))
        if entry is None:
            return
        full = self.path.value.rstrip("/") + "/" + entry.name
        if entry.kind == "folder":
            self.list_folder(full)
        elif entry.kind == "file":
            self.show_file(full)

    def show_file(self, path: str) -> bool:
        def job() -> None:
            shown = self.read_file(path)
            if shown.text is None:
                body = note("info", f"{path}: {shown.size} bytes, not text.")
            else:
                more = "" if shown.complete else f"\n… ({shown.size} bytes in all)"
                body = f'<pre class="dojo-term">{esc(shown.text + more)}</pre>'
            self.file_view.value = f"<b>{esc(path)}</b>{body}"

        return self.worker.start(job, f"Reading {path}…")


__all__ = ["FolderWalk", "entry_label"]
