"""Volume and network check kinds declared wrongly fail with a sentence saying what is
wrong; no engine is asked (the engine address leads nowhere)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from lesson_kit import check, lesson, step

from dockdojo.runner import LABEL_HELPER, Engine
from dockdojo.runner.engine import Snapshot
from dockdojo.runner.kinds import CheckResult, run_step_checks

NOWHERE = "unix:///nonexistent/dockdojo-unit.sock"


@pytest.fixture
def nowhere() -> Iterator[Engine]:
    with Engine(NOWHERE, lesson="unit") as engine:
        yield engine


def _results(engine: Engine, *checks: object) -> list[CheckResult]:
    the_lesson = lesson("unit", step("s", *checks))  # type: ignore[arg-type]
    snapshot = Snapshot((), (), NOWHERE)
    return run_step_checks(engine, the_lesson, the_lesson.steps[0], snapshot=snapshot)


def test_store_checks_declared_wrongly_say_what_is_missing(nowhere: Engine) -> None:
    results = _results(
        nowhere,
        check("volume_holds", volume="postgres_data"),
        check("volume_exists"),
        check("on_network", network="sample-app"),
        check("containers_reach", name="web", target="redis", port="sixty"),
        check("network_exists", network="sample-app", alias="x"),
    )
    assert [r.passed for r in results] == [False] * 5
    assert results[0].message == (
        "The check is declared wrongly: volume_holds needs one of 'path', 'command'."
    )
    assert "volume_exists" in results[1].message
    assert "'volume'" in results[1].message
    assert "'name'" in results[2].message
    assert "'port' must be a port number such as 80 or 80/tcp" in results[3].message
    assert "'alias'" in results[4].message


def test_store_checks_on_an_engine_that_is_not_there_fail_with_a_sentence(
    nowhere: Engine,
) -> None:
    results = _results(
        nowhere,
        check("volume_exists", volume="postgres_data"),
        check("network_exists", network="sample-app"),
    )
    assert [r.passed for r in results] == [False, False]
    assert all("No Docker Engine answered" in r.message for r in results)


def test_a_helper_containers_events_do_not_count_as_changes() -> None:
    from dockdojo.runner.engine.live import QUIET, _helper

    helper = {"Type": "container", "Action": "create", "Actor": {"Attributes": {LABEL_HELPER: "x"}}}
    learners = {"Type": "container", "Action": "create", "Actor": {"Attributes": {"name": "db"}}}
    assert _helper(helper)
    assert not _helper(learners)
    assert not _helper({"Type": "volume", "Action": "create"})
    assert "mount".startswith(QUIET)
    assert not "destroy".startswith(QUIET)
