"""The engine's event history, read for what it says about the past.

The engine keeps its last few hundred events in memory since it started. Checks that
must tell "removed" from "never there" (``image_removed``, ``container_removed``) read
arrivals and removals from it; the facade fetches the raw events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def event_time(event: Mapping[str, Any]) -> float:
    """An engine event's time in epoch seconds, to the nanosecond when the engine says."""
    nano = event.get("timeNano")
    return int(nano) / 1e9 if nano else float(event.get("time") or 0)


def image_arrivals(found: Iterable[Mapping[str, Any]]) -> list[tuple[float, str]]:
    """(time, image name) of every image event that brought an image: pull, tag, load.

    The engine's delete events name only ids, so arrivals are what can be matched by name.
    """
    return [
        (event_time(e), str((e.get("Actor") or {}).get("ID") or ""))
        for e in found
        if (e.get("Action") or e.get("status")) in ("pull", "tag", "load")
    ]


def container_removals(found: Iterable[Mapping[str, Any]]) -> list[tuple[float, str]]:
    """(time, container name) of every ``destroy`` event."""
    return [
        (event_time(e), str(((e.get("Actor") or {}).get("Attributes") or {}).get("name") or ""))
        for e in found
    ]


__all__ = ["container_removals", "event_time", "image_arrivals"]
