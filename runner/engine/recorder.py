"""The process that records an engine's journal (:mod:`.journal`).

Whoever starts an engine starts this beside it, as the same user (root for a room's or a
grading engine, which the engine's user cannot write over):
``python -m dockdojo.runner.engine.recorder --host H --journal PATH --since T``. It
follows the engine's events from ``T`` (or the journal's last entry, whichever is
later), appends the lifecycle events to the journal, and when the engine stops or
restarts, follows it again once it answers, marking a ``gap`` where the engine's own
log may have overflowed meanwhile. A SIGTERM ends it.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .facade import Engine
from .journal import ENGINE_EVENTS_LIMIT, KEPT, Entry, Writer, entry_of

RETRY = 1.0
"""Seconds between attempts to reach an engine that does not answer."""
MEMORY_LIMIT = 512 * 1024 * 1024
"""Address space the recorder may use: an engine that sends garbage ends it, not the
host's memory."""


def record(host: str, path: Path, since: float, *, stop: threading.Event | None = None) -> None:
    """Follow the engine at ``host`` from ``since`` (or from the journal's last entry,
    whichever is later) and append its lifecycle events to ``path``, until ``stop`` is
    set; an engine that stops or restarts is followed again when it answers."""
    stop = stop or threading.Event()
    writer = Writer(path)
    last = max(since, writer.last_time())
    seen: set[tuple[float, str, str]] = set()
    while not stop.is_set():
        engine = Engine(host)
        try:
            api = engine.api_client(timeout=None)
            writer.begin(str(api.info().get("ID") or ""))
            now = time.time()
            writer.append([Entry(now, "journal", "follow", since=last)])
            buffered = list(api.events(since=f"{last:.9f}", until=f"{now:.9f}", decode=True))
            if len(buffered) >= ENGINE_EVENTS_LIMIT and last:
                writer.append([Entry(now, "journal", "gap", since=last)])
            actions = sorted({a for kept in KEPT.values() for a in kept})
            stream = api.events(
                since=f"{last:.9f}", filters={"type": list(KEPT), "event": actions}, decode=True
            )
            watcher = threading.Thread(target=_close_on, args=(stop, stream), daemon=True)
            watcher.start()
            for event in stream:
                entry = entry_of(event) if isinstance(event, dict) else None
                if entry is None or entry.at < last:
                    continue
                key = (entry.at, entry.action, entry.id)
                if key in seen:
                    continue
                if entry.at > last:
                    seen.clear()
                seen.add(key)
                last = entry.at
                writer.append([entry])
        except Exception as exc:  # the engine went away, or sent garbage: say so, retry
            if not stop.is_set():
                print(f"journal: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        finally:
            with contextlib.suppress(Exception):
                engine.close()
        stop.wait(RETRY)


def _close_on(stop: threading.Event, stream: Any) -> None:
    stop.wait()
    with contextlib.suppress(Exception):
        stream.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m dockdojo.runner.engine.recorder --host H --journal PATH --since T``."""
    parser = argparse.ArgumentParser(prog="dockdojo-journal", description=__doc__)
    parser.add_argument("--host", required=True, help="the engine, e.g. unix:///run/docker.sock")
    parser.add_argument("--journal", required=True, type=Path, help="the journal file")
    parser.add_argument("--since", type=float, default=0.0, help="epoch seconds to record from")
    args = parser.parse_args(argv)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"journal of {args.host} in {args.journal}", file=sys.stderr, flush=True)
    record(args.host, args.journal, args.since, stop=stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
