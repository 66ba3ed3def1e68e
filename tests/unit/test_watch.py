"""The instructor view's bookkeeping, without an engine: a learner whose engine does not
answer (the engine finder here is a stand-in that finds none), the request checks, the
CSV, and each learner checked with their own values (over a fake SDK client,
:mod:`unit.fake_docker`). The checks against real engines are in tests/room/test_progress_store.py
and tests/room/test_agreement.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from unit.fake_docker import FakeAPI, install

from dockdojo.runner.context import learner_tag
from dockdojo.runner.hub.instructor import grid_csv, room_lessons
from dockdojo.runner.hub.progress import ProgressStore
from dockdojo.runner.hub.watch import REQUEST_BURST, REQUEST_WINDOW, CheckRequest, Watch

LESSON = "what-is-an-image"


@pytest.fixture
def watch(tmp_path: Path) -> Iterator[Watch]:
    made = Watch(
        room_lessons(), ProgressStore(f"sqlite:///{tmp_path / 'p.sqlite'}"), lambda _n: None
    )
    yield made
    made.stop()
    made.store.close()


def settle(watch: Watch, checks: int) -> None:
    deadline = time.monotonic() + 10
    while not (watch.checks_run >= checks and watch.idle()):
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_learner_without_an_engine_is_shown_as_stopped_and_numbered_events_follow(
    watch: Watch,
) -> None:
    events: list[dict] = []
    watch.subscribe(events.append)
    watch.request(CheckRequest("ada", LESSON, frozenset({"run-nginx"})))
    watch.request(CheckRequest("bob", None, frozenset(), "recheck"))
    settle(watch, 2)
    grid = watch.grid(LESSON)
    rows = {r["name"]: r for r in grid["learners"]}
    assert rows["ada"]["engine"] == "stopped"
    assert rows["ada"]["steps"]["run-nginx"]["status"] == "not_tried"  # nothing was checked
    assert grid["summary"]["engines_down"] == ["ada", "bob"]
    assert sorted(e["learner"] for e in events) == ["ada", "bob"]
    assert [e["seq"] for e in events] == [1, 2]
    assert watch.store.load()[0], "the learners were not stored"


def test_requests_name_only_a_lesson_and_one_of_its_steps(watch: Watch) -> None:
    assert watch.valid(LESSON, "run-nginx") == (LESSON, "run-nginx")
    assert watch.valid(LESSON, None) == (LESSON, None)
    for lesson, step in [("nope", None), (LESSON, "nope"), (5, None), (LESSON, ["run-nginx"])]:
        with pytest.raises(ValueError, match="not a"):
            watch.valid(lesson, step)


def test_a_learner_may_ask_often_but_not_without_end(watch: Watch) -> None:
    assert all(watch.accept_request("ada") for _ in range(REQUEST_BURST))  # quick Checks pass
    assert not watch.accept_request("ada")
    assert watch.accept_request("bob")  # one learner's pace is not another's
    time.sleep(REQUEST_WINDOW)
    assert watch.accept_request("ada")


def test_requests_that_come_while_one_waits_join_it(watch: Watch) -> None:
    with watch._lock:  # nothing runs while the queue is filled
        watch.request(CheckRequest("ada", LESSON, frozenset({"run-nginx"})))
        watch.request(CheckRequest("ada", LESSON, frozenset({"run-redis"})))
        watch.request(CheckRequest("ada", None, frozenset(), "recheck"))
        assert list(watch._queue) == ["ada"]
        assert watch._queue["ada"].steps == {"run-nginx", "run-redis"}
        assert watch._queue["ada"].cause == "look"


def test_the_csv_has_a_column_per_step_and_never_a_formula(watch: Watch) -> None:
    watch.request(CheckRequest("=cmd|'/c calc'!A1", LESSON, frozenset(), "recheck"))
    settle(watch, 1)
    text = grid_csv(watch.grid(LESSON))
    header, line = text.splitlines()[:2]
    steps = [s.id for s in room_lessons()[LESSON].steps]
    assert header.split(",")[7 : 7 + len(steps)] == steps
    assert line.startswith("'=cmd"), line


def test_each_learner_is_checked_with_their_own_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, FakeAPI())  # an engine with nothing on it, for everyone
    watch = Watch(
        room_lessons(),
        ProgressStore(f"sqlite:///{tmp_path / 'p.sqlite'}"),
        lambda _n: "unix:///fake",
    )
    try:
        watch.request(CheckRequest("ada", LESSON, frozenset({"redis-cache"})))
        watch.request(CheckRequest("bob", LESSON, frozenset({"redis-cache"})))
        settle(watch, 2)
        rows = {r["name"]: r for r in watch.grid(LESSON)["learners"]}
        for who in ("ada", "bob"):
            assert rows[who]["engine"] == "running", rows[who]
            cell = rows[who]["steps"]["redis-cache"]
            assert cell["status"] == "failing"
            assert f"cache-{learner_tag(LESSON, who)}" in cell["message"], cell["message"]
            assert "{learner_tag}" not in cell["message"]
        assert "{learner_tag}" not in grid_csv(watch.grid(LESSON))
    finally:
        watch.stop()
        watch.store.close()


def test_the_rooms_learners_are_listed_from_the_start_as_not_started(tmp_path: Path) -> None:
    store = ProgressStore(f"sqlite:///{tmp_path / 'p.sqlite'}")
    watch = Watch(room_lessons(), store, lambda _n: None, roster=("ada", "bob"))
    try:
        grid = watch.grid(LESSON)
        rows = {r["name"]: r for r in grid["learners"]}
        assert sorted(rows) == ["ada", "bob"]
        assert {r["engine"] for r in rows.values()} == {"not started"}
        assert all(c["status"] == "not_tried" for r in rows.values() for c in r["steps"].values())
        assert grid["summary"]["learners"] == 2
        assert grid["summary"]["engines_down"] == []  # not started is not down
        assert grid["summary"]["stuck"] == []
        watch.request(CheckRequest("ada", LESSON, frozenset(), "recheck"))
        settle(watch, 1)
        assert {r["name"]: r["engine"] for r in watch.grid(LESSON)["learners"]} == {
            "ada": "stopped",  # looked at now: no engine answers
            "bob": "not started",
        }
    finally:
        watch.stop()
        store.close()


def test_a_request_joins_the_one_queued_in_the_order_they_came(watch: Watch) -> None:
    with watch._lock:  # nothing runs while the queue is filled
        watch.request(CheckRequest("ada", LESSON, frozenset({"run-nginx"})))
        watch.request(
            CheckRequest("ada", LESSON, cause="start over", reset=frozenset({"run-nginx"}))
        )
        watch.request(CheckRequest("ada", None, cause="change"))  # a round says less
        queued = watch._queue["ada"]
        assert (queued.cause, queued.steps, queued.reset) == ("start over", set(), {"run-nginx"})
        watch.request(CheckRequest("ada", LESSON, frozenset({"run-nginx"})))  # Check after it
        queued = watch._queue["ada"]
        assert (queued.cause, queued.steps, queued.reset) == ("look", {"run-nginx"}, set())


def test_start_over_sets_the_steps_back_to_not_tried_and_a_stopped_engine_shows_last_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, FakeAPI())  # an engine with nothing on it
    host = {"ada": "unix:///fake"}
    watch = Watch(room_lessons(), ProgressStore(f"sqlite:///{tmp_path / 'p.sqlite'}"), host.get)
    try:
        watch.request(CheckRequest("ada", LESSON, frozenset({"run-nginx", "run-redis"})))
        settle(watch, 1)
        row = watch.row("ada", LESSON)
        assert row["steps"]["run-nginx"]["status"] == "failing"  # tried, not done
        checked = row["known_at"]
        assert checked > 0
        watch.request(
            CheckRequest("ada", LESSON, cause="start over", reset=frozenset({"run-nginx"}))
        )
        settle(watch, 2)
        row = watch.row("ada", LESSON)
        assert row["steps"]["run-nginx"]["status"] == "not_tried"
        assert row["steps"]["run-redis"]["status"] == "failing"  # not started over
        history = watch.store.attempts("ada", LESSON)
        assert any(a.cause == "start over" and a.step == "run-nginx" for a in history)
        watch.learners["ada"].ready = True  # as the doctor found it
        host.pop("ada")  # the engine stopped
        watch.request(CheckRequest("ada", LESSON, cause="change"))
        settle(watch, 3)
        row = watch.row("ada", LESSON)
        assert row["engine"] == "stopped"
        assert row["ready"] is None  # not "ready" any more: unknown until it is back
        assert row["known_at"] >= checked  # the marks are as of the last check that ran
        assert row["known_at"] < row["checked_at"]
        assert row["steps"]["run-redis"]["status"] == "failing"  # kept, shown as last known
    finally:
        watch.stop()
        watch.store.close()


def test_the_views_own_checks_are_known_by_their_time(watch: Watch) -> None:
    before = time.time()
    watch.request(CheckRequest("ada", LESSON, cause="recheck"))
    settle(watch, 1)
    after = time.time()
    ((start, end),) = watch._windows["ada"]
    assert before <= start <= end <= after
    assert watch.ours("ada", (start + end) / 2)
    assert not watch.ours("ada", after + 1)
    assert not watch.ours("bob", (start + end) / 2)


def test_the_room_view_says_who_is_in_which_lesson_and_how_far_each_got(watch: Watch) -> None:
    from dockdojo.runner.hub.progress import LearnerRow, StepRow

    now = time.time()
    with watch._lock:
        watch.learners["ada"] = LearnerRow("ada", lesson="publishing-ports")
        watch.learners["bob"] = LearnerRow("bob", lesson=LESSON)
        for step in ("run-nginx", "run-redis"):
            watch.steps[("bob", LESSON, step)] = StepRow("bob", LESSON, step, "done", "", now, now)
        watch.steps[("bob", LESSON, "redis-cli")] = StepRow(
            "bob", LESSON, "redis-cli", "failing", "no", now, now
        )
    room = watch.grid(LESSON)["room"]
    assert [lesson["id"] for lesson in room["lessons"]][:3] == [
        "what-is-a-container",
        "what-is-an-image",
        "publishing-ports",
    ]
    people = {p["name"]: p for p in room["learners"]}
    assert people["ada"]["lesson"] == "publishing-ports"
    assert people["bob"]["lesson"] == LESSON
    assert people["bob"]["done"][LESSON] == 2  # failing does not count
    assert people["ada"]["done"] == dict.fromkeys(people["ada"]["done"], 0)
