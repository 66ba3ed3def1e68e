"""The course's order and what lessons need from each other (no engine): the order is
said once (``dockdojo.content.COURSE``), every lesson is in it, and each step's ``needs``
names an earlier lesson that really pulls the image."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockdojo.content import COURSE
from dockdojo.runner import LessonError, course, load_lesson, parse_lesson

ROOT = Path(__file__).resolve().parents[2]


def test_every_lesson_is_in_the_course_in_the_order_said_once() -> None:
    sources = {p.stem for p in (ROOT / "content").glob("*.md")}
    assert sources <= set(COURSE), "add the new lesson to dockdojo.content.COURSE"
    assert course() == tuple(n for n in COURSE if n in sources)
    assert course()[0] == "what-is-a-container"


def test_what_a_step_needs_is_pulled_by_the_earlier_lesson_it_names() -> None:
    order = course()
    found = 0
    for name in order:
        for step in load_lesson(name).steps:
            if not step.needs:
                continue
            found += 1
            assert step.needs_lesson in order[: order.index(name)], (name, step.id)
            earlier = load_lesson(step.needs_lesson)
            pulled = {
                str(i)
                for s in earlier.steps
                for a in (s.action, *s.solve)
                if a is not None and a.kind == "pull"
                for i in a.args["images"]
            }
            assert set(step.needs) <= pulled, (name, step.id, pulled)
    assert found > 0


@pytest.mark.parametrize(
    "needs",
    [
        "needs: docker/welcome-to-docker",
        "needs: {images: []}",
        "needs: {images: [nginx], lesson: Not A Name}",
        "needs: {image: [nginx]}",
    ],
)
def test_a_badly_written_need_says_how_to_write_it(tmp_path: Path, needs: str) -> None:
    source = tmp_path / "bad.md"
    source.write_text(
        "---\ntitle: Bad\n---\n\n```{step} s1\ntitle: S\n"
        f"{needs}\naction: images\nchecks:\n  - check: image_present\n    image: nginx\n```\n"
    )
    with pytest.raises(LessonError) as caught:
        parse_lesson(source)
    assert "needs: {images: [IMAGE, ...], lesson: LESSON-NAME}" in str(caught.value)


def test_a_need_is_an_image_of_the_lesson(tmp_path: Path) -> None:
    source = tmp_path / "good.md"
    source.write_text(
        "---\ntitle: Good\n---\n\n```{step} s1\ntitle: S\n"
        "needs: {images: [docker/welcome-to-docker], lesson: what-is-a-container}\n"
        "action: run\nimage: docker/welcome-to-docker\nchecks:\n"
        "  - check: container_running\n    image: docker/welcome-to-docker\n"
        "    hint: Run it.\n```\n"
    )
    (step,) = parse_lesson(source).steps
    assert step.needs == ("docker/welcome-to-docker",)
    assert step.needs_lesson == "what-is-a-container"
    assert parse_lesson(source).images == ("docker/welcome-to-docker",)
