"""The ``logs_contain`` check against containers of a real engine."""

from __future__ import annotations

import time
from collections.abc import Callable

from lesson_kit import check, lesson, step

from dockdojo.runner import Engine
from dockdojo.runner.kinds import run_step_checks


def test_a_log_line_is_found_or_its_absence_said(
    images: Engine, cleanup: list[str], name: Callable[[str], str]
) -> None:
    kv = images.run("redis", name=name("logs"))
    cleanup.append(kv.id)
    the_lesson = lesson(
        "logs-test",
        step(
            "s",
            check("logs_contain", name=kv.name, contains="Ready to accept connections"),
            check("logs_contain", name=kv.name, contains="no such line", tail=50),
            check("logs_contain", name=name("absent"), contains="anything"),
        ),
    )
    deadline = time.monotonic() + 10
    while True:
        results = run_step_checks(images, the_lesson, the_lesson.steps[0])
        if results[0].passed or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [r.passed for r in results] == [True, False, False]
    assert results[0].message.startswith(f"The logs of {kv.name} say ")
    assert "Ready to accept connections" in results[0].evidence["line"]
    assert results[1].message == (
        f"The last 50 log lines of {kv.name} do not contain 'no such line'."
    )
    assert results[2].message.startswith("There is no container named absent-")
    assert results[2].message.endswith(", so there are no logs to read.")

    images.stop_container(kv.name, timeout=1)
    (stopped,) = run_step_checks(images, the_lesson, the_lesson.steps[0])[:1]
    assert stopped.passed, "a stopped container's log can still be read"
