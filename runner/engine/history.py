"""Where an engine's past is read: dockdojo's journal of it, else its own event log.

An engine dockdojo started names its journal in its ``dockdojo.journal`` label
(:mod:`.journal`); one it did not start (Docker Desktop) has only the engine's own log
of its last 256 events, which :func:`from_engine` reads and marks incomplete when it may
not reach back far enough.
"""

from __future__ import annotations

import time
from pathlib import Path

from .connection import PING_TIMEOUT, Connection
from .journal import ENGINE_EVENTS_LIMIT, LABEL, History, Journal, from_events
from .translate import Op


def find_journal(conn: Connection) -> Journal | None:
    """The journal the engine's label names, when its first line has this engine's id."""
    info = conn.json(conn.api(PING_TIMEOUT).info, Op("asking which engine this is"))
    for label in info.get("Labels") or ():
        key, _, value = str(label).partition("=")
        if key == LABEL and value:
            candidate = Journal(Path(value))
            if candidate.exists() and candidate.engine_id == str(info.get("ID") or ""):
                return candidate
    return None


def from_engine(conn: Connection, since: float) -> History:
    """The past from the engine's own event log, from ``since`` until now."""
    api = conn.api()
    until = time.time()
    # The engine streams until `until`; to the nanosecond, it answers at once (a whole
    # second rounded up would make every read wait for that second to pass).
    found = conn.rows(
        lambda: list(api.events(since=f"{since:.9f}", until=f"{until:.9f}", decode=True)),
        Op("reading the engine's events"),
    )
    full = len(found) >= ENGINE_EVENTS_LIMIT
    why = "the engine keeps only its last 256 events and has had more since then" if full else ""
    return from_events(found, complete=not full, why=why)


__all__ = ["find_journal", "from_engine"]
