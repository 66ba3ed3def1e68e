"""Persisting container data, as a learner meets it in the notebook: the steps up to
new-db solved, then the Volumes view of the lesson shows postgres_data with new-db and
its files, refuses to delete it while new-db uses it (saying how to fix that), and
deletes it once new-db is gone; the lesson's checks follow."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockdojo.runner import DockdojoError, Engine, load_lesson, solve_lesson
from dockdojo.widgets import LessonView, VolumesWidget

LESSON = "persisting-container-data"
ROOT = Path(__file__).resolve().parents[2]
UNTIL_NEW_DB = ["pull-postgres", "run-db", "create-table", "remove-db", "run-new-db"]


def text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@pytest.fixture
def engine(docker_host: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    monkeypatch.setenv("DOCKDOJO_WIDGETS_SYNC", "1")
    monkeypatch.chdir(ROOT)
    with Engine(docker_host, lesson=LESSON, learner="volume-lesson-test") as engine:
        yield engine
        for ref in ("db", "new-db"):
            with contextlib.suppress(DockdojoError):
                engine.remove_container(ref, force=True)
        with contextlib.suppress(DockdojoError):
            engine.volume_manager().remove("postgres_data", force=True)


def _volumes_view(box: object) -> VolumesWidget:
    found = [c for c in getattr(box, "children", ()) if isinstance(c, VolumesWidget)]
    assert found, "the step shows no Volumes view"
    return found[0]


def test_the_volumes_view_of_the_lesson_shows_deletes_and_is_checked(engine: Engine) -> None:
    with contextlib.suppress(DockdojoError):  # a volume left by an earlier run would
        engine.remove_container("new-db", force=True)  # hold an older table
    with contextlib.suppress(DockdojoError):
        engine.volume_manager().remove("postgres_data", force=True)
    solved = solve_lesson(engine, load_lesson(LESSON), fresh=True, step_ids=UNTIL_NEW_DB)
    assert all(s.passed for s in solved.steps), [r.message for s in solved.steps for r in s.results]

    view = LessonView(LESSON, engine=engine)
    volumes = _volumes_view(view.step("view-volume"))
    shown = text(" ".join(getattr(c, "value", "") for c in volumes.table.children))
    assert "postgres_data" in shown
    assert "new-db (/var/lib/postgresql)" in shown
    files = volumes.open_volume("postgres_data")
    assert "data" in [value for _, value in files.entries.options]  # the cluster's folder
    assert view.done["view-volume"]

    remove = _volumes_view(view.step("remove-volume"))
    assert remove.new_name.value == ""  # the Create field is not the step's name
    assert remove.delete("postgres_data")  # refused: the status says why
    said = text(remove.status.value)
    assert "The volume postgres_data is in use by 1 container: new-db (running)" in said
    assert "docker rm -f new-db" in said
    engine.remove_container("new-db", force=True)
    assert remove.delete("postgres_data")
    assert "Deleted the volume postgres_data." in text(remove.status.value)
    report = view.evaluate()
    done = {s.step: s.passed for s in report.steps}
    assert done["remove-new-db"]
    assert done["remove-volume"]
    assert done["create-table"]  # undone by removing the volume, as the guide asks

    # Start over: the removals the engine saw (its own too) are not this new try's
    again = solve_lesson(engine, load_lesson(LESSON), step_ids=UNTIL_NEW_DB)
    assert all(s.passed for s in again.steps)
    removed = view.start_over()
    assert set(removed.containers) == {"new-db"}
    assert removed.volumes == ("postgres_data",)  # made by docker run -v, labelled
    done = {s.step: s.passed for s in view.evaluate().steps}
    assert not done["remove-new-db"], "Start over's own removal counted as the step"
    assert not done["remove-volume"]
