"""A command that prints without end cannot fill the caller's memory: ``Engine.exec``
keeps at most ``max_output`` bytes, and a check over such a command fails cleanly."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

from lesson_kit import check, lesson, step

from dockdojo.runner import Engine
from dockdojo.runner.kinds import run_step_checks

ENDLESS = ["sh", "-c", "while :; do echo 0123456789abcdefghijklmnopqrstuvwxyz; done"]


def test_endless_output_is_cut_at_the_limit(
    images: Engine, cleanup: list[str], name: Callable[[str], str]
) -> None:
    kv = images.run("redis", name=name("loud"))
    cleanup.append(kv.id)
    started = time.monotonic()
    result = images.exec(kv.name, ENDLESS, max_output=100_000, timeout=20)
    assert time.monotonic() - started < 15
    assert result.truncated
    assert len(result.output) == 100_000
    assert result.output.startswith("0123456789abcdef")

    small = images.exec(kv.name, ["redis-cli", "PING"])
    assert not small.truncated
    assert small.output.strip() == "PONG"


def test_a_check_over_a_flood_fails_cleanly_within_bounded_memory(
    images: Engine, cleanup: list[str], name: Callable[[str], str]
) -> None:
    kv = images.run("redis", name=name("flood"))
    cleanup.append(kv.id)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    the_lesson = lesson(
        "flood", step("s", check("command_output", name=kv.name, command=ENDLESS, expect="quiet"))
    )
    (result,) = run_step_checks(images, the_lesson, the_lesson.steps[0], timeout=20)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert not result.passed
    assert result.evidence["runs"][0]["truncated"] is True
    assert len(result.evidence["runs"][0]["output"]) <= 200
    assert grown_mb < 50, f"the check grew the process by {grown_mb:.0f} MB"
