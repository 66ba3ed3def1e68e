"""Images: the Images tab, and Delete with the "in use" flow."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from dockdojo.runner import ContainerUse, Engine, ImageInUse, human_bytes

from .common import Worker, button, esc, note


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
            self.status.value = note("ok", f"Deleted {image}.")
            if self.on_deleted is not None:
                self.on_deleted(image)

        return self.worker.start(job, f"Deleting {image}…")

    def show_users(self, users: tuple[ContainerUse, ...]) -> None:
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
            image = self.engine.image(self.image.value)
            remaining = (
                []
                if image is None
                else [
                    ContainerUse(c.id, c.name, c.state)
                    for c in self.engine.containers()
                    if c.image_id == image.id
                ]
            )
            self.show_users(tuple(remaining))
            if remaining:
                self.status.value = note(
                    "info", f"{len(remaining)} container(s) still use {self.image.value}."
                )
            else:
                self.in_use_button.value = False
                self.status.value = note(
                    "info",
                    f"No container uses {self.image.value} now.",
                    "Select Delete again to remove the image.",
                )

        return self.worker.start(job)


class ImagesWidget(w.VBox):
    """The local images as a table, refreshable, with Run and Delete per row."""

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
        self.refresh()

    def refresh(self) -> bool:
        def job() -> None:
            rows = self.engine.images()
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
            self.status.value = note("info", f"{len(rows)} image(s) on {self.engine.host}.")

        return self.worker.start(job, "Reading the images…")

    def _run(self, image: str) -> None:
        if self.on_run is not None:
            self.on_run(image)
            return
        from .containers import RunWidget

        self.panel.children = [RunWidget(self.engine, image)]

    def _delete(self, image: str) -> None:
        panel = DeleteWidget(self.engine, image, on_deleted=lambda _: self.refresh())
        self.panel.children = [panel]
        panel.delete()
