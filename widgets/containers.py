"""Run: the image's Play button with "Optional settings", and the container card after."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence

import ipywidgets as w

from dockdojo.runner import LABEL_LESSON, LABEL_STEP, ContainerInfo, DockdojoError, Engine

from .common import Worker, button, esc, note


def card_html(info: ContainerInfo, logs: str = "") -> str:
    """A container as the Containers tab shows it, with clickable port links."""
    links = (
        " ".join(
            f'<a href="{esc(p.url)}" target="_blank" rel="noopener" class="dojo-link">'
            f"{esc(p.host_port)}:{esc(p.container_port.split('/')[0])} ↗</a>"
            for p in info.ports
        )
        or "<i>no published ports</i>"
    )
    state = "🟢" if info.running else "⚪"
    html = (
        f'<div class="dojo-note dojo-info"><b>{esc(info.name)}</b> '
        f"<code>{esc(info.short_id)}</code> {state} {esc(info.state)} · image "
        f"<code>{esc(info.image)}</code> · ports: {links}"
    )
    if logs.strip():
        html += f'<pre class="dojo-term">{esc(logs.rstrip())}</pre>'
    return html + "</div>"


class ContainerCard(w.VBox):
    """One container: name, id, status, port links and its last log lines."""

    def __init__(self, engine: Engine, info: ContainerInfo) -> None:
        self.engine = engine
        self.info = info
        self.html = w.HTML()
        self.refresh_button = button("Refresh", icon="refresh")
        self.status = w.HTML()
        self.worker = Worker(self.status, [self.refresh_button])
        self.refresh_button.on_click(lambda _: self.refresh())
        super().__init__([self.html, w.HBox([self.refresh_button]), self.status])
        self.show(info, "")

    def show(self, info: ContainerInfo, logs: str) -> None:
        self.info = info
        self.html.value = card_html(info, logs)

    def refresh(self) -> bool:
        def job() -> None:
            info = self.engine.container(self.info.id)
            self.show(info, self.engine.logs(info.id, tail=5))
            self.status.value = ""

        return self.worker.start(job)


class RunWidget(w.VBox):
    """Run a container from an image with the guide's optional settings."""

    def __init__(
        self,
        engine: Engine,
        image: str = "",
        *,
        name: str = "",
        ports: Mapping[str | int, int | str | None] | None = None,
        env: Mapping[str, str] | None = None,
        command: Sequence[str] | None = None,
        step: str | None = None,
        on_run: Callable[[ContainerInfo], object] | None = None,
    ) -> None:
        self.engine = engine
        self.step = step
        self.on_run = on_run
        self.declared_ports = {
            str(k) if "/" in str(k) else f"{k}/tcp": v for k, v in (ports or {}).items()
        }
        self.image = w.Text(value=image, description="Image", layout=w.Layout(width="320px"))
        self.name = w.Text(value=name, description="Name", placeholder="empty: Docker picks a name")
        self.ports_box = w.VBox()
        self.command = w.Text(
            value=shlex.join(command) if command else "",
            description="Command",
            placeholder="empty: the image's default",
        )
        self.env = w.Textarea(
            value="\n".join(f"{k}={v}" for k, v in (env or {}).items()),
            description="Env",
            placeholder="KEY=value, one per line",
        )
        settings = w.VBox([self.name, self.ports_box, self.env, self.command])
        self.settings = w.Accordion(children=[settings], selected_index=0 if ports else None)
        self.settings.set_title(0, "Optional settings")
        self.run_button = button("Run", "primary", "play")
        self.cards = w.VBox()
        self.status = w.HTML()
        self.worker = Worker(self.status, [self.run_button])
        self.run_button.on_click(lambda _: self.run())
        super().__init__(
            [w.HBox([self.image, self.run_button]), self.settings, self.status, self.cards]
        )
        self._port_fields: dict[str, w.Text] = {}
        self.load_ports()
        self.reattach()

    def load_ports(self) -> None:
        """One host-port field per port the image exposes (empty or 0: random)."""
        try:
            exposed = self.engine.exposed_ports(self.image.value) if self.image.value else []
        except DockdojoError:
            exposed = []
        wanted = list(dict.fromkeys([*exposed, *self.declared_ports]))
        self._port_fields = {}
        rows = []
        for port in wanted:
            value = self.declared_ports.get(port)
            field = w.Text(
                value="" if value is None else str(value),
                description=f"Host port for {port}",
                placeholder="0 or empty: random",
                style={"description_width": "initial"},
            )
            self._port_fields[port] = field
            rows.append(field)
        self.ports_box.children = rows

    def reattach(self) -> None:
        """After a kernel restart, show this step's containers instead of making new ones."""
        if not self.step:
            return
        try:
            found = self.engine.containers(
                labels={LABEL_LESSON: self.engine.lesson, LABEL_STEP: self.step}
            )
        except DockdojoError as exc:
            self.status.value = note("error", exc.what, exc.hint)
            return
        if found:
            self.cards.children = [ContainerCard(self.engine, c) for c in found]
            self.status.value = note(
                "info",
                f"This step already has {len(found)} container(s); they are shown below.",
                "Run starts another one.",
            )

    def settings_values(self) -> tuple[dict[str | int, int | str | None], dict[str, str]]:
        ports: dict[str | int, int | str | None] = {
            port: field.value.strip() or None for port, field in self._port_fields.items()
        }
        env: dict[str, str] = {}
        for line in self.env.value.splitlines():
            if line.strip():
                key, eq, value = line.partition("=")
                if not eq or not key.strip():
                    raise DockdojoError(
                        f"Environment line {line!r} is not KEY=value.",
                        "Write one variable per line, e.g. GREETING=hello.",
                    )
                env[key.strip()] = value
        return ports, env

    def run(self) -> bool:
        image = self.image.value.strip()

        def job() -> None:
            if not self._port_fields:
                self.load_ports()
            ports, env = self.settings_values()
            command = shlex.split(self.command.value) if self.command.value.strip() else None
            info = self.engine.run(
                image,
                name=self.name.value.strip() or None,
                ports=ports,
                env=env,
                command=command,
                step=self.step,
            )
            self.cards.children = [ContainerCard(self.engine, info), *self.cards.children]
            links = ", ".join(info.links)
            self.status.value = note(
                "ok", f"Started {info.name} from {image}." + (f" Open {links}" if links else "")
            )
            if self.on_run is not None:
                self.on_run(info)

        return self.worker.start(job, f"Starting a container from {image}…")
