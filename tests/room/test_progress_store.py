"""The instructor view's record on a real engine and a real database: SQLite by default,
PostgreSQL when the room names one. A restart loses nothing, and checks made while the
database is away are stored when it is back."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from common_kit import until
from room.postgres import Postgres, postgres

from dockdojo.runner.hub.instructor import room_lessons
from dockdojo.runner.hub.progress import ProgressStore
from dockdojo.runner.hub.watch import CheckRequest, Watch

pytestmark = [pytest.mark.engine, pytest.mark.timeout(300)]
LESSON = "what-is-an-image"


@pytest.fixture(scope="module")
def server() -> Iterator[Postgres]:
    with postgres() as running:
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'progress.sqlite'}"
    server = request.getfixturevalue("server")
    return str(server.url)


def engine_host() -> str:
    host = os.environ.get("DOCKDOJO_TEST_DOCKER_HOST")
    assert host, "DOCKDOJO_TEST_DOCKER_HOST is not set: run through make test"
    return host


def watch_of(url: str) -> Watch:
    host = engine_host()
    return Watch(room_lessons(), ProgressStore(url), lambda _name: host, workers=2)


def test_a_restarted_watch_knows_everything_the_last_one_learnt(url: str) -> None:
    first = watch_of(url)
    try:
        first.request(CheckRequest("ada", LESSON, frozenset({"pull-images"})))
        first.request(CheckRequest("bob", LESSON, frozenset(), "recheck"))
        until(lambda: first.checks_run == 2 and first.idle())
        before = first.grid(LESSON)
    finally:
        first.stop()
        first.store.close()
    ada = {r["name"]: r for r in before["learners"]}["ada"]
    assert ada["engine"] == "running"
    assert ada["steps"]["pull-images"]["status"] in ("done", "undone", "failing")
    assert ada["ready"] is not None  # the doctor ran
    second = watch_of(url)
    try:
        after = second.grid(LESSON)
        for key in ("learners", "summary", "steps"):
            assert _without_clock(after[key]) == _without_clock(before[key]), key
        history = second.store.attempts("ada", LESSON)
        assert any(a.step == "pull-images" and a.cause == "look" for a in history)
    finally:
        second.stop()
        second.store.close()


def _without_clock(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_clock(v) for k, v in value.items() if k != "minutes_on_step"}
    if isinstance(value, list):
        return [_without_clock(v) for v in value]
    return value


def test_checks_made_while_the_database_is_away_are_stored_when_it_is_back(
    server: Postgres,
) -> None:
    watch = watch_of(server.url)
    try:
        server.stop()
        away = time.monotonic()
        watch.request(CheckRequest("cy", LESSON, frozenset({"run-redis"})))
        until(lambda: watch.checks_run == 1)
        shown = {r["name"]: r for r in watch.grid(LESSON)["learners"]}
        assert shown["cy"]["steps"]["run-redis"]["status"] in ("done", "failing")
        time.sleep(max(0.0, 10 - (time.monotonic() - away)))
        assert not watch.idle(), "the batch should wait for the database"
        assert watch.grid(LESSON)["unsaved"] > 0
        server.start()
        until(watch.idle, "the watch idle", seconds=30)
    finally:
        watch.stop()
        watch.store.close()
    store = ProgressStore(server.url)
    try:
        attempts = store.attempts("cy", LESSON)
        assert any(a.step == "run-redis" and a.cause == "look" for a in attempts)
        learners, steps = store.load()
        assert "cy" in {row.name for row in learners}
        assert {s.step for s in steps if s.learner == "cy"} == {
            s.id for s in room_lessons()[LESSON].steps
        }
    finally:
        store.close()
