"""A learner clicks through "What is a container?" in JupyterLab, in Chromium: pull
welcome-to-docker, run it named welcome-to-docker on host port 8080 and open its page,
look inside it in the Containers view (Files), and stop it there. After each step its
check mark shows; the course at the top lists the next lesson. A screenshot per step is
saved in build/screenshots/ (or $DOCKDOJO_SCREENSHOTS) as c01... to c06...
"""

from __future__ import annotations

import pytest
from browser.labserver import Lab
from browser.test_lesson_in_browser import (  # fresh_world: a fixture
    SHOTS,
    button,
    done,
    fresh_world,  # noqa: F401
    run_all,
)
from playwright.sync_api import Locator, Page, expect


def shot(name: str, target: Page | Locator) -> None:
    target.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.mark.usefixtures("fresh_world")
def test_a_learner_clicks_through_what_is_a_container(lab: Lab, page: Page) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # a workspace of its own: the other lessons' walks open theirs in the default one
    page.goto(
        f"{lab.url}/lab/workspaces/first-lesson/tree/what-is-a-container.ipynb?token={lab.token}"
    )
    run_all(page)
    progress = page.locator(".dojo-progress")
    expect(progress.get_by_text("0 of 6 steps done")).to_be_visible()
    course = progress.locator(".dojo-course")
    expect(course.locator('a[href="what-is-an-image.ipynb"]')).to_have_text("What is an image?")
    shot("c01-course", progress)

    # Pull welcome-to-docker
    step = page.locator(".dojo-step-pull-welcome")
    step.scroll_into_view_if_needed()
    button(step, "Pull docker/welcome-to-docker").click()
    expect(step.get_by_text("Pulled docker/welcome-to-docker:latest")).to_be_visible(
        timeout=120_000
    )
    done(step)
    shot("c02-pulled", step)

    # Run it, named welcome-to-docker, on host port 8080, and open its page
    step = page.locator(".dojo-step-run-welcome")
    step.scroll_into_view_if_needed()
    expect(step.get_by_label("Name", exact=True)).to_have_value("welcome-to-docker")
    expect(step.get_by_label("Host port for 80/tcp")).to_have_value("8080")
    button(step, "Run").click()
    link = step.locator("a.dojo-link")
    expect(link).to_have_attribute("href", "http://localhost:8080/", timeout=60_000)
    with page.expect_popup() as popup:
        link.click()
    site = popup.value
    site.wait_for_load_state()
    expect(site.get_by_text("Congratulations!!!")).to_be_visible()
    shot("c03-welcome-page", site)
    site.close()
    done(step)
    shot("c04-running", step)

    # The Containers view: the container's row, then its Files
    step = page.locator(".dojo-step-view-containers")
    step.scroll_into_view_if_needed()
    row = step.locator(".widget-html-content", has_text="welcome-to-docker")
    expect(row.first).to_be_visible()
    expect(step.locator("a.dojo-link", has_text="8080:80")).to_be_visible()
    button(step, "Open").click()
    step.locator(".lm-TabBar-tab", has_text="Files").click()
    listing = step.locator(".widget-select select")
    expect(listing.locator("option", has_text="etc/")).to_have_count(1)
    listing.select_option(label="📁 etc/")
    expect(step.get_by_label("Folder")).to_have_value("/etc")
    listing = step.locator(".widget-select select")
    hostname = listing.locator("option", has_text="📄 hostname")
    expect(hostname).to_have_count(1)
    listing.select_option(label=hostname.inner_text())
    expect(step.locator("b", has_text="/etc/hostname")).to_be_visible()
    button(step, "Check").click()
    done(step)
    shot("c05-files", step)

    # Stop it with the Stop of its row
    step = page.locator(".dojo-step-stop-welcome")
    step.scroll_into_view_if_needed()
    button(step, "Stop").click()
    # the row's Start replaces its Stop once it stopped (the note "Stopped ..." may be
    # redrawn away by the list following the engine before it is seen)
    expect(step.locator(".widget-button", has_text="Start")).to_be_visible(timeout=60_000)
    done(step)
    shot("c06-stopped", step)
    # the guide's steps are done (the exercises are the learner's own)
    expect(progress.get_by_text("4 of 6 steps done")).to_be_visible(timeout=30_000)
