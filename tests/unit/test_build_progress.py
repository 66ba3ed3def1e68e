"""Build progress from the classic builder's stream, and a failure's message (no engine:
the events are the ones the engine sends, written out)."""

from __future__ import annotations

from typing import Any

from dockdojo.runner.engine.building import BuildTracker

EVENTS: list[dict[str, Any]] = [
    {"stream": "Step 1/4 : FROM busybox\n"},
    {"stream": " ---> 1a2b3c4d5e6f\n"},
    {"stream": "Step 2/4 : RUN echo hi && exit 2\n"},
    {"stream": " ---> Running in 0f0f0f0f0f0f\n"},
    {"stream": "hi\n"},
    {"stream": "Step 3/4 : LABEL dockdojo.lesson=l\n"},
    {"stream": " ---> Running in 0e0e0e0e0e0e\n"},
    {"stream": "Step 4/4 : LABEL dockdojo.step=s\n"},
    {"aux": {"ID": "sha256:" + "ab" * 32}},
    {"stream": "Successfully built abababababab\n"},
]


def test_steps_count_the_dockerfiles_own_and_every_line_is_handed_over_once() -> None:
    tracker = BuildTracker("web:latest", label_steps=2)
    shown: list[str] = []
    fractions = []
    for event in EVENTS:
        tracker.feed(event)
        snapshot = tracker.snapshot()
        shown += snapshot.lines
        fractions.append(snapshot.fraction)
    assert shown == [
        "Step 1/2 : FROM busybox",
        " ---> 1a2b3c4d5e6f",
        "Step 2/2 : RUN echo hi && exit 2",
        " ---> Running in 0f0f0f0f0f0f",
        "hi",
        "Successfully built abababababab",
    ]
    assert fractions == sorted(fractions)
    assert max(fractions) < 1.0
    last = tracker.snapshot(finished=True)
    assert last.fraction == 1.0
    assert last.lines == ()
    assert last.describe() == "100%  built web:latest (image abababababab)"


def test_a_failing_run_is_told_with_its_step_and_output() -> None:
    tracker = BuildTracker("web:latest")
    for event in EVENTS[:5]:
        tracker.feed(event)
    assert tracker.snapshot().describe() == " 25%  step 2/4: RUN echo hi && exit 2"
    error = tracker.failed(
        "The command '/bin/sh -c echo hi && exit 2' returned a non-zero code: 2", None
    )
    assert error.what.startswith("The build of web:latest stopped at step 2/4 (RUN echo hi")
    assert error.what.endswith("Its last lines of output:\nhi")


def test_a_failing_from_is_a_missing_base_image() -> None:
    tracker = BuildTracker("web:latest")
    tracker.feed({"stream": "Step 1/2 : FROM nosuch:1\n"})
    error = tracker.failed("pull access denied for nosuch, repository does not exist", None)
    assert error.what.startswith("The base image nosuch:1 (the Dockerfile's FROM) is not")
    assert "docker pull nosuch:1" in error.hint
