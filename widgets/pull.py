"""Pull: the guide's search menu and Pull button, with a progress bar."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import ipywidgets as w

from dockdojo.runner import Engine, ImageInfo, PullProgress, human_bytes

from .common import EnterField, Worker, button, esc, note, synchronous, touch

NO_NAME = note("error", "Type an image name first.", "For example: redis")
TYPED_SETTLE = 0.5
"""Seconds a Pull of what is typed waits for the field's last edit (:meth:`PullWidget.typed`)."""


class PullWidget(w.VBox):
    """Search for an image, pull it, and watch the layers arrive."""

    def __init__(
        self,
        engine: Engine,
        images: Sequence[str] = (),
        *,
        on_pulled: Callable[[ImageInfo], object] | None = None,
    ) -> None:
        self.engine = engine
        self.on_pulled = on_pulled
        self._pulling = ""
        self.query = w.Text(
            placeholder="Search images, e.g. nginx",
            value=images[0] if images else "",
            layout=w.Layout(width="280px"),
            continuous_update=False,
        )
        self.search_button = button("Search", icon="search")
        self.pull_button = button("Pull", "primary", "download")
        self.quick = [button(f"Pull {name}", icon="download") for name in images]
        self.results = w.VBox()
        self.bar = w.FloatProgress(
            value=0.0,
            min=0.0,
            max=1.0,
            description="",
            layout=w.Layout(width="280px", visibility="hidden"),
        )
        self.detail = w.HTML()
        self.status = w.HTML()
        # Pull buttons stay clickable during a search (a click then waits for it); they
        # are disabled only while a pull runs
        self.worker = Worker(self.status, [self.search_button])
        self.search_button.on_click(lambda _: self.search())
        self.pull_button.on_click(lambda _: self.pull(self.typed))
        self.entry = EnterField(self.query, lambda _: self.search())  # Enter searches
        for name, quick in zip(images, self.quick, strict=True):
            quick.on_click(lambda _, n=name: self.pull(n))
        super().__init__(
            [
                w.HBox([self.query, self.search_button, self.pull_button]),
                w.HBox(self.quick),
                self.results,
                w.HBox([self.bar, self.detail]),
                self.status,
            ]
        )

    def search(self) -> bool:
        term = self.query.value

        def job() -> None:
            hits = self.engine.search(term)
            rows = []
            for hit in hits:
                pull = button("Pull", icon="download")
                pull.on_click(lambda _, n=hit.name: self.pull(n))
                label = f"<b>{esc(hit.name)}</b>" + (" ✔ official" if hit.official else "")
                if hit.description:
                    label += f" — {esc(hit.description)}"
                rows.append(w.HBox([pull, w.HTML(label)]))
            self.results.children = rows
            source = hits[0].source if hits else ""
            self.status.value = (
                note("info", f"{len(hits)} result(s) from {source}.")
                if hits
                else note(
                    "info", f"Nothing found for {term!r}.", "Pulling by exact name still works."
                )
            )

        return self.worker.start(job, f"Searching for {term!r}…")

    def typed(self) -> str:
        """What the search field holds once the learner's last edit has arrived: the
        browser sends a field's new value only after its previous update is acknowledged,
        but a click at once, so a click can reach the kernel before the text typed just
        before it. The name is read a moment after the click."""
        if not synchronous():
            time.sleep(TYPED_SETTLE)
        return str(self.query.value)

    def pull(self, image: str | Callable[[], str]) -> bool:
        """Pull ``image`` (a name, or :meth:`typed`) in the background. A click while the
        widget is busy is not lost: the pull starts when the current search ends (a pull
        already running is not interrupted, and the click says so)."""
        shown = image.strip() if isinstance(image, str) else "what you typed"
        if not shown:
            self.status.value = NO_NAME
            return False
        if self._pulling:
            self.status.value = note(
                "busy", f"Still pulling {self._pulling}; select Pull {shown} again after it."
            )
            return False

        def show(progress: PullProgress) -> None:
            self.bar.value = progress.fraction
            self.detail.value = esc(progress.describe())

        def job() -> None:
            name = image.strip() if isinstance(image, str) else image().strip()
            if not name:
                self.status.value = NO_NAME
                return
            self._pulling = name
            self.status.value = note("busy", f"Pulling {name}…")
            self._pull(name, show)

        return self.worker.start(
            job, f"Pulling {shown}…", queue=f"Still searching: pulling {shown}, next."
        )

    def _pull(self, image: str, show: Callable[[PullProgress], None]) -> None:
        for pull_button in (self.pull_button, *self.quick):
            pull_button.disabled = True
        self.entry.set(image)
        self.bar.value = 0.0
        self.bar.layout.visibility = "visible"
        self.bar.bar_style = ""
        try:
            info = self.engine.pull(image, show)
        except Exception:
            self.bar.bar_style = "danger"
            raise
        finally:
            self._pulling = ""
            for pull_button in (self.pull_button, *self.quick):
                pull_button.disabled = False
        self.bar.bar_style = "success"
        self.status.value = note(
            "ok", f"Pulled {info.name}: image id {info.short_id}, {human_bytes(info.size)}."
        )
        touch(self.engine)
        if self.on_pulled is not None:
            self.on_pulled(info)
