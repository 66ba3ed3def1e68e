"""Images: the Images tab, and Delete with the "in use" flow."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from dockdojo.runner import ContainerUse, Engine, ImageInUse, LiveState, human_bytes, uses_image

from .common import Worker, button, esc, live, note, touch


class DeleteWidget(w.VBox):
    """Delete an image; when containers use it, list them with Stop and Delete."""

    def __init__(
        self, engine: Engine, image: str = "", *, on_deleted: Callable[[str], object] | None = None
    ) -> None:
        self.engine = engine
        self.on_deleted = on_deleted
        self.image = w.Text(value=image, description="Image")
        self.delete_button = button("Delete", "danger", "trash")
        self.delete_button.add_class("dojo-delete")
        self.in_use_button = w.ToggleButton(
            description="In use", icon="link", layout=w.Layout(width="auto", display="none")
        )
        self.in_use_button.add_class("dojo-in-use")
        self.users = w.VBox(layout=w.Layout(display="none"))
        self.status = w.HTML()
        self.worker = Worker(self.status, [self.delete_button])
        self.delete_button.on_click(lambda _: self.delete())
        self.in_use_button.observe(self._toggle, names="value")
        super().__init__(
            [w.HBox([self.image, self.delete_button, self.in_use_button]), self.status, self.users]
        )
        self._shown_users: tuple[ContainerUse, ...] | None = None
        self.live = live(engine)
        self.live.subscribe(self._follow, now=False)

    def _follow(self, state: LiveState) -> None:
        """Keep the In use list and its message as the engine is now."""
        if self._shown_users is None or state.snapshot is None:
            return
        image = state.snapshot.image(self.image.value.strip())
        users = (
            tuple(
                ContainerUse(c.id, c.name, c.state)
                for c in state.snapshot.containers
                if uses_image(c, image_id=image.id)
            )
            if image is not None
            else ()
        )
        if users != self._shown_users:
            self._show_remaining(users)

    def _toggle(self, change: dict[str, object]) -> None:
        self.users.layout.display = "" if change["new"] else "none"

    def delete(self) -> bool:
        image = self.image.value.strip()

        def job() -> None:
            try:
                self.engine.remove_image(image)
            except ImageInUse as exc:
                self.status.value = note("error", exc.what, exc.hint)
                self.show_users(exc.containers)
                return
            self.users.children = []
            self.in_use_button.layout.display = "none"
            self._shown_users = None
            self.status.value = note("ok", f"Deleted {image}.")
            touch(self.engine)
            if self.on_deleted is not None:
                self.on_deleted(image)

        return self.worker.start(job, f"Deleting {image}…")

    def show_users(self, users: tuple[ContainerUse, ...]) -> None:
        self._shown_users = users
        self.in_use_button.description = f"In use ({len(users)})"
        self.in_use_button.layout.display = ""
        rows = []
        for user in users:
            stop = button("Stop", icon="stop")
            remove = button("Delete", "danger", "trash")
            stop.add_class("dojo-stop")
            remove.add_class("dojo-delete-container")
            stop.disabled = user.status != "running"
            stop.on_click(lambda _, u=user: self._container_action(u, stop=True))
            remove.on_click(lambda _, u=user: self._container_action(u, stop=False))
            rows.append(
                w.HBox(
                    [w.HTML(f"<code>{esc(user.name)}</code> ({esc(user.status)})"), stop, remove]
                )
            )
        self.users.children = rows

    def _container_action(self, user: ContainerUse, *, stop: bool) -> bool:
        def job() -> None:
            if stop:
                self.engine.stop_container(user.id, timeout=5)
            else:
                self.engine.remove_container(user.id, force=True)
            touch(self.engine)  # the list and its message follow the live model

        return self.worker.start(job)

    def _show_remaining(self, remaining: tuple[ContainerUse, ...]) -> None:
        self.show_users(remaining)
        if remaining:
            self.status.value = note(
                "info", f"{len(remaining)} container(s) still use {self.image.value}."
            )
        else:
            self.in_use_button.value = False
            self.in_use_button.layout.display = "none"
            self._shown_users = None
            self.status.value = note(
                "info",
                f"No container uses {self.image.value} now.",
                "Select Delete again to remove the image.",
            )


class ImagesWidget(w.VBox):
    """The local images as a table that follows the engine, with Run and Delete per row."""

    def __init__(self, engine: Engine, *, on_run: Callable[[str], object] | None = None) -> None:
        self.engine = engine
        self.on_run = on_run
        self.refresh_button = button("Refresh", icon="refresh")
        self.table = w.GridBox(
            layout=w.Layout(
                grid_template_columns="repeat(8, auto)", grid_gap="2px 12px", align_items="center"
            )
        )
        self.status = w.HTML()
        self.panel = w.VBox()
        self.worker = Worker(self.status, [self.refresh_button])
        self.refresh_button.on_click(lambda _: self.refresh())
        super().__init__([w.HBox([self.refresh_button]), self.table, self.status, self.panel])
        self._rows: object = None
        self.live = live(engine)
        self.live.subscribe(self.show)
        if self.live.state.snapshot is None:
            self.show(self.live.state)

    def refresh(self) -> bool:
        """Read the engine now (it follows changes by itself; this is for the doubtful)."""
        return self.worker.start(lambda: self.show(self.live.refresh()), "Reading the images…")

    def show(self, state: LiveState) -> None:
        """Render the table from the live model's state."""
        if state.snapshot is None:
            self.status.value = note(
                "error",
                state.problem or "The engine cannot be read.",
                "Start Docker, then Refresh.",
            )
            return
        rows = state.snapshot.images
        key = tuple((r.name, r.id, r.containers) for r in rows)
        if key != self._rows:
            self._rows = key
            cells: list[w.Widget] = [
                w.HTML(f"<b>{h}</b>")
                for h in ("Name", "Tag", "Image ID", "Created", "Size", "In use", "", "")
            ]
            for row in rows:
                run = button("Run", icon="play")
                delete = button("Delete", icon="trash")
                run.on_click(lambda _, n=row.name: self._run(n))
                delete.on_click(lambda _, n=row.name: self._delete(n))
                in_use = f"In use ({row.containers})" if row.in_use else "Unused"
                cells += [
                    w.HTML(esc(row.repository)),
                    w.HTML(esc(row.tag)),
                    w.HTML(f"<code>{esc(row.short_id)}</code>"),
                    w.HTML(esc(f"{row.created:%Y-%m-%d %H:%M}")),
                    w.HTML(esc(human_bytes(row.size))),
                    w.HTML(esc(in_use)),
                    run,
                    delete,
                ]
            self.table.children = cells
        live_note = "" if state.connected else f" Not following changes: {state.problem}"
        self.status.value = note(
            "info" if state.connected else "error",
            f"{len(rows)} image(s) on {self.engine.host}.{live_note}",
        )

    def _run(self, image: str) -> None:
        if self.on_run is not None:
            self.on_run(image)
            return
        from .containers import RunWidget

        self.panel.children = [RunWidget(self.engine, image)]

    def _delete(self, image: str) -> None:
        panel = DeleteWidget(self.engine, image)
        self.panel.children = [panel]
        panel.delete()
