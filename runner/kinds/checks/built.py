"""Checks of what was built here: an image built from a Dockerfile (``image_built``) and
a Compose project whose services run (``compose_running``).

An image is known by its content, never by its name: ``docker tag node:21 web`` makes a
name, not a build. ``image_built`` asks what the image is made of:

- a tagged image that was pulled as another repository (its repository digests name
  it) is that image renamed;
- with ``base``, its layers must begin with the layers of the genuine base image (the
  one pulled from the lesson's registry, :func:`.trust.forged_image`), and it must have
  steps of its own on top: an image built ``FROM scratch`` with files copied in, or
  the base image renamed, does not count;
- with ``runs``, its history must show those commands (``npm ci``): the Dockerfile's
  own steps, not any other build on the same base.

``compose_running`` reads the labels every Compose puts on its containers
(``com.docker.compose.project`` and ``.service``), so ``docker compose``, the older
``docker-compose`` and the lesson's Compose up all count.
"""

from __future__ import annotations

from typing import Any

from ...engine import ContainerInfo, compose_projects, image_layers, parse_ref
from ...engine.provenance import pulled_as
from ...errors import InvalidReference
from ...text import few, plural
from ..base import Call, Seen
from .targets import _familiar, _states, by_history
from .trust import forged_image


def _image_built(call: Call) -> Seen:
    ref = _familiar(str(call.args["image"]))
    image = call.ctx.snapshot.image(ref)
    evidence: dict[str, Any] = {"image": ref}
    if image is None:
        return Seen(
            False,
            f"There is no image {ref} on the engine: build it (docker build -t {ref} "
            "FOLDER, in the folder with the Dockerfile, or the step's Build).",
            evidence,
        )
    evidence["id"] = image.short_id
    own = parse_ref(ref).repository
    others = [d for d in image.digests if _repository(d) != own]
    if others:
        return Seen(
            False,
            f"{ref} is not an image built here: {pulled_as(image.digests)} and was given "
            f"the name {ref} (docker tag). Remove it (docker rmi {ref}) and build it from "
            "its folder.",
            evidence,
        )
    layers = image_layers(call.ctx.engine, image.id)
    if layers is None:
        return Seen(False, f"{ref} was removed while it was being checked.", evidence)
    evidence["steps"] = len(layers.history)
    if call.args.get("base"):
        refused = _on_base(call, ref, layers.layers, len(layers.history), evidence)
        if refused:
            return Seen(False, refused, evidence)
    missing = [r for r in call.args.get("runs") or () if not any(r in h for h in layers.history)]
    if missing:
        return Seen(
            False,
            f"{ref} was built, but not from the lesson's Dockerfile: its history has no step "
            f"that runs {', '.join(repr(m) for m in missing)}. Build it from its folder "
            f"(docker build -t {ref} FOLDER).",
            {**evidence, "history": list(layers.history[-8:])},
        )
    on = f" on {call.args['base']}" if call.args.get("base") else ""
    # its Dockerfile's steps: not its base's, nor the LABEL steps dockdojo's labels add
    mine = [h for h in layers.history[evidence.get("base_steps", 0) :] if _LABELS not in h]
    return Seen(
        True,
        f"{ref} was built here (image {image.short_id}){on}, "
        f"{plural(len(mine), 'step')} of its own.",
        evidence,
    )


_LABELS = "LABEL dockdojo."


def _repository(digest: str) -> str | None:
    try:
        return parse_ref(digest).repository
    except InvalidReference:
        return None


def _on_base(
    call: Call, ref: str, layers: tuple[str, ...], steps: int, evidence: dict[str, Any]
) -> str | None:
    """Why the image whose layers are ``layers`` is not built on the step's base, or None."""
    base = _familiar(str(call.args["base"]))
    base_image = call.ctx.snapshot.image(base)
    if base_image is None:
        return (
            f"{ref} is on the engine, but its base image {base} is not, so what it was built "
            f"on cannot be told: pull {base} (docker pull {base}) and build {ref} again."
        )
    forged = forged_image(call, base, base_image)
    if forged:
        return forged
    below = image_layers(call.ctx.engine, base_image.id)
    if below is None:
        return f"{base} was removed while {ref} was being checked."
    evidence["base_steps"] = len(below.history)
    if layers[: len(below.layers)] != below.layers:
        return (
            f"{ref} is not built on {base}: its layers do not start with {base}'s. Build it "
            f"from the lesson's Dockerfile (FROM {base})."
        )
    if steps <= len(below.history):
        return f"{ref} is {base} itself under another name: nothing was built on top of it."
    return None


def _compose_running(call: Call) -> Seen:
    wanted = [str(s) for s in call.args["services"]]
    name = str(call.args["project"]) if call.args.get("project") else None
    projects = compose_projects(call.ctx.snapshot.containers)
    mine = [p for p in projects if name is None or p.name == name]
    evidence: dict[str, Any] = {
        "services": wanted,
        "projects": {p.name: sorted(p.running()) for p in projects},
    }
    for project in mine:
        if set(wanted) <= project.running():
            running = [c for s in wanted for c in project.services[s] if c.running]
            return Seen(
                True,
                f"The Compose project {project.name} runs {', '.join(wanted)} "
                f"({_states(running, state=False)}).",
                evidence,
            )
    what = ", ".join(wanted)
    start = "Start it with docker compose up -d --build in the folder with compose.yaml"
    if not mine:
        where = f"named {name} " if name else ""
        others = f" (running projects: {few([p.name for p in projects])})" if projects else ""
        return Seen(
            False,
            f"No Compose project {where}is up{others}, so {what} "
            f"{'is' if len(wanted) == 1 else 'are'} not running: compose down removes "
            f"them, or up was never run. {start}.",
            evidence,
        )
    best = max(mine, key=lambda p: len(set(wanted) & p.running()))
    down = [s for s in wanted if s not in best.running()]
    return Seen(
        False,
        f"The Compose project {best.name} does not run {', '.join(down)}"
        f"{_stopped(best.services, down)}. {start} (or read the logs of what stopped: "
        "docker compose logs).",
        evidence,
    )


def _compose_removed(call: Call) -> Seen:
    name = str(call.args["project"])
    project = next(
        (p for p in compose_projects(call.ctx.snapshot.containers) if p.name == name), None
    )
    if project is None:
        history = call.ctx.engine.history()
        # Compose names its containers PROJECT_SERVICE_N (v1) or PROJECT-SERVICE-N (v2)
        gone = any(n.startswith((f"{name}_", f"{name}-")) for _, n in history.removals)
        return by_history(
            history,
            gone,
            {"project": name},
            done=f"No container of the Compose project {name} remains.",
            unknown=f"No container of the Compose project {name} is here. Whether it ran and "
            "was taken down",
            never=f"No container of the Compose project {name} is here, but none was ever "
            f"removed: it was never up ({history.source} shows none removed). Start it with "
            "docker compose up -d --build first.",
        )
    left = [c for found in project.services.values() for c in found]
    return Seen(
        False,
        f"The Compose project {name} still has {plural(len(left), 'container')}: "
        f"{_states(left)}. Take it down with docker compose down in the folder with "
        "compose.yaml (stopping them is not enough: down removes them, and its network).",
        {"project": name, "containers": [c.name for c in left]},
    )


def _stopped(services: dict[str, tuple[ContainerInfo, ...]], names: list[str]) -> str:
    found = [c for n in names for c in services.get(n, ())]
    return f" ({_states(found)})" if found else " (no container of it exists)"


__all__: list[str] = []
