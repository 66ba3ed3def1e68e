"""A step that needs an image an earlier lesson pulled, on the real engine: the widget
says so and its Pull fixes it; ``run --solve`` pulls it first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ipywidgets import HTML
from lesson_kit import action, build_image, check, drop_image, lesson, step

from dockdojo.runner import Engine, solve_lesson
from dockdojo.runner.authoring import Step
from dockdojo.widgets import PullWidget
from dockdojo.widgets.needs import NeedsBox


@pytest.fixture
def sync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKDOJO_WIDGETS_SYNC", "1")


@pytest.fixture
def gone_image(images: Engine) -> Iterator[str]:
    """An image of this test's own, in the registry but not on the engine."""
    tag = build_image(images, "busybox")
    images.remove_image(tag, force=True)
    yield tag
    drop_image(images, tag)


def _needing(tag: str) -> Step:
    base = step(
        "run-it",
        check("container_running", image=tag),
        act=action("run", image=tag, command=["sleep", "30"]),
    )
    return Step(**{**base.__dict__, "needs": (tag,), "needs_lesson": "what-is-a-container"})


@pytest.mark.usefixtures("sync")
def test_the_widget_names_the_missing_image_and_its_pull_fixes_it(
    images: Engine, gone_image: str
) -> None:
    box = NeedsBox(images, _needing(gone_image))
    kids: list[object] = list(box.children)
    note, pull = kids
    assert isinstance(note, HTML)
    assert isinstance(pull, PullWidget)
    assert gone_image in note.value
    assert "what-is-a-container" in note.value
    pull.quick[0].click()
    assert images.image(gone_image) is not None
    assert box.children == ()
    assert NeedsBox(images, _needing(gone_image)).children == ()


def test_solving_pulls_what_the_step_needs_first(
    images: Engine, gone_image: str, cleanup: list[str]
) -> None:
    needing = _needing(gone_image)
    with Engine(images.base_url, lesson="needs-test", learner="pytest") as engine:
        report = solve_lesson(engine, lesson("needs-test", needing), fresh=True)
        cleanup.extend(c.id for c in engine.containers(labels={"dockdojo.lesson": "needs-test"}))
    assert report.passed, report
