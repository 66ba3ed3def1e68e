"""What a step needs from an earlier lesson (an image it pulled), said when it is missing,
with the Pull that fixes it."""

from __future__ import annotations

import ipywidgets as w

from dockdojo.runner import DockdojoError, Engine, Step

from .common import note
from .pull import PullWidget


def missing_images(engine: Engine, step: Step) -> list[str]:
    """The step's needed images the engine does not have (none when it cannot be asked:
    the step's own widget then says what is wrong)."""
    missing = []
    for image in step.needs:
        try:
            if engine.image(image) is None:
                missing.append(image)
        except DockdojoError:
            return []
    return missing


class NeedsBox(w.VBox):
    """Empty when the engine has what the step needs; else a note naming the missing
    images and the lesson that pulls them, and a Pull for them (the box empties once
    they are here)."""

    def __init__(self, engine: Engine, step: Step) -> None:
        self.engine = engine
        self.step = step
        self.missing = missing_images(engine, step)
        super().__init__(self._children())

    def _children(self) -> list[w.Widget]:
        if not self.missing:
            return []
        images = ", ".join(self.missing)
        where = (
            f"the lesson {self.step.needs_lesson} pulls"
            if self.step.needs_lesson
            else "an earlier lesson pulls"
        )
        return [
            w.HTML(
                note(
                    "info",
                    f"This step needs {images}, which {where}; it is not on your engine.",
                    "Pull it here (or docker pull " + " ".join(self.missing) + "), then go on.",
                )
            ),
            PullWidget(self.engine, self.missing, on_pulled=lambda _: self.refresh()),
        ]

    def refresh(self) -> None:
        """Look again; empty the box once nothing is missing."""
        self.missing = missing_images(self.engine, self.step)
        if not self.missing:
            self.children = ()
