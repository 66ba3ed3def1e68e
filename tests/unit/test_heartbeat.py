"""A widget's sign of life (widgets.common.heartbeat), without a page: the kernel keeps
drawing it anew while it runs, and the note it hides says what to do when it stops."""

from __future__ import annotations

import time

import pytest

from dockdojo.widgets import common


def test_the_kernel_draws_the_note_anew_while_it_runs_and_it_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(common, "BEAT", 0.05)
    monkeypatch.setattr(common, "synchronous", lambda: False)
    (heart,) = common.heartbeat()
    first = heart.value
    assert "visibility:hidden" in first  # hidden while signs of life come
    assert f"{common.SILENT_AFTER:.0f}s forwards" in first  # shown after the silence
    assert "kernel restarted or stopped" in first
    assert "Run All Cells" in first
    deadline = time.monotonic() + 5
    while heart.value == first and time.monotonic() < deadline:
        time.sleep(0.02)
    assert heart.value != first, "no sign of life was sent"
    assert common.BEAT < common.SILENT_AFTER


def test_graded_and_headless_runs_get_no_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "synchronous", lambda: True)
    assert common.heartbeat() == []
