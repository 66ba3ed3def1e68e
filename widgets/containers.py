"""Run: the image's Play button with "Optional settings", and the container card after."""

from __future__ import annotations

import shlex
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as w

from dockdojo.runner import (
    ContainerInfo,
    DockdojoError,
    Engine,
    LiveState,
    PortLink,
    RunSettings,
    parse_env_lines,
    port_key,
    settings_from_args,
    uses_image,
)

from .common import Worker, button, esc, live, note, synchronous, touch

PROBE_SECONDS = 5.0
"""How long a card waits for a new container's published port to answer."""
HTTP_ANSWER = b"HTTP/"


def card_html(info: ContainerInfo, logs: str = "", web: Mapping[int, bool] | None = None) -> str:
    """A container as the Containers tab shows it. A published port is a link when it
    answers HTTP (``web``: host port -> whether it does; unknown ports are links)."""
    shown = []
    for p in info.ports:
        target = f"{p.host_port}:{p.container_port.split('/')[0]}"
        if web is not None and web.get(p.host_port) is False:
            shown.append(
                f'<span class="dojo-port">host port {esc(p.host_port)} '
                f"({esc(p.container_port)}, not a web page)</span>"
            )
        else:
            shown.append(
                f'<a href="{esc(p.url)}" target="_blank" rel="noopener" class="dojo-link">'
                f"{esc(target)} ↗</a>"
            )
    links = " ".join(shown) or "<i>no published ports</i>"
    state = "🟢" if info.running else "⚪"
    html = (
        f'<div class="dojo-note dojo-info"><b>{esc(info.name)}</b> '
        f"<code>{esc(info.short_id)}</code> {state} {esc(info.state)} · image "
        f"<code>{esc(info.image)}</code> · ports: {links}"
    )
    if logs.strip():
        html += f'<pre class="dojo-term">{esc(logs.rstrip())}</pre>'
    return html + "</div>"


def answers_http(port: int, host: str = "127.0.0.1", timeout: float = 1.5) -> bool | None:
    """Whether ``host:port`` answers an HTTP request (any status): True; False when
    something answers that is not a web server (redis answers ``-ERR``); None when
    nothing answers yet.

    Docker's port proxy accepts a connection before the server in the container
    listens, then closes it without a byte: that is "not yet". The request names no
    host, so that redis answers it rather than hanging up on a ``Host:`` line."""
    first = b""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
            while len(first) < len(HTTP_ANSWER):
                more = connection.recv(len(HTTP_ANSWER) - len(first))
                if not more:
                    break
                first += more
    except OSError:
        pass  # refused, reset or silent: read what came, if anything
    if not first:
        return None
    return HTTP_ANSWER.startswith(first)


def gone_html(info: ContainerInfo) -> str:
    """A container that no longer exists: said plainly, without its old links."""
    return (
        f'<div class="dojo-note dojo-gone"><b>{esc(info.name)}</b> '
        f"<code>{esc(info.short_id)}</code> was deleted (docker rm, Docker Desktop or "
        "another widget). Run starts a new one.</div>"
    )


class ContainerCard(w.VBox):
    """One container: name, id, status, port links and its last log lines, as the engine
    has it now (it follows the live model; Refresh also reads its logs)."""

    def __init__(self, engine: Engine, info: ContainerInfo) -> None:
        self.engine = engine
        self.info = info
        self.gone = False
        self.logs = ""
        self.web: dict[int, bool] = {}
        self.probing: set[int] = set()
        self.html = w.HTML()
        self.refresh_button = button("Refresh", icon="refresh")
        self.status = w.HTML()
        self.worker = Worker(self.status, [self.refresh_button])
        self.refresh_button.on_click(lambda _: self.refresh())
        super().__init__([self.html, w.HBox([self.refresh_button]), self.status])
        self.add_class("dojo-card")
        self.show(info, "")
        self.unsubscribe = live(engine).subscribe(self.follow, now=False)

    def show(self, info: ContainerInfo, logs: str) -> None:
        self.info = info
        self.logs = logs
        self.html.value = card_html(info, logs, self.web)
        unknown = [p for p in info.ports if p.host_port not in self.web]
        if unknown and info.running:
            self._probe(unknown)

    def _probe(self, links: list[PortLink]) -> None:
        """Find which published ports are web pages (a server may need a moment; one
        that has still not answered HTTP after ``PROBE_SECONDS`` is no web page)."""
        links = [link for link in links if link.host_port not in self.probing]
        if not links:
            return
        self.probing.update(link.host_port for link in links)

        def probe() -> None:
            deadline = time.monotonic() + PROBE_SECONDS
            try:
                for link in links:
                    found = answers_http(link.host_port, link.reach)
                    while found is None and time.monotonic() < deadline:
                        time.sleep(0.25)
                        found = answers_http(link.host_port, link.reach)
                    self.web[link.host_port] = bool(found)
            finally:
                self.probing.difference_update(link.host_port for link in links)
            self.html.value = card_html(self.info, self.logs, self.web)

        if synchronous():
            probe()
        else:
            threading.Thread(target=probe, name="dockdojo-port-probe", daemon=True).start()

    def follow(self, state: LiveState) -> None:
        """Show the container as the engine has it now, or that it is gone."""
        if state.snapshot is None:
            return
        now = next((c for c in state.snapshot.containers if c.id == self.info.id), None)
        if now is None:
            if not self.gone:
                self.gone = True
                self.html.value = gone_html(self.info)
                self.refresh_button.layout.display = "none"
                self.status.value = ""
            return
        if now != self.info or self.gone:
            self.gone = False
            self.refresh_button.layout.display = ""
            self.show(now, self.logs)

    def refresh(self) -> bool:
        def job() -> None:
            try:
                info = self.engine.container(self.info.id)
            except DockdojoError:
                self.gone = True
                self.html.value = gone_html(self.info)
                self.status.value = ""
                return
            self.show(info, self.engine.logs(info.id, tail=5))
            self.status.value = ""

        return self.worker.start(job)


class MoreSettings:
    """The rest of ``docker run``'s settings the guides use, as fields: volumes and bind
    mounts (one ``SOURCE:TARGET[:ro]`` a line), and, folded, -P, --env-file, --memory,
    --cpus, --entrypoint, --network with its aliases, and -h."""

    def __init__(self, declared: Mapping[str, Any]) -> None:
        def text(key: str, label: str, hint: str) -> w.Text:
            value = declared.get(key)
            shown = " ".join(str(v) for v in value) if isinstance(value, list) else value
            return w.Text(
                value="" if shown is None else str(shown),
                description=label,
                placeholder=hint,
                style={"description_width": "initial"},
            )

        self.volumes = w.Textarea(
            value="\n".join(str(m) for m in declared.get("mounts") or ()),
            description="Volumes",
            placeholder="NAME:/path (a volume) or ./folder:/path[:ro], one per line",
        )
        self.publish_all = w.Checkbox(
            value=bool(declared.get("publish_all")),
            description="Publish every exposed port on a random host port (-P)",
            indent=False,
        )
        self.fields = {
            "env_file": text("env_file", "Env file", "e.g. .env, beside the notebook"),
            "memory": text("memory", "Memory limit", "e.g. 512m"),
            "cpus": text("cpus", "CPUs", "e.g. 0.5"),
            "entrypoint": text("entrypoint", "Entrypoint", "empty: the image's"),
            "network": text("network", "Network", "empty: the default bridge"),
            "aliases": text("aliases", "Network aliases", "names, separated by spaces"),
            "hostname": text("hostname", "Hostname", "empty: the container's id"),
        }
        inner = w.VBox([self.publish_all, *self.fields.values()])
        self.declared = any(declared.get(k) for k in ("publish_all", "mounts", *self.fields))
        folded = not any(declared.get(k) for k in ("publish_all", *self.fields))
        self.box = w.Accordion(children=[inner], selected_index=None if folded else 0)
        self.box.set_title(0, "More settings (docker run flags)")

    def values(self) -> dict[str, Any]:
        """The fields as a ``run`` step's parameters."""
        out: dict[str, Any] = {
            key: field.value.strip() for key, field in self.fields.items() if field.value.strip()
        }
        for key in ("entrypoint", "aliases"):
            if key in out:
                out[key] = shlex.split(out[key])
        out["publish_all"] = self.publish_all.value
        out["mounts"] = [line.strip() for line in self.volumes.value.splitlines() if line.strip()]
        return out


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
        mounts: Sequence[str] | None = None,
        step: str | None = None,
        on_run: Callable[[ContainerInfo], object] | None = None,
        more: Mapping[str, Any] | None = None,
    ) -> None:
        self.engine = engine
        self.step = step
        self.on_run = on_run
        self.declared_ports = {port_key(k): v for k, v in (ports or {}).items()}
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
        declared_more = {**(more or {}), **({"mounts": list(mounts)} if mounts else {})}
        self.more = MoreSettings(declared_more)
        self.volumes = self.more.volumes
        settings = w.VBox([self.name, self.ports_box, self.more.volumes, self.env, self.more.box])
        declared = bool(ports or env or command or self.more.declared)
        self.settings = w.Accordion(children=[settings], selected_index=0 if declared else None)
        self.settings.set_title(0, "Optional settings")
        self.run_button = button("Run", "primary", "play")
        self.run_button.add_class("dojo-run")
        self.another_button = button("Run another", "warning", "play")
        self.another_button.add_class("dojo-run-another")
        self.cancel_button = button("Cancel", icon="times")
        self.confirm = w.HBox(
            [w.HTML(), self.another_button, self.cancel_button], layout=w.Layout(display="none")
        )
        self.confirm.add_class("dojo-confirm")
        self.cards = w.VBox()
        self.status = w.HTML()
        self.worker = Worker(self.status, [self.run_button, self.another_button])
        self.run_button.on_click(lambda _: self.run())
        self.another_button.on_click(lambda _: self.run(again=True))
        self.cancel_button.on_click(lambda _: self._ask(None))
        super().__init__(
            [
                w.HBox([self.image, self.run_button]),
                self.settings,
                self.status,
                self.confirm,  # below the note it asks about ("Started web…: run another?")
                self.cards,
            ]
        )
        self._port_fields: dict[str, w.Text] = {}
        self._noted: set[str] = set()
        """Ids of the containers the status note speaks of (it goes when they all do)."""
        self.load_ports()
        self.reattach()
        live(engine).subscribe(self._follow, now=False)

    def _follow(self, state: LiveState) -> None:
        """A note about containers that are all gone now says nothing true: it goes."""
        if state.snapshot is None or not self._noted or self.worker.busy:
            return
        if not self._noted & {c.id for c in state.snapshot.containers}:
            self._noted = set()
            self.status.value = ""
            self._ask(None)

    def load_ports(self) -> None:
        """One host-port field per port the image exposes (empty: not published, as in
        Docker Desktop; 0: a random port)."""
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
                placeholder="empty: not published; 0: random",
                style={"description_width": "initial"},
            )
            self._port_fields[port] = field
            rows.append(field)
        self.ports_box.children = rows

    def reattach(self) -> None:
        """After a kernel restart, show this step's containers (and, on the learner's own
        engine, the running containers of its image, however they were started) instead
        of making new ones."""
        state = live(self.engine).state
        if state.snapshot is None:
            if state.problem:
                self.status.value = note("error", state.problem, "Start Docker, then run again.")
            return
        image = state.snapshot.image(self.image.value) if self.image.value else None
        found = [
            c
            for c in state.snapshot.containers
            if (self.step and self.engine.ownership.made_for(c, self.step))
            or (c.running and image is not None and uses_image(c, image_id=image.id))
        ]
        if found:
            self.cards.children = [ContainerCard(self.engine, c) for c in found]
            self._noted = {c.id for c in found}
            self.status.value = note(
                "info",
                f"{len(found)} container(s) of {self.image.value} are already here; "
                "they are shown below.",
                "Run starts another one.",
            )

    def running_twins(self) -> list[ContainerInfo]:
        """Running containers of this widget's image."""
        state = live(self.engine).state
        if state.snapshot is None or not self.image.value.strip():
            return []
        image = state.snapshot.image(self.image.value.strip())
        if image is None:
            return []
        return [
            c for c in state.snapshot.containers if c.running and uses_image(c, image_id=image.id)
        ]

    def _ask(self, question: str | None) -> None:
        if question is None:
            self.confirm.layout.display = "none"
            return
        label = self.confirm.children[0]
        assert isinstance(label, w.HTML)
        label.value = note("info", question)
        self.confirm.layout.display = ""

    def settings_values(self) -> tuple[dict[str | int, int | str | None], dict[str, str]]:
        ports: dict[str | int, int | str | None] = {  # empty: not published
            port: field.value.strip()
            for port, field in self._port_fields.items()
            if field.value.strip()
        }
        env = parse_env_lines(self.env.value)
        return ports, env

    def run_settings(self) -> RunSettings:
        """The fields as ``docker run``'s settings (a bad field raises, saying how)."""
        ports, env = self.settings_values()
        args: dict[str, Any] = {
            "name": self.name.value.strip(),
            "ports": ports,
            "env": env,
            "command": shlex.split(self.command.value) if self.command.value.strip() else None,
            **self.more.values(),
        }
        return settings_from_args(args)

    def run(self, *, again: bool = False) -> bool:
        """Start a container; in a lesson's step, when one of the image runs already, ask
        first (unless ``again``: the learner said to run another)."""
        image = self.image.value.strip()
        twins = [] if again or not self.step else self.running_twins()
        if twins:
            names = ", ".join(c.name for c in twins)
            self._ask(f"{image} already runs as {names}: run another?")
            return False
        self._ask(None)

        def job() -> None:
            if not self._port_fields:
                self.load_ports()
            info = self.engine.run(image, step=self.step, settings=self.run_settings())
            self.cards.children = [ContainerCard(self.engine, info), *self.cards.children]
            self._noted = {info.id}
            touch(self.engine)
            links = ", ".join(info.links)
            self.status.value = note(
                "ok", f"Started {info.name} from {image}." + (f" Open {links}" if links else "")
            )
            if self.on_run is not None:
                self.on_run(info)

        return self.worker.start(job, f"Starting a container from {image}…")
