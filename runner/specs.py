"""What a lesson may declare: every action and check, with its arguments.

The builder validates declarations against these schemas (so a typo fails with
``file:line``), the notebook widgets read them, and ``checks`` / ``actions`` implement
them. A schema is data, so documentation and error messages come from one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    """One argument of an action or a check."""

    name: str
    """Key in the declaration."""
    type: str
    """``str``, ``int``, ``bool``, ``port``, ``argv`` (list of strings), ``strings``, ``map``."""
    required: bool = False
    """Whether the declaration must give it."""
    doc: str = ""
    """One line for lesson authors."""


@dataclass(frozen=True)
class Spec:
    """The schema of one action or check kind."""

    kind: str
    """Its name in declarations."""
    summary: str
    """What it does, for lesson authors."""
    params: tuple[Param, ...] = ()
    """Its arguments."""
    one_of: tuple[tuple[str, ...], ...] = ()
    """Groups of which at least one argument must be given (e.g. ``image`` or ``name``)."""


_TARGET = (
    Param("image", "str", doc="a container created from this image"),
    Param("name", "str", doc="the container with this name"),
)

ACTIONS: dict[str, Spec] = {s.kind: s for s in (
    Spec("pull", "Pull images, with a progress bar (the guide's search menu and Pull).",
         (Param("images", "strings", True, "images to pull, e.g. [nginx, redis]"),)),
    Spec("images", "Show the local images as the Images tab does."),
    Spec("run", "Run a container from an image with the optional settings (name, host "
         "ports, environment), then show its card and port links.",
         (Param("image", "str", True, "image to run"),
          Param("name", "str", doc="default container name (empty: Docker picks one)"),
          Param("ports", "map", doc="container port -> host port; 0 or empty for random"),
          Param("env", "map", doc="environment variables"),
          Param("command", "argv", doc="command to run instead of the image's default"))),
    Spec("exec", "An Exec console in a running container, with suggested commands.",
         (*_TARGET,
          Param("command", "argv", True, "the interactive program, e.g. [redis-cli]"),
          Param("prompt", "str", True, "regular expression of its prompt, e.g. '6379> $'"),
          Param("suggest", "strings", doc="lines offered as one-click suggestions, in order")),
         one_of=(("image", "name"),)),
    Spec("remove-image", "Delete an image; on 'in use', show and delete its containers.",
         (Param("image", "str", True, "image to remove"),)),
    Spec("remove-container", "Delete a container (stopping it first if it runs).",
         (Param("name", "str", True, "container to remove"),)),
)}

CHECKS: dict[str, Spec] = {s.kind: s for s in (
    Spec("image_present", "The image is on the engine.",
         (Param("image", "str", True),)),
    Spec("image_absent", "The image is not on the engine.",
         (Param("image", "str", True),)),
    Spec("image_removed", "The image was removed: it is gone now, and the engine saw it "
         "arrive earlier (so never pulling it does not count).",
         (Param("image", "str", True),)),
    Spec("container_running", "A container (from the image, or with the name) is running.",
         _TARGET, one_of=(("image", "name"),)),
    Spec("port_published", "A running container publishes the port on the host.",
         (*_TARGET, Param("port", "port", doc="container port, default 80"),
          Param("random", "bool", doc="the host port must be a random (ephemeral) one")),
         one_of=(("image", "name"),)),
    Spec("http_ok", "The container's port link answers HTTP.",
         (*_TARGET, Param("port", "port", doc="container port, default 80"),
          Param("status", "int", doc="expected status, default 200"),
          Param("contains", "str", doc="text the page must contain")),
         one_of=(("image", "name"),)),
    Spec("command_output", "A command run inside the container prints what is expected.",
         (*_TARGET, Param("command", "argv", True, "e.g. [redis-cli, GET, test]"),
          Param("expect", "str", doc="the whole output, trimmed"),
          Param("contains", "str", doc="text the output must contain")),
         one_of=(("image", "name"), ("expect", "contains"))),
    Spec("mongo_document", "A document matching the filter exists (checked with mongosh).",
         (*_TARGET, Param("collection", "str", True), Param("filter", "map", True),
          Param("db", "str", doc="database, default test")),
         one_of=(("image", "name"),)),
    Spec("no_container_uses", "No container, running or stopped, uses the image.",
         (Param("image", "str", True),)),
    Spec("container_stopped", "No matching container is running (stopped or removed).",
         _TARGET, one_of=(("image", "name"),)),
    Spec("container_absent", "No container with the name exists.",
         (Param("name", "str", True),)),
    Spec("container_removed", "A container with the name existed and was removed (the "
         "engine saw it go; never creating it does not count).",
         (Param("name", "str", True),)),
    Spec("step_done", "Every other check of the named step passes.",
         (Param("step", "str", True, "id of a step in this lesson"),)),
)}

CHECK_FIELDS = {"check", "hint", "points"}
"""Keys of a check declaration that are not the check's own arguments."""


def problems(spec: Spec, args: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``args`` for ``spec``, as sentences (empty when all is well)."""
    known = {p.name: p for p in spec.params}
    out = [f"{spec.kind} has no argument {key!r} (it takes: "
           f"{', '.join(known) or 'no arguments'})" for key in args if key not in known]
    for param in spec.params:
        if param.required and param.name not in args:
            out.append(f"{spec.kind} needs {param.name!r} ({param.doc or param.type})")
        elif param.name in args and not _fits(param.type, args[param.name]):
            out.append(f"{spec.kind}: {param.name!r} must be {_TYPE_WORDS[param.type]}, "
                       f"not {args[param.name]!r}")
    for group in spec.one_of:
        if not any(name in args for name in group):
            out.append(f"{spec.kind} needs one of {', '.join(repr(g) for g in group)}")
    return out


_TYPE_WORDS = {
    "str": "a string", "int": "a whole number", "bool": "true or false",
    "port": "a port number such as 80 or 80/tcp", "argv": "a list of strings",
    "strings": "a list of strings", "map": "a mapping",
}


def _fits(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "port":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.split("/")[0].isdigit())
    if kind in ("argv", "strings"):
        return (isinstance(value, list) and all(isinstance(v, str) for v in value)
                and (kind == "strings" or bool(value)))
    if kind == "map":
        return isinstance(value, dict)
    raise AssertionError(f"unknown parameter type {kind}")
