"""dockdojo's journal of an engine: what it keeps of the engine's events, how it reads
back, and how it stays bounded. No engine: events are written as the engine sends them
(the shapes seen from dockerd 20.10), files are real."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dockdojo.runner.engine.journal import (
    KEEP_PER_KEY,
    MAX_TEXT,
    SCHEMA,
    Entry,
    Journal,
    Writer,
    entry_of,
    following,
    from_events,
)


def _event(kind: str, action: str, actor: str, at: float, **attributes: str) -> dict[str, Any]:
    return {
        "Type": kind,
        "Action": action,
        "status": action,
        "Actor": {"ID": actor, "Attributes": attributes},
        "time": int(at),
        "timeNano": int(at * 1e9),
    }


def _journal(tmp_path: Path, events: list[dict[str, Any]], **kwargs: int) -> Journal:
    writer = Writer(tmp_path / "journal.jsonl", **kwargs)
    writer.begin("ENGINE-ID")
    writer.append(e for e in map(entry_of, events) if e is not None)
    return Journal(writer.path)


def test_only_image_and_container_lifecycle_events_are_kept() -> None:
    execs = [
        _event("container", "exec_create: redis-cli GET test", "c1", 1.0),
        _event("container", "exec_start: redis-cli GET test", "c1", 1.0),
        _event("container", "exec_die", "c1", 1.0),
        _event("container", "start", "c1", 1.0),
        _event("network", "connect", "n1", 1.0),
    ]
    assert [entry_of(e) for e in execs] == [None] * len(execs)
    pull = entry_of(_event("image", "pull", "nginx:latest", 2.5, name="nginx"))
    assert pull == Entry(2.5, "image", "pull", name="nginx:latest", id="nginx:latest")
    tag = entry_of(_event("image", "tag", "sha256:abc", 2.7, name="web:1"))  # docker tag/build
    assert tag == Entry(2.7, "image", "tag", name="web:1", id="sha256:abc")
    delete = entry_of(_event("image", "delete", "sha256:abc", 3.0, name="sha256:abc"))
    assert delete is not None
    assert (delete.name, delete.id) == ("", "sha256:abc")


def test_a_container_keeps_its_name_image_and_dockdojo_labels_only() -> None:
    created = entry_of(
        _event(
            "container",
            "create",
            "c1",
            4.0,
            name="cache-abc123",
            image="redis",
            **{"dockdojo.lesson": "what-is-an-image", "maintainer": "x", "com.example": "y"},
        )
    )
    assert created is not None
    assert (created.name, created.image, created.id) == ("cache-abc123", "redis", "c1")
    assert dict(created.labels) == {"dockdojo.lesson": "what-is-an-image"}


def test_texts_are_bounded() -> None:
    huge = entry_of(_event("container", "create", "c" * 10_000, 1.0, name="n" * 10_000))
    assert huge is not None
    assert len(huge.name) == MAX_TEXT
    assert len(huge.id) == MAX_TEXT


def test_history_tells_pulls_removals_and_creations(tmp_path: Path) -> None:
    journal = _journal(
        tmp_path,
        [
            _event("image", "pull", "nginx:latest", 10.0),
            _event("container", "create", "c1", 11.0, name="web"),
            _event("container", "exec_start: sh", "c1", 11.5),
            _event("container", "destroy", "c1", 12.0, name="web"),
            _event("image", "untag", "sha256:1", 13.0),
            _event("image", "delete", "sha256:1", 13.0),
        ],
    )
    history = journal.history()
    assert journal.engine_id == "ENGINE-ID"
    assert history.arrivals == ((10.0, "nginx:latest"),)
    assert history.created == ((11.0, "c1"),)
    assert history.removals == ((12.0, "web"),)
    assert history.complete
    assert history.source == "dockdojo's journal of this engine"
    # what happened before `since` does not count
    assert journal.history(since=10.5).arrivals == ()


def test_the_journal_is_read_again_only_when_it_changed(tmp_path: Path) -> None:
    journal = _journal(tmp_path, [_event("image", "pull", "nginx:latest", 10.0)])
    first = journal.entries()
    assert journal.entries() is first  # unchanged file: the same parsed entries
    Writer(journal.path).append([Entry(20.0, "image", "pull", name="redis:latest")])
    assert [e.name for e in journal.entries()] == ["nginx:latest", "redis:latest"]


def test_a_line_being_written_and_garbage_lines_are_skipped(tmp_path: Path) -> None:
    journal = _journal(tmp_path, [_event("image", "pull", "nginx:latest", 10.0)])
    with journal.path.open("a") as handle:
        handle.write('[1, 2]\nnot json\n{"at": "x"}\n{"at": 30.0, "kind": "image", "ac')
    assert [e.name for e in journal.entries()] == ["nginx:latest"]


def test_a_gap_makes_the_history_after_it_incomplete(tmp_path: Path) -> None:
    journal = _journal(tmp_path, [_event("image", "pull", "nginx:latest", 10.0)])
    Writer(journal.path).append([Entry(50.0, "journal", "gap", since=20.0)])
    assert not journal.history().complete
    assert "overflowed" in journal.history().why
    assert journal.history(since=60.0).complete


def test_a_missing_journal_is_an_incomplete_history(tmp_path: Path) -> None:
    history = Journal(tmp_path / "nothing.jsonl").history()
    assert not history.complete
    assert "missing" in history.why


def test_compaction_keeps_the_last_entries_of_every_name(tmp_path: Path) -> None:
    events = [_event("image", "pull", "nginx:latest", 1.0)]
    events += [_event("image", "tag", f"flood:{i % 5}", 2.0 + i / 1000) for i in range(6000)]
    events += [
        _event("container", "create", "c1", 10.0 + i, name="same") for i in range(KEEP_PER_KEY * 3)
    ]
    journal = _journal(tmp_path, events, max_bytes=256 * 1024)
    size = journal.path.stat().st_size
    assert size <= 256 * 1024
    entries = journal.entries()
    assert (1.0, "nginx:latest") in journal.history().arrivals  # one pull of nginx, kept
    assert sum(e.name == "same" for e in entries) == KEEP_PER_KEY
    assert sum(e.name == "flood:0" for e in entries) == KEEP_PER_KEY
    assert journal.engine_id == "ENGINE-ID"
    assert journal.history().complete  # nothing but repeats was dropped


def test_a_journal_too_big_even_then_is_trimmed_and_says_so(tmp_path: Path) -> None:
    events = [_event("image", "tag", f"flood:{i}", 2.0 + i / 1000) for i in range(6000)]
    journal = _journal(tmp_path, events, max_bytes=64 * 1024)
    assert journal.path.stat().st_size <= 64 * 1024
    history = journal.history()
    assert not history.complete
    assert "size limit" in history.why
    assert history.arrivals[-1][1] == "flood:5999"  # the newest are kept
    cut = next(e.since for e in journal.entries() if e.action == "trimmed")
    assert journal.history(since=cut + 0.0005).complete  # what is after the cut is whole


def test_the_first_line_names_the_schema_and_the_engine(tmp_path: Path) -> None:
    journal = _journal(tmp_path, [])
    header = json.loads(journal.path.read_text().splitlines()[0])
    assert header["schema"] == SCHEMA
    assert header["engine"] == "ENGINE-ID"
    assert journal.path.stat().st_mode & 0o777 == 0o644


def test_history_from_the_engines_own_events_says_when_it_may_be_incomplete() -> None:
    events = [_event("container", "exec_start: x", "c1", 1.0)] * 256
    events.append(_event("image", "pull", "redis:latest", 2.0))
    history = from_events(events, complete=False, why="the engine keeps only 256 events")
    assert history.arrivals == ((2.0, "redis:latest"),)
    assert not history.complete
    assert history.source == "the engine's own event log"


def test_a_recorder_is_following_only_once_it_wrote_so_after_its_start(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    assert not following(path, 0.0)  # nothing written yet: not an error
    writer = Writer(path)
    writer.begin("ENGINE-ID")
    writer.append([Entry(100.0, "journal", "follow", since=0.0)])
    assert following(path, 99.0)
    assert not following(path, 101.0)  # an earlier recorder's follow does not count
    writer.append([Entry(102.0, "journal", "follow", since=100.0)])
    assert following(path, 101.0)
