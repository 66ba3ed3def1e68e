"""A file beside the notebook: its text to edit, and Save (the ``write-file`` action).

The file is the one JupyterLab's file browser shows next to the notebook: edited here or
in JupyterLab's editor, it is the same file. The widget shows what is on disk when the
file is there, else the guide's text; Save writes it (its folders made as needed), and
only inside the notebook's folder (:func:`~dockdojo.runner.write_beside`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ipywidgets as w

from dockdojo.runner import DockdojoError, human_bytes, read_beside, write_beside

from .common import Worker, button, esc, note


class FileWidget(w.VBox):
    """One file beside the notebook: edit its text, Save it, or go back to the guide's."""

    def __init__(
        self,
        path: str,
        content: str,
        *,
        base: Path | None = None,
        on_saved: Callable[[Path], object] | None = None,
    ) -> None:
        self.path = path
        self.guide = content
        self.base = base
        self.on_saved = on_saved
        self.where = w.HTML(
            f'<div class="dojo-hint">📄 <code>{esc(path)}</code>, beside this notebook '
            "(JupyterLab's file browser shows it; editing it there is editing it here)</div>"
        )
        self.text = w.Textarea(value=content, layout=w.Layout(width="100%", height="260px"))
        self.save_button = button("Save", "primary", "save")
        self.save_button.add_class("dojo-save-file")
        self.reload_button = button("Reload from disk", icon="refresh")
        self.guide_button = button("The lesson's text", icon="undo")
        self.status = w.HTML()
        self.worker = Worker(self.status, [self.save_button, self.reload_button])
        self.save_button.on_click(lambda _: self.save())
        self.reload_button.on_click(lambda _: self.reload())
        self.guide_button.on_click(lambda _: setattr(self.text, "value", self.guide))
        super().__init__(
            [
                self.where,
                self.text,
                w.HBox([self.save_button, self.reload_button, self.guide_button]),
                self.status,
            ]
        )
        self.add_class("dojo-file")
        self.reload(quiet=True)

    def reload(self, *, quiet: bool = False) -> bool:
        """Show the file as it is on disk now (the guide's text when it is not there)."""
        try:
            on_disk = read_beside(self.path, self.base)
        except DockdojoError as error:
            self.status.value = note("error", error.what, error.hint)
            return False
        if on_disk is not None:
            self.text.value = on_disk
            if not quiet:
                self.status.value = note("info", f"{self.path} as it is on disk now.")
        elif not quiet:
            self.status.value = note(
                "info", f"There is no {self.path} yet: Save writes the text above."
            )
        return True

    def save(self) -> bool:
        def job() -> None:
            written = write_beside(self.path, self.text.value, self.base)
            size = human_bytes(len(self.text.value.encode("utf-8")))
            self.status.value = note("ok", f"Saved {self.path} ({size}) beside the notebook.")
            if self.on_saved is not None:
                self.on_saved(written)

        return self.worker.start(job, f"Saving {self.path}…")
