"""dockdojo's own journal of an engine's past: what was pulled, removed, created.

dockerd keeps only its last 256 events in memory, and execs count among them: a checker
that runs ``redis-cli`` every 30 s pushes a pull out of reach within minutes. So whoever
starts an engine (the sandbox, a room's learner engine, a grading engine) also starts a
recorder (:mod:`.recorder`, run as ``python -m dockdojo.runner.engine.recorder``) that
follows the engine's events from the moment it answers and appends its image and
container lifecycle events (never execs) to a journal file where the engine's user
cannot write. Checks read the past from it (:meth:`Journal.history`); on an engine
dockdojo did not start (Docker Desktop) the facade falls back to the engine's own events
and says whether they may be incomplete.

The journal is JSON Lines (schema :data:`SCHEMA`), one object a line:

- the first line: ``{"schema": "dockdojo.journal/v1", "engine": ENGINE_ID, "at": T}``;
- an event: ``{"at": T, "kind": "image"|"container", "action": ACTION, "name": NAME,
  "id": ID, "image": IMAGE, "labels": {...}}`` (``at`` in epoch seconds to the
  nanosecond; ``labels`` only ``dockdojo.*`` ones; every text at most 256 characters);
- the recorder's own records, ``kind`` ``journal``: ``follow`` (it began following the
  engine, from ``since``), ``gap`` (between ``from`` and ``to`` the engine's buffer may
  have overflowed while nobody followed it: history there may be incomplete) and
  ``trimmed`` (the journal outgrew :data:`MAX_BYTES` and lost entries before ``to``).

Only the recorder writes the file; it keeps it under :data:`MAX_BYTES` by keeping the
last :data:`KEEP_PER_KEY` entries of each image or container name.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = "dockdojo.journal/v1"
LABEL = "dockdojo.journal"
"""The engine label (``dockerd --label``, ``labels`` in ``daemon.json``) that names an
engine's journal, for the notebook on that engine to find it."""
KEPT: dict[str, tuple[str, ...]] = {
    "image": ("pull", "tag", "untag", "delete", "load", "import"),
    "container": ("create", "destroy", "rename"),
}
"""The lifecycle events a journal keeps, by event type."""
ARRIVALS = ("pull", "tag", "load", "import")
"""Image events that bring an image under a name."""
ENGINE_EVENTS_LIMIT = 256
"""Events dockerd keeps in memory (moby's ``eventsLimit``)."""
MAX_BYTES = 4 * 1024 * 1024
"""Size a journal is kept under (about 20,000 entries)."""
KEEP_PER_KEY = 8
"""Entries kept per image or container name when the journal is compacted."""
MAX_TEXT = 256
"""Characters kept of any one text of an event."""

Json = dict[str, Any]


@dataclass(frozen=True)
class Entry:
    """One lifecycle event of the engine, as the journal keeps it."""

    at: float
    """When it happened, in epoch seconds."""
    kind: str
    """``image``, ``container``, or ``journal`` for the recorder's own records."""
    action: str
    """The engine's action (``pull``, ``delete``, ``create``, ``destroy`` ...), or the
    recorder's (``follow``, ``gap``, ``trimmed``)."""
    name: str = ""
    """An image's name (``nginx:latest``) or a container's name; empty where the engine
    gives only an id (an image's ``delete``)."""
    id: str = ""
    """The image's or container's id, as the engine gave it."""
    image: str = ""
    """A container's image."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """A container's ``dockdojo.*`` labels."""
    since: float = 0.0
    """``follow``, ``gap`` and ``trimmed``: where the span they speak of begins."""

    def to_json(self) -> Json:
        data: Json = {"at": self.at, "kind": self.kind, "action": self.action}
        for key in ("name", "id", "image"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.labels:
            data["labels"] = dict(self.labels)
        if self.since:
            data["since"] = self.since
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entry:
        labels = data.get("labels")
        return cls(
            at=float(data["at"]),
            kind=str(data["kind"]),
            action=str(data["action"]),
            name=str(data.get("name") or ""),
            id=str(data.get("id") or ""),
            image=str(data.get("image") or ""),
            labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
            since=float(data.get("since") or 0.0),
        )

    @property
    def key(self) -> tuple[str, str]:
        """What compaction groups by: the image or container name (else its id)."""
        return self.kind, self.name or self.id


@dataclass(frozen=True)
class History:
    """What an engine's past says, from ``since`` until it was read."""

    arrivals: tuple[tuple[float, str], ...]
    """(time, image name) of every pull, tag, load and import."""
    removals: tuple[tuple[float, str], ...]
    """(time, container name) of every container destroyed."""
    created: tuple[tuple[float, str], ...]
    """(time, container id) of every container created."""
    complete: bool
    """Whether this is all that happened since ``since``; when False, something may have
    happened that this does not show (:attr:`why`)."""
    source: str
    """Where it was read, as a few words for a message: ``dockdojo's journal of this
    engine`` or ``the engine's own event log``."""
    why: str = ""
    """Why it may be incomplete, as a sentence, when it may be."""


def entry_of(event: Mapping[str, Any]) -> Entry | None:
    """The journal's entry for one engine event, or None when the journal skips it."""
    kind = str(event.get("Type") or "")
    action = str(event.get("Action") or event.get("status") or "")
    if action not in KEPT.get(kind, ()):
        return None
    actor = event.get("Actor") or {}
    actor_id = str(actor.get("ID") or event.get("id") or "")
    attributes = actor.get("Attributes") or {}
    if not isinstance(attributes, dict):
        attributes = {}
    nano = event.get("timeNano")
    at = int(nano) / 1e9 if nano else float(event.get("time") or 0)
    if kind == "image":  # a pull names the image in its id, a tag or load in "name"
        names = (actor_id, str(attributes.get("name") or ""))
        name = next((n for n in names if n and not n.startswith("sha256:")), "")
        return Entry(at, kind, action, name=_text(name), id=_text(actor_id))
    labels = {
        _text(k): _text(str(v))
        for k, v in list(attributes.items())[:200]
        if str(k).startswith("dockdojo.")
    }
    return Entry(
        at,
        kind,
        action,
        name=_text(str(attributes.get("name") or "")),
        id=_text(actor_id),
        image=_text(str(attributes.get("image") or "")),
        labels=dict(list(labels.items())[:10]),
    )


def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def _text(value: str) -> str:
    return value[:MAX_TEXT]


# reading ---------------------------------------------------------------------------
class Journal:
    """One engine's journal file, read (and re-read only when it changed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._engine = ""
        self._entries: tuple[Entry, ...] = ()

    def exists(self) -> bool:
        return self.path.is_file()

    @property
    def engine_id(self) -> str:
        """The id of the engine whose journal this is (its ``docker info`` ``ID``)."""
        self._load()
        return self._engine

    def entries(self) -> tuple[Entry, ...]:
        self._load()
        return self._entries

    def history(self, since: float = 0.0) -> History:
        """The engine's past from ``since`` on."""
        entries = [e for e in self.entries() if e.at >= since]
        why = ""
        for e in self.entries():
            if e.kind == "journal" and e.action == "gap" and e.at > since:
                why = (
                    f"between {_clock(e.since)} and {_clock(e.at)} nobody followed the engine "
                    "and its own log of 256 events overflowed"
                )
            elif e.kind == "journal" and e.action == "trimmed" and since <= e.since:
                cut = _clock(e.since)
                why = f"the journal outgrew its size limit: entries before {cut} are gone"
        if not self.exists():
            why = f"its journal {self.path} is missing"
        source = "dockdojo's journal of this engine"
        return _history(entries, complete=not why, source=source, why=why)

    def _load(self) -> None:
        try:
            st = self.path.stat()
        except OSError:
            self._stamp, self._engine, self._entries = None, "", ()
            return
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        with self._lock:
            if stamp == self._stamp:
                return
            engine, entries = read(self.path)
            self._stamp, self._engine, self._entries = stamp, engine, tuple(entries)


def following(path: Path, after: float) -> bool:
    """Whether the recorder of ``path`` began following its engine at ``after`` or later:
    whoever starts a recorder waits for this, so a check made right after the start
    reads a journal that is live."""
    try:
        _, entries = read(path)
    except OSError:  # not written yet
        return False
    return any(e.kind == "journal" and e.action == "follow" and e.at >= after for e in entries)


def read(path: Path) -> tuple[str, list[Entry]]:
    """(engine id, entries) of a journal file; lines that are not entries are skipped (a
    line being written is not whole yet)."""
    engine = ""
    entries: list[Entry] = []
    with path.open("rb") as handle:
        raw = handle.read(2 * MAX_BYTES)
    for number, line in enumerate(raw.splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        if number == 0 and data.get("schema") == SCHEMA:
            engine = str(data.get("engine") or "")
            continue
        with contextlib.suppress(KeyError, TypeError, ValueError):
            entries.append(Entry.from_json(data))
    return engine, entries


def from_events(events: Iterable[Mapping[str, Any]], *, complete: bool, why: str) -> History:
    """History read from the engine's own events (an engine dockdojo did not start)."""
    entries = [e for e in map(entry_of, events) if e is not None]
    return _history(entries, complete=complete, source="the engine's own event log", why=why)


def _history(entries: Iterable[Entry], *, complete: bool, source: str, why: str) -> History:
    arrivals, removals, created = [], [], []
    for e in entries:
        if e.kind == "image" and e.action in ARRIVALS and e.name:
            arrivals.append((e.at, e.name))
        elif e.kind == "container" and e.action == "destroy":
            removals.append((e.at, e.name))
        elif e.kind == "container" and e.action == "create":
            created.append((e.at, e.id))
    return History(tuple(arrivals), tuple(removals), tuple(created), complete, source, why)


# writing ---------------------------------------------------------------------------
class Writer:
    """Appends entries to a journal; the only code that writes one."""

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.path = path
        self.max_bytes = max_bytes

    def last_time(self) -> float:
        """When the last entry happened (0 for a new journal)."""
        if not self.path.exists():
            return 0.0
        _, entries = read(self.path)
        return max((e.at for e in entries if e.kind != "journal"), default=0.0)

    def begin(self, engine_id: str) -> None:
        """Start the journal of ``engine_id`` (its first line), unless it has begun."""
        if self.path.exists() and self.path.stat().st_size:
            return
        header = {"schema": SCHEMA, "engine": engine_id, "at": time.time()}
        self._append([json.dumps(header)], create=True)

    def append(self, entries: Iterable[Entry]) -> None:
        lines = [json.dumps(e.to_json(), ensure_ascii=False) for e in entries]
        if not lines:
            return
        self._append(lines)
        if self.path.stat().st_size > self.max_bytes:
            self.compact()

    def _append(self, lines: list[str], *, create: bool = False) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW
        if create:
            flags |= os.O_CREAT
        fd = os.open(self.path, flags, 0o644)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write("".join(f"{line}\n" for line in lines))

    def compact(self) -> None:
        """Keep the last :data:`KEEP_PER_KEY` entries of each name; if that is still too
        much, the newest half of the rest, with a ``trimmed`` record saying so."""
        engine, entries = read(self.path)
        counts: dict[tuple[str, str], int] = {}
        kept: list[Entry] = []
        for e in reversed(entries):
            if e.kind == "journal":
                continue
            counts[e.key] = counts.get(e.key, 0) + 1
            if counts[e.key] <= KEEP_PER_KEY:
                kept.append(e)
        kept.reverse()
        records = [e for e in entries if e.kind == "journal"][-50:]
        size = sum(len(json.dumps(e.to_json())) + 1 for e in kept)
        if size > self.max_bytes // 2:
            drop = 0
            while size > self.max_bytes // 2 and drop < len(kept):
                size -= len(json.dumps(kept[drop].to_json())) + 1
                drop += 1
            cut = kept[drop - 1].at if drop else 0.0
            kept = kept[drop:]
            records.append(Entry(time.time(), "journal", "trimmed", since=cut))
        merged = sorted([*kept, *records], key=lambda e: e.at)
        header = {"schema": SCHEMA, "engine": engine, "at": time.time()}
        temporary = self.path.with_name(f".{self.path.name}.new")
        temporary.unlink(missing_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(header) + "\n")
            handle.writelines(json.dumps(e.to_json(), ensure_ascii=False) + "\n" for e in merged)
        os.replace(temporary, self.path)
