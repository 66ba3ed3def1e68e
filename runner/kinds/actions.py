"""Every action kind: what it does on the engine, how it describes itself, which widget
offers it; one entry of :data:`ACTIONS` each.

What an action may touch follows the project's rule: dockdojo removes only what it
labelled, except in a step that is the learner's own delete (``remove-image``,
``remove-container``, ``volume-remove``).

- ``run`` labels its container with the lesson and step. Performing it again replaces the
  container this step made before (same name, or, without a name, the same lesson, step
  and learner labels); a container of the requested name that dockdojo did not make for
  this step is left alone and reported (:class:`~dockdojo.runner.errors.NameInUse`).
- ``build``, ``compose-up`` and ``compose-down`` work on the lesson's own folders
  (:mod:`.projects`); a built image carries the lesson and step labels.
- ``remove-image`` tries the removal; when containers use the image it removes exactly
  the containers the engine's refusal lists, then the image.
- ``volume-remove`` likewise removes the containers that mount the volume, then the
  volume (the learner's own delete, as ``docker rm -f`` then ``docker volume rm``);
  ``volume-prune`` removes only the learner's volumes that no container mounts.
- ``volume-create`` and ``network-create`` label what they make with the lesson and step;
  one that exists already is kept as it is.

On a shared engine, ``run`` and ``remove-image`` see only this learner's containers (the
engine layer's :class:`~dockdojo.runner.engine.Ownership`): another learner's container of
the same name is never replaced, and an image another learner still uses is refused, not
cleared.

The volume and network kinds live in :mod:`.store_actions`. To add an action kind, write
its functions here (or in a module of its own) and add its entry to :data:`ACTIONS`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from typing import Any

from ..authoring.declarations import Param
from ..authoring.model import Lesson, Step
from ..beside import write_beside
from ..engine import (
    ContainerInfo,
    Engine,
    Snapshot,
    normalize,
    prefer_lesson,
    settings_from_args,
)
from ..errors import (
    ContainerNotFound,
    ContainerNotRunning,
    DockdojoError,
    ExecTimeout,
    ImageInUse,
    ImageNotFound,
    NameInUse,
    PortInUse,
)
from ..text import human_bytes, plural
from .base import ActionKind, table
from .projects import build_step, compose_step
from .store_actions import STORE_ACTIONS

SESSION_TIMEOUT = 60.0
"""Seconds an exec action may spend waiting for its program to be ready."""
PROMPT_TIMEOUT = 20.0
"""Seconds to wait for the prompt after typing one line."""
RUN_WAIT_TIMEOUT = 120.0
"""Seconds a run with ``wait`` waits for its container to end (as ``docker run`` does
without ``-d``)."""


def _pull(engine: Engine, _lesson: Lesson, _step: Step, args: Mapping[str, Any]) -> str:
    pulled = [engine.pull(str(image)).name for image in args["images"]]
    return f"Pulled {', '.join(pulled)}."


def _images(engine: Engine, _lesson: Lesson, _step: Step, _args: Mapping[str, Any]) -> str:
    names = sorted({row.name for row in engine.images()})
    return f"The engine has {plural(len(names), 'image')}: {', '.join(names) or 'none'}."


def _run(engine: Engine, lesson: Lesson, step: Step, args: Mapping[str, Any]) -> str:
    image = str(args["image"])
    name = str(args["name"]) if args.get("name") else None
    ownership = engine.ownership
    if name is not None:
        try:
            existing = engine.container(name)
        except ContainerNotFound:
            existing = None
        if existing is not None:
            if not ownership.made_for(existing, step.id, lesson=lesson.id):
                raise NameInUse(
                    f"A container named {name!r} already exists and dockdojo did not make "
                    f"it for step {step.id} of {lesson.id}, so it was left alone.",
                    f"Remove or rename it yourself (docker rm -f {name}), then solve again.",
                )
            _remove_quietly(engine, existing.id)
    else:
        earlier = engine.containers(labels=ownership.labels(step.id, lesson=lesson.id))
        for container in earlier:
            _remove_quietly(engine, container.id)
    labels = ownership.labels(step.id, lesson=lesson.id)
    instead = ""
    try:
        info = engine.run(image, step=step.id, labels=labels, settings=settings_from_args(args))
    except PortInUse as exc:
        # the guides' fixed host ports (8080, 5432) are shared by the course's lessons;
        # the steps' hints accept any free one, as a learner would choose
        if not args.get("ports"):
            raise
        free = {**args, "ports": {k: _any_port(v) for k, v in dict(args["ports"]).items()}}
        info = engine.run(image, step=step.id, labels=labels, settings=settings_from_args(free))
        instead = f" ({exc.what.split(',')[0]}: Docker picked the host port instead)"
    if args.get("wait"):
        ended = _wait_end(engine, info.id, info.name)
        return (
            f"Ran {ended.name} from {normalize(image)} to its end: {ended.status or ended.state}."
        )
    links = f" ({', '.join(info.links)})" if info.links else ""
    return f"Started {info.name} from {normalize(image)}{links}{instead}."


def _wait_end(engine: Engine, cid: str, name: str) -> ContainerInfo:
    """The container once it no longer runs (``docker run`` without ``-d``)."""
    deadline = time.monotonic() + RUN_WAIT_TIMEOUT
    while True:
        info = engine.container(cid)
        if not info.running:
            return info
        if time.monotonic() > deadline:
            raise DockdojoError(
                f"{name} still runs after {RUN_WAIT_TIMEOUT:.0f} s; this step waits for it to end.",
                f"Look at what it does (docker logs {name}); stop it with docker stop {name}.",
            )
        time.sleep(0.05)


def _any_port(value: object) -> str:
    """A declared host port as "any free one", on the same address when one is given."""
    text = "" if value is None else str(value)
    return text.rpartition(":")[0] + ":" if ":" in text else ""


def _exec(engine: Engine, lesson: Lesson, step: Step, args: Mapping[str, Any]) -> str:
    command = [str(a) for a in args["command"]]
    prompt = str(args["prompt"])
    lines = [str(line) for line in args.get("suggest") or ()]
    target = exec_target(
        engine, lesson, step, name=args.get("name"), image=args.get("image"), program=command[0]
    )
    deadline = time.monotonic() + SESSION_TIMEOUT
    while True:
        with engine.session(target, command) as session:
            try:
                session.expect(prompt, timeout=min(PROMPT_TIMEOUT, _left(deadline)))
            except ExecTimeout:
                # A program that ended before its prompt may have met a server still
                # starting (mongosh does): try again. One that waits is really stuck.
                if session.alive or time.monotonic() + 1.0 >= deadline:
                    raise
                time.sleep(0.5)
                continue
            for line in lines:
                session.run(line, prompt, timeout=PROMPT_TIMEOUT)
            return f"Ran {' '.join(command)} in {target} and typed {plural(len(lines), 'line')}."


def exec_target(
    engine: Engine,
    lesson: Lesson,
    step: Step,
    *,
    name: object = None,
    image: object = None,
    program: str = "the command",
) -> str:
    """The container an exec action runs in: the named one, else a running container from
    the image, preferring one an earlier step of this lesson made (see
    :func:`~dockdojo.runner.engine.prefer_lesson`)."""
    if name:
        return str(name)
    snapshot = Snapshot.take(engine)
    running = snapshot.matching(image=str(image), running=True)
    if not running:
        raise ContainerNotRunning(
            f"No container from {normalize(str(image))} is running, so {program} has "
            "nowhere to run.",
            f"Run one first (the step that runs {normalize(str(image))}), then solve this "
            "step again.",
        )
    return prefer_lesson(running, lesson.id, lesson.steps_until(step.id))[0].name


def _remove_image(engine: Engine, _lesson: Lesson, _step: Step, args: Mapping[str, Any]) -> str:
    image = str(args["image"])
    try:
        engine.remove_image(image)
    except ImageNotFound:
        return f"{normalize(image)} was not on the engine; nothing to remove."
    except ImageInUse as refusal:
        for user in refusal.containers:
            _remove_quietly(engine, user.id)
        engine.remove_image(image)
        names = ", ".join(u.name for u in refusal.containers)
        return (
            f"{normalize(image)} was in use by {names}; removed "
            f"{'it' if len(refusal.containers) == 1 else 'them'}, then the image."
        )
    return f"Removed {normalize(image)}."


def _containers(engine: Engine, _lesson: Lesson, _step: Step, _args: Mapping[str, Any]) -> str:
    found = engine.containers()
    running = sum(c.running for c in found)
    names = ", ".join(c.name for c in found) or "none"
    return f"{plural(len(found), 'container')}, {running} running: {names}."


def _stop_container(engine: Engine, _lesson: Lesson, _step: Step, args: Mapping[str, Any]) -> str:
    if args.get("name"):
        targets = [engine.container(str(args["name"]))]
    else:
        targets = engine.containers(image=str(args["image"]), running_only=True)
    running = [c for c in targets if c.running]
    for container in running:
        engine.stop_container(container.id)
    if not running:
        return "Nothing to stop: no such container runs."
    return f"Stopped {', '.join(c.name for c in running)}."


def _remove_container(engine: Engine, _lesson: Lesson, _step: Step, args: Mapping[str, Any]) -> str:
    name = str(args["name"])
    try:
        engine.remove_container(name, force=True)
    except ContainerNotFound:
        return f"There was no container {name}; nothing to remove."
    return f"Removed the container {name}."


def _write_file(_engine: Engine, _lesson: Lesson, _step: Step, args: Mapping[str, Any]) -> str:
    text = str(args["content"])
    write_beside(str(args["path"]), text)
    size = human_bytes(len(text.encode("utf-8")))
    return f"Wrote {args['path']} ({size}) beside the notebook."


def _build(engine: Engine, lesson: Lesson, step: Step, args: Mapping[str, Any]) -> str:
    return build_step(engine, lesson.id, step.id, args)


def _compose_up(engine: Engine, lesson: Lesson, step: Step, args: Mapping[str, Any]) -> str:
    return compose_step(engine, lesson.id, step.id, args, up=True)


def _compose_down(engine: Engine, lesson: Lesson, step: Step, args: Mapping[str, Any]) -> str:
    return compose_step(engine, lesson.id, step.id, args, up=False)


# helpers ----------------------------------------------------------------------------
def _remove_quietly(engine: Engine, ref: str) -> None:
    with contextlib.suppress(ContainerNotFound):  # gone meanwhile: the goal is reached
        engine.remove_container(ref, force=True)


def _left(deadline: float) -> float:
    return max(1.0, deadline - time.monotonic())


# how each describes itself --------------------------------------------------------------
def _describe_pull(args: Mapping[str, Any]) -> str:
    return "pull " + ", ".join(str(i) for i in args.get("images") or ())


def _describe_images(_args: Mapping[str, Any]) -> str:
    return "list the local images"


def _describe_run(args: Mapping[str, Any]) -> str:
    text = f"run {args.get('image')}"
    if args.get("name"):
        text += f" named {args['name']}"
    for port, host in (args.get("ports") or {}).items():
        text += (
            f", port {port} on a random host port"
            if host in (0, None, "")
            else f", port {port} on host port {host}"
        )
    if args.get("env"):
        text += f", with {', '.join(str(k) for k in args['env'])} set"
    return text + _describe_settings(args)


_SETTING_WORDS = {
    "publish_all": "every exposed port published (-P)",
    "env_file": "variables from {}",
    "memory": "at most {} of memory",
    "cpus": "at most {} CPUs",
    "entrypoint": "entrypoint {}",
    "command": "command {}",
    "network": "on network {}",
    "aliases": "known there as {}",
    "hostname": "hostname {}",
    "mounts": "mounting {}",
    "wait": "until it ends",
}


def _describe_settings(args: Mapping[str, Any]) -> str:
    words = []
    for key, text in _SETTING_WORDS.items():
        value = args.get(key)
        if value in (None, "", False, []):
            continue
        shown = " ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        words.append(text.format(shown))
    return "".join(f", {w}" for w in words)


def _describe_exec(args: Mapping[str, Any]) -> str:
    where = (
        f"container {args['name']}"
        if args.get("name")
        else f"a running {args.get('image')} container"
    )
    text = f"open {' '.join(str(a) for a in args.get('command') or ())} in {where}"
    if args.get("suggest"):
        text += ", type: " + " | ".join(str(s) for s in args["suggest"])
    return text


def _describe_remove_image(args: Mapping[str, Any]) -> str:
    return (
        f"remove the {args.get('image')} image (when it is in use, first the containers using it)"
    )


def _describe_containers(_args: Mapping[str, Any]) -> str:
    return "list the containers"


def _describe_stop_container(args: Mapping[str, Any]) -> str:
    if args.get("name"):
        return f"stop the container {args['name']}"
    return f"stop the running {args.get('image')} containers"


def _describe_remove_container(args: Mapping[str, Any]) -> str:
    return f"remove the container {args.get('name')} (stopping it first if it runs)"


def _describe_write_file(args: Mapping[str, Any]) -> str:
    return f"write {args.get('path')} beside the notebook (its folders made as needed)"


def _describe_build(args: Mapping[str, Any]) -> str:
    return f"build the folder {args.get('folder')} as the image {args.get('tag')}"


def _describe_compose_up(args: Mapping[str, Any]) -> str:
    return f"docker compose up -d --build in {args.get('folder') or 'the lesson folder'}"


def _describe_compose_down(args: Mapping[str, Any]) -> str:
    return f"docker compose down in {args.get('folder') or 'the lesson folder'}"


_COMPOSE_PARAMS = (
    Param("folder", "str", doc="the folder of the compose.yaml, in the lesson's files"),
    Param("project", "str", doc="project name (default: the folder's name, as Compose does)"),
)


# the table ----------------------------------------------------------------------------
ACTIONS: dict[str, ActionKind] = table(
    [
        ActionKind(
            "pull",
            "Pull images, with a progress bar (the guide's search menu and Pull).",
            _pull,
            _describe_pull,
            "pull",
            (Param("images", "strings", True, "images to pull, e.g. [nginx, redis]"),),
        ),
        ActionKind(
            "images",
            "Show the local images as the Images tab does.",
            _images,
            _describe_images,
            "images",
        ),
        ActionKind(
            "run",
            "Run a container from an image with the optional settings (name, host "
            "ports, environment, limits, command, network, volumes and bind mounts), then "
            "show its card and port links.",
            _run,
            _describe_run,
            "run",
            (
                Param("image", "str", True, "image to run"),
                Param("name", "str", doc="default container name (empty: Docker picks one)"),
                Param(
                    "ports",
                    "map",
                    doc="container port -> host port (0 or empty: random; ADDRESS:PORT binds "
                    "to that address)",
                ),
                Param("env", "map", doc="environment variables"),
                Param("command", "argv", doc="command to run instead of the image's default"),
                Param("publish_all", "bool", doc="-P: every exposed port on a random host port"),
                Param("env_file", "str", doc="--env-file: KEY=value lines, beside the notebook"),
                Param("memory", "str", doc="--memory, e.g. 512m"),
                Param("cpus", "number", doc="--cpus, e.g. 0.5"),
                Param("entrypoint", "argv", doc="--entrypoint, instead of the image's"),
                Param("network", "str", doc="--network to join (it must exist)"),
                Param("aliases", "strings", doc="--network-alias names on that network"),
                Param("hostname", "str", doc="-h: the container's hostname"),
                Param("mounts", "strings", doc="-v: NAME:/path (volume), ./dir:/path[:ro] (bind)"),
                Param("wait", "bool", doc="wait until the container ends (docker run without -d)"),
            ),
        ),
        ActionKind(
            "write-file",
            "Write a text file beside the notebook (e.g. a folder to share with a "
            "container), editable before it is saved; only inside the notebook's folder.",
            _write_file,
            _describe_write_file,
            "file",
            (
                Param("path", "str", True, "relative to the notebook, e.g. public_html/index.html"),
                Param("content", "str", True, "the file's text, as the guide gives it"),
            ),
        ),
        ActionKind(
            "exec",
            "An Exec console in a running container, with suggested commands.",
            _exec,
            _describe_exec,
            "exec",
            (
                Param("image", "str", doc="a container created from this image"),
                Param("name", "str", doc="the container with this name"),
                Param("command", "argv", True, "the interactive program, e.g. [redis-cli]"),
                Param("prompt", "str", True, "regular expression of its prompt, e.g. '6379> $'"),
                Param("suggest", "strings", doc="lines offered as one-click suggestions, in order"),
            ),
            one_of=(("image", "name"),),
        ),
        ActionKind(
            "containers",
            "Show the containers as the Containers view does: ports as links, Stop, "
            "Start, Delete, and each one's Logs (as they come), Inspect and Files.",
            _containers,
            _describe_containers,
            "containers",
        ),
        ActionKind(
            "stop-container",
            "Stop a container (by name), or the running containers of an image; the "
            "widget is the Containers view.",
            _stop_container,
            _describe_stop_container,
            "containers",
            (
                Param("name", "str", doc="the container to stop"),
                Param("image", "str", doc="stop the running containers of this image"),
            ),
            one_of=(("image", "name"),),
        ),
        ActionKind(
            "remove-image",
            "Delete an image; on 'in use', show and delete its containers.",
            _remove_image,
            _describe_remove_image,
            "remove-image",
            (Param("image", "str", True, "image to remove"),),
        ),
        ActionKind(
            "remove-container",
            "Delete a container (stopping it first if it runs).",
            _remove_container,
            _describe_remove_container,
            "remove-container",
            (Param("name", "str", True, "container to remove"),),
        ),
        ActionKind(
            "build",
            "Build an image from a folder of the lesson's files (docker build -t TAG "
            "FOLDER), showing each step's output as it comes.",
            _build,
            _describe_build,
            "build",
            (
                Param("folder", "str", True, "the folder with the Dockerfile, e.g. app/web"),
                Param("tag", "str", True, "the image's name, e.g. web"),
            ),
        ),
        ActionKind(
            "compose-up",
            "Start a Compose project, building its images (docker compose up -d --build), "
            "with the installed Compose on dockdojo's engine.",
            _compose_up,
            _describe_compose_up,
            "compose",
            _COMPOSE_PARAMS,
        ),
        ActionKind(
            "compose-down",
            "Stop and remove a Compose project's containers and network (docker compose down).",
            _compose_down,
            _describe_compose_down,
            "compose",
            _COMPOSE_PARAMS,
        ),
        *STORE_ACTIONS,
    ]
)
"""Every action kind, in the order lesson authors see them listed."""


__all__ = ["ACTIONS", "exec_target"]
