"""The action kinds of volumes and networks (``volumes``, ``volume-create``,
``volume-remove``, ``volume-prune``, ``networks``, ``network-create``): their functions,
plan lines and entries, which :data:`~.actions.ACTIONS` lists after the others.

They follow :mod:`.actions`' rule: what they create is labelled with the lesson and step;
``volume-remove`` is the learner's own delete (the containers that mount the volume go
first, as ``docker rm -f`` then ``docker volume rm``; on a shared engine, only when they
are the learner's). ``volume-prune`` performed (by ``run --solve``, a grader) removes the
unused volumes dockdojo labelled for the learner and names the other unused ones; its
widget's Prune, which the learner confirms after reading the list, removes every unused
volume of theirs, as ``docker volume prune --all`` does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from ..authoring.declarations import Param
from ..authoring.model import Lesson, Step
from ..engine import LABEL_LEARNER, Engine
from ..errors import ContainerNotFound, DockdojoError, VolumeInUse, VolumeNotFound
from ..text import plural
from .base import ActionKind


def _volumes(engine: Engine, _lesson: Lesson, _step: Step, _args: Mapping[str, Any]) -> str:
    found = engine.volume_manager().listing()
    names = ", ".join(
        f"{v.name} (used by {', '.join(m.name for m in v.mounts)})" if v.in_use else v.name
        for v in found
    )
    return f"{plural(len(found), 'volume')}: {names or 'none'}."


def _networks(engine: Engine, _lesson: Lesson, _step: Step, _args: Mapping[str, Any]) -> str:
    found = [n for n in engine.network_manager().listing() if not n.builtin]
    names = ", ".join(f"{n.name} ({plural(len(n.members), 'container')})" for n in found)
    return f"{plural(len(found), 'network')} made on this engine: {names or 'none'}."


def _volume_create(engine: Engine, lesson: Lesson, step: Step, args: Mapping[str, Any]) -> str:
    name = str(args["name"])
    volumes = engine.volume_manager()
    if volumes.exists(name):
        return f"The volume {name} exists already; it was kept as it is."
    volumes.create(name, labels=engine.ownership.labels(step.id, lesson=lesson.id))
    return f"Created the volume {name}."


def _volume_remove(engine: Engine, _lesson: Lesson, _step: Step, args: Mapping[str, Any]) -> str:
    name = str(args["name"])
    volumes = engine.volume_manager()
    try:
        volumes.remove(name)
    except VolumeNotFound:
        return f"There was no volume {name}; nothing to remove."
    except VolumeInUse as refusal:
        mounts = volumes.get(name).mounts
        others = [m for m in mounts if engine.ownership.shared and not _learners(engine, m.labels)]
        if others:
            raise DockdojoError(
                f"The volume {name} is mounted by {', '.join(m.name for m in others)}, "
                "which are not yours, so it was left alone.",
                "Ask whoever runs them to remove them, or use a volume of another name.",
            ) from None
        for user in refusal.containers:
            _remove_quietly(engine, user.id)
        volumes.remove(name)
        names = ", ".join(u.name for u in refusal.containers)
        return f"The volume {name} was mounted by {names}; removed them, then the volume."
    return f"Removed the volume {name}."


def _volume_prune(engine: Engine, _lesson: Lesson, _step: Step, _args: Mapping[str, Any]) -> str:
    volumes = engine.volume_manager()
    removed = volumes.prune(labelled_only=True)
    left = [v.name for v in volumes.listing() if not v.in_use]
    said = (
        f"Removed {plural(len(removed), 'unused volume')}: {', '.join(removed)}."
        if removed
        else "No unused volume of dockdojo's to remove."
    )
    if left:
        said += (
            f" Left {plural(len(left), 'unused volume')} dockdojo did not make: "
            f"{', '.join(left)} (Prune in the Volumes view, or docker volume prune --all)."
        )
    return said


def _network_create(engine: Engine, lesson: Lesson, step: Step, args: Mapping[str, Any]) -> str:
    name = str(args["name"])
    networks = engine.network_manager()
    if networks.exists(name):
        return f"The network {name} exists already; it was kept as it is."
    networks.create(name, labels=engine.ownership.labels(step.id, lesson=lesson.id))
    return f"Created the network {name}."


def _learners(engine: Engine, labels: Mapping[str, str]) -> bool:
    """Whether a resource with ``labels`` is this learner's (on a shared engine)."""
    return labels.get(LABEL_LEARNER) == engine.learner


def _remove_quietly(engine: Engine, ref: str) -> None:
    with contextlib.suppress(ContainerNotFound):  # gone meanwhile: the goal is reached
        engine.remove_container(ref, force=True)


# how each describes itself --------------------------------------------------------------
def _describe_volumes(_args: Mapping[str, Any]) -> str:
    return "list the volumes, with the containers that mount each"


def _describe_networks(_args: Mapping[str, Any]) -> str:
    return "list the networks, with the containers attached and their aliases"


def _describe_volume_create(args: Mapping[str, Any]) -> str:
    return f"create the volume {args.get('name')}"


def _describe_volume_remove(args: Mapping[str, Any]) -> str:
    return (
        f"remove the volume {args.get('name')} (when containers mount it, first those containers)"
    )


def _describe_volume_prune(_args: Mapping[str, Any]) -> str:
    return "remove the unused volumes dockdojo made"


def _describe_network_create(args: Mapping[str, Any]) -> str:
    return f"create the network {args.get('name')}"


# the entries ---------------------------------------------------------------------------
STORE_ACTIONS: tuple[ActionKind, ...] = (
    ActionKind(
        "volumes",
        "Show the volumes as the Volumes view does: the containers that mount each, "
        "the files inside, Delete, and Prune.",
        _volumes,
        _describe_volumes,
        "volumes",
    ),
    ActionKind(
        "volume-create",
        "Create a volume (docker volume create); the widget is the Volumes view.",
        _volume_create,
        _describe_volume_create,
        "volumes",
        (Param("name", "str", True, "the volume's name, e.g. log-data"),),
    ),
    ActionKind(
        "volume-remove",
        "Delete a volume; when containers mount it, delete them first (docker rm -f, "
        "then docker volume rm).",
        _volume_remove,
        _describe_volume_remove,
        "volumes",
        (Param("name", "str", True, "the volume to remove"),),
    ),
    ActionKind(
        "volume-prune",
        "Delete the volumes no container mounts: the widget's Prune, once confirmed, "
        "every one (docker volume prune --all); performed, those dockdojo made.",
        _volume_prune,
        _describe_volume_prune,
        "volumes",
    ),
    ActionKind(
        "networks",
        "Show the networks: the containers attached to each with their aliases, Create and Delete.",
        _networks,
        _describe_networks,
        "networks",
    ),
    ActionKind(
        "network-create",
        "Create a network (docker network create); the widget is the Networks view.",
        _network_create,
        _describe_network_create,
        "networks",
        (Param("name", "str", True, "the network's name, e.g. sample-app"),),
    ),
)
"""The volume and network action kinds, in the order lesson authors see them listed."""


__all__ = ["STORE_ACTIONS"]
