"""Fixtures shared by the unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockdojo.runner.authoring import Lesson
from dockdojo.runner.lessons import load_lesson

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lesson() -> Lesson:
    """The seed lesson, read as the project's own folder holds it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        return load_lesson("what-is-an-image")
