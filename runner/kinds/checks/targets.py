"""Finding the containers a check is about, and saying what was found: shared by the
check kinds that look at containers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...engine import ContainerInfo, History, normalize, prefer_lesson
from ...errors import InvalidReference
from ...text import few
from ..base import Call, Seen
from .trust import forged_container

MAX_TARGETS = 5
"""Containers a command is tried in, at most, when several match."""


SNIPPET = 200
"""Characters of output or page text kept as evidence."""


def _matching(call: Call) -> list[ContainerInfo]:
    """Containers with the check's name, made from an image with the check's image name."""
    image, name = call.args.get("image"), call.args.get("name")
    found = call.ctx.snapshot.matching(
        image=str(image) if image is not None else None,
        name=str(name) if name is not None else None,
    )
    return prefer_lesson(found, call.ctx.lesson.id, call.ctx.lesson.steps_until(call.step.id))


def _targets(call: Call) -> list[ContainerInfo]:
    """The containers the check is about: those :func:`_matching` finds whose image is
    the check's image as pulled (:func:`.trust.forged_container`), likeliest first."""
    return [c for c in _matching(call) if forged_container(call, c) is None]


def _forged(call: Call) -> list[str]:
    """Why each container that matches the check by names only does not count."""
    return [why for c in _matching(call) if (why := forged_container(call, c)) is not None]


def _running_targets(call: Call) -> list[ContainerInfo]:
    return [c for c in _targets(call) if c.running]


def _what(call: Call) -> str:
    """``container from nginx:latest``, ``container named web`` or both."""
    image, name = call.args.get("image"), call.args.get("name")
    if name is not None and image is not None:
        return f"container named {name} from {_familiar(str(image))}"
    if name is not None:
        return f"container named {name}"
    return f"container from {_familiar(str(image))}"


def _not_running(call: Call, found: Sequence[ContainerInfo]) -> str:
    """Why no target runs, as a sentence without its final period."""
    if not found:
        forged = _forged(call)
        if forged:
            return forged[0] + (f" (and {len(forged) - 1} more like it)" if len(forged) > 1 else "")
        return f"There is no {_what(call)}"
    return f"No {_what(call)} is running ({_states(found)})"


def _familiar(ref: str) -> str:
    try:
        return normalize(ref)
    except InvalidReference:
        return ref


def _records(containers: Sequence[ContainerInfo]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.short_id,
            "name": c.name,
            "image": c.image,
            "state": c.state,
            "ports": [f"{p.host_port}->{p.container_port}" for p in c.ports],
        }
        for c in containers[:10]
    ]


def _states(containers: Sequence[ContainerInfo], *, state: bool = True) -> str:
    return few(
        [
            f"{c.name} ({c.state})" if state else f"{c.name} ({_familiar(c.image)})"
            for c in containers
        ],
        limit=5,
    )


def by_history(
    history: History, seen: bool, facts: dict[str, Any], *, done: str, unknown: str, never: str
) -> Seen:
    """What a check of the past says: ``done`` when ``history`` shows it (``seen``);
    else, when the history may be incomplete, a pass that says what ``unknown`` cannot be
    told (never calling the learner wrong for what was not recorded); else ``never``."""
    if seen:
        return Seen(True, done, {**facts, "removed": True})
    if not history.complete:
        return Seen(
            True,
            f"{unknown} cannot be told: {history.source} may be incomplete ({history.why}).",
            {**facts, "removed": None, "history": "incomplete"},
        )
    return Seen(False, never, {**facts, "removed": False})
