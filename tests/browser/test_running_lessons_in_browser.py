"""A learner clicks through each "Running containers" lesson in JupyterLab, in Chromium,
step by step as the lesson declares them: a step that needs an image an earlier lesson
pulled is offered its Pull first, then the step's own widget does the step (Pull, Run
with the settings the step fills in, the Containers view, the console's suggestions,
Stop...), and the step's check mark shows. A screenshot per step is saved in
build/screenshots/ (or $DOCKDOJO_SCREENSHOTS) as r-LESSON-NN-STEP.png.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from browser.labserver import Lab
from browser.test_lesson_in_browser import (  # fresh_world: a fixture
    SHOTS,
    button,
    done,
    fresh_world,  # noqa: F401
    run_all,
)
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from dockdojo.content import COURSE
from dockdojo.runner import course, load_lesson
from dockdojo.runner.authoring import Step

RUNNING = [n for n in course() if n in COURSE[COURSE.index("publishing-ports") :]]


def offer_needs(step: Locator, needs: tuple[str, ...]) -> None:
    """The step's note on what an earlier lesson pulled, and its Pull, until it goes."""
    note = step.get_by_text("This step needs")
    expect(note).to_be_visible()
    for image in needs:
        button(step, f"Pull {image}").click()
    expect(note).to_have_count(0, timeout=120_000)


def console(step: Locator, lines: list[str]) -> None:
    """Connect the step's exec console and send each suggested line."""
    button(step, "↻").click()
    expect(step.locator("select").first).not_to_have_value("", timeout=30_000)
    button(step, "Connect").click()
    expect(step.get_by_text(re.compile("Connected to"))).to_be_visible(timeout=60_000)
    for line in lines:
        button(step, line).click()
        expect(step.locator(".dojo-input input")).to_have_value(line)
        button(step, "Send").click()
        expect(step.locator("pre.dojo-term")).to_contain_text(line, timeout=30_000)


def done_or_check_again(step: Locator) -> None:
    """The step's mark turns done; a server still starting (PostgreSQL sets up its
    database first) is checked again as a learner would, with Check, after a while."""
    mark = step.get_by_text("✅ Done")
    for _ in range(12):
        try:
            expect(mark).to_be_visible(timeout=5_000)
            return
        except AssertionError:
            button(step, "Check").click()
    done(step)


BUTTONS = {
    "build": "Build {tag}",
    "compose-up": "Compose up",
    "compose-down": "Compose down",
    "write-file": "Save",
    "network-create": "Create",
    "volume-create": "Create",
}
"""The button that does a step of these kinds, in its widget."""


def act(page: Page, step: Locator, declared: Step, docker_host: str) -> None:
    """Do the step with its widget, as a learner does."""
    assert declared.action is not None
    kind, args = declared.action.kind, declared.action.args
    if kind == "pull":
        for image in args["images"]:
            button(step, f"Pull {image}").click()
    elif kind == "run":
        button(step, "Run").click()
        another = button(step, "Run another")
        page.wait_for_timeout(1500)
        if another.is_visible():  # the image runs already (an earlier step's): another
            another.click()
    elif kind == "exec":
        program = " ".join(str(a) for a in args["command"])  # the first suggestion
        console(step, [program, *(str(line) for line in args.get("suggest") or ())])
        button(step, "Check").click()
    elif kind == "stop-container":
        button(step, "Stop").first.click()
    elif kind in BUTTONS:
        button(step, BUTTONS[kind].format(**args)).click()
    elif kind == "volume-remove":  # the Delete of the volume's row in the Volumes view
        row_name = step.locator("b", has_text=re.compile(f"^{re.escape(str(args['name']))}$"))
        cell = row_name.locator(
            "xpath=ancestor::div[contains(concat(' ', @class, ' '), ' widget-html ')][1]"
        )
        cell.locator("xpath=following-sibling::*[4]").click()
    elif kind == "remove-container":  # the step says: docker rm in a terminal, then Check
        subprocess.run(
            ["docker", "rm", "-f", str(args["name"])],
            env={**os.environ, "DOCKER_HOST": docker_host},
            check=True,
            capture_output=True,
        )
        button(step, "Check").click()
    else:  # a view (containers, volumes, networks): look, then Check
        button(step, "Check").click()


@pytest.mark.usefixtures("fresh_world")
@pytest.mark.parametrize("name", RUNNING)
def test_a_learner_clicks_through_a_running_containers_lesson(
    name: str, lab: Lab, page: Page, docker_host: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    lesson = load_lesson(name)
    page.goto(lab.notebook_url(f"{name}.ipynb"))
    run_all(page, timeout=120)
    guided = [s for s in lesson.steps if not s.exercise]
    progress = page.locator(".dojo-progress")
    expect(progress.get_by_text(f"0 of {len(lesson.steps)} steps done")).to_be_visible()
    for number, declared in enumerate(guided, 1):
        step = page.locator(f".dojo-step-{declared.id}")
        step.scroll_into_view_if_needed()
        try:
            if declared.needs:
                offer_needs(step, declared.needs)
            act(page, step, declared, docker_host)
            done_or_check_again(step)
        except (AssertionError, PlaywrightError):  # what the learner saw, for the report
            step.screenshot(path=str(SHOTS / f"r-{name}-{number:02d}-FAILED-{declared.id}.png"))
            raise
        step.screenshot(path=str(SHOTS / f"r-{name}-{number:02d}-{declared.id}.png"))
    expect(progress.get_by_text(f"{len(guided)} of {len(lesson.steps)} steps done")).to_be_visible(
        timeout=60_000
    )
