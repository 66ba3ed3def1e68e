"""The engine's past from dockdojo's journal, on the sandbox engine dockdojo started.

dockerd forgets all but its last 256 events, execs among them; the journal, recorded by
the process that started the engine, keeps what checks need to know of the past.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from common_kit import until
from lesson_kit import build_image, check, drop_image, lesson, step

from dockdojo.runner import Engine
from dockdojo.runner.kinds import run_check

Namer = Callable[[str], str]


def test_a_removal_is_known_after_the_engine_has_forgotten_it(
    images: Engine, name: Namer, cleanup: list[str]
) -> None:
    journal = images.journal()
    assert journal is not None, "the sandbox's engine names no journal of dockdojo's"
    started = time.time()
    tag = build_image(images, "redis")  # arrives by a tag event
    familiar = tag.removesuffix(":latest")
    gone = name("gone")
    images.run("redis", name=gone)
    images.remove_container(gone)
    drop_image(images, tag)
    until(lambda: any(n == gone for _, n in journal.history(started).removals), "the removal")

    busy = name("busy")
    cleanup.append(busy)
    images.run("redis", name=busy)
    for _ in range(300):  # more than the engine keeps: its own log forgets the past
        images.exec(busy, ["redis-cli", "PING"])
    api = images.api_client()
    remembered = list(api.events(since=int(started), until=f"{time.time():.9f}", decode=True))
    assert not any(tag in str(e.get("Actor")) for e in remembered)

    history = images.history(started)
    assert history.complete
    assert any(n == tag for _, n in history.arrivals)
    checks = lesson(
        "journal-test",
        step(
            "remove",
            check("image_removed", image=familiar),
            check("container_removed", name=gone),
        ),
    )
    the_step = checks.steps[0]
    for spec in the_step.checks:
        result = run_check(images, checks, the_step, spec)
        assert result.passed, result.message
        assert result.evidence["removed"] is True


def test_a_check_on_an_engine_without_a_journal_says_its_history_may_be_incomplete(
    docker_host: str, images: Engine, name: Namer, cleanup: list[str]
) -> None:
    """As on Docker Desktop: no journal, and more events than the engine keeps."""
    busy = name("busy")
    cleanup.append(busy)
    images.run("redis", name=busy)
    for _ in range(260):
        images.exec(busy, ["redis-cli", "PING"])
    desktop = Engine(docker_host, lesson="journal-test", journal=False)  # as on Desktop
    checks = lesson("journal-test", step("remove", check("image_removed", image="never-here")))
    the_step = checks.steps[0]
    result = run_check(desktop, checks, the_step, the_step.checks[0])
    assert result.passed
    assert result.evidence["history"] == "incomplete"
    assert "may be incomplete" in result.message
    assert "256" in result.message


def test_a_removal_asked_twice_needs_the_second_container_of_the_name_gone(
    images: Engine, name: Namer
) -> None:
    """As "Sharing local files" deletes my_site twice: the second Delete is not done by
    the first."""
    journal = images.journal()
    assert journal is not None
    started = time.time()
    site = name("site")
    checks = lesson("journal-test", step("again", check("container_removed", name=site, times=2)))
    the_step = checks.steps[0]

    def removed(count: int) -> None:
        images.run("redis", name=site)
        images.remove_container(site)
        until(
            lambda: sum(n == site for _, n in journal.history(started).removals) == count,
            f"removal {count}",
        )

    removed(1)
    once = run_check(images, checks, the_step, the_step.checks[0])
    assert not once.passed
    assert f"shows {site} removed once, and this step asks for twice" in once.message
    removed(2)
    twice = run_check(images, checks, the_step, the_step.checks[0])
    assert twice.passed, twice.message
    assert twice.message == f"The container {site} was removed (twice)."
