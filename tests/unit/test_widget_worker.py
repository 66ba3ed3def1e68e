"""The widgets' Worker: what a learner reads in a widget's status line while a job runs
and after it ends (plain ipywidgets objects, no kernel needed)."""

from __future__ import annotations

import ipywidgets as w

from dockdojo.runner.errors import DockdojoError
from dockdojo.widgets.common import Worker, note


def test_a_busy_note_goes_when_a_job_that_says_nothing_ends() -> None:
    status = w.HTML()
    worker = Worker(status, sync=True)
    seen = []
    worker.start(lambda: seen.append(status.value), "Checking every step against the engine…")
    assert "Checking every step" in seen[0]  # shown while it ran
    assert status.value == ""
    assert not worker.busy


def test_what_a_job_says_stays() -> None:
    status = w.HTML()
    worker = Worker(status, sync=True)

    def job() -> None:
        status.value = note("ok", "Started over: removed 2 containers.")

    worker.start(job, "Starting over…")
    assert "Started over" in status.value


def test_a_failure_stays_as_a_sentence() -> None:
    status = w.HTML()
    worker = Worker(status, sync=True)

    def job() -> None:
        raise DockdojoError("The engine did not answer.", "Start it, then check again.")

    worker.start(job, "Checking…")
    assert "did not answer" in status.value
    assert "Checking…" not in status.value


def test_a_busy_note_goes_in_a_thread_too() -> None:
    status = w.HTML()
    worker = Worker(status, sync=False)
    worker.start(lambda: None, "Pulling…")
    worker.wait(10)
    assert status.value == ""
