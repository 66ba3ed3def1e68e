"""A learner clicks through the first lesson in JupyterLab, in Chromium.

Every step of the guide, as its widget offers it: pull nginx, redis and mongo (the
progress bar moves), the Images table, run nginx on a random port and follow the port
link, redis-cli and mongosh in the exec console, and deleting nginx through the
"in use" flow. After each step its check mark shows. A screenshot per step is saved in
build/screenshots/ (or $DOCKDOJO_SCREENSHOTS).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from browser.labserver import ROOT, Lab
from playwright.sync_api import Locator, Page, expect

from dockdojo.runner import Engine, Sandbox

SHOTS = Path(os.environ.get("DOCKDOJO_SCREENSHOTS", ROOT / "build" / "screenshots"))
INSERT = 'db.test.insertOne({ active: true, email: "moby@docker.com" });'
FIND = 'db.test.findOne({ email: "moby@docker.com" })'


@pytest.fixture
def fresh_world(docker_host: str) -> None:
    """No images, containers, volumes or networks of a learner, and an engine with no
    memory of earlier ones (its journal gone too): the learner starts from scratch (on
    the test sandbox, restarted). Images go by the engine's prune, which removes a built
    image before the image it was built on."""
    with Engine(docker_host) as engine:
        for container in engine.containers():
            engine.remove_container(container.id, force=True)
        api = engine.api_client(120)
        api.prune_images(filters={"dangling": False})
        api.prune_volumes()
        api.prune_networks()
        assert not engine.images(), "images are left on the engine"
    state = os.environ.get("DOCKDOJO_TEST_SANDBOX_STATE")
    if not state:
        pytest.fail("DOCKDOJO_TEST_SANDBOX_STATE is not set: run this through make test.")
    box = Sandbox(Path(state))
    box.stop()
    box.journal.unlink(missing_ok=True)  # dockdojo's memory of the engine's past, too
    box.start()


def button(scope: Locator, name: str) -> Locator:
    """A widget button by its text (icons aside) or, failing that, by its tooltip."""
    by_text = scope.locator(
        "button.widget-button", has_text=re.compile(f"^\\s*{re.escape(name)}\\s*$")
    )
    by_title = scope.locator(f"button.widget-button[title={json.dumps(name)}]")
    return by_text.or_(by_title).first


def run_all(page: Page, timeout: float = 60) -> None:
    """The open notebook's kernel started (its own, Python 3), then Run All Cells, until
    the lesson's progress panel shows."""
    expect(page.locator(".jp-Notebook")).to_be_visible()
    select_kernel = page.get_by_role("dialog").get_by_role("button", name="Select Kernel")
    news = page.get_by_role("alert").get_by_role("button", name="No", exact=True)
    kernel_idle = page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle"))
    deadline = time.monotonic() + timeout
    while not kernel_idle.count() or select_kernel.count():
        assert time.monotonic() < deadline, "the kernel did not start"
        if select_kernel.count():
            select_kernel.click()  # the kernel the notebook names (Python 3)
        if news.count():
            news.click()
        time.sleep(0.2)
    page.locator("li.lm-MenuBar-item", has_text="Run").click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()
    expect(page.locator(".dojo-progress")).to_be_visible(timeout=timeout * 1000)


def open_nginx_link(page: Page, step: Locator, pattern: str) -> tuple[Page, str]:
    """Click the step's port link (whose address matches ``pattern``); the tab it
    opens, showing nginx's welcome page, and the link's address."""
    link = step.locator("a.dojo-link")
    expect(link).to_be_visible()
    href = link.get_attribute("href") or ""
    assert re.fullmatch(pattern, href), href
    with page.expect_popup() as popup:
        link.click()
    site = popup.value
    site.wait_for_load_state()
    expect(site.locator("h1")).to_have_text("Welcome to nginx!")
    return site, href


def done(step: Locator) -> None:
    expect(step.get_by_text("✅ Done")).to_be_visible(timeout=60_000)


@pytest.mark.usefixtures("fresh_world")
def test_a_learner_clicks_through_the_first_lesson(
    lab: Lab, page: Page, capsys: pytest.CaptureFixture[str], docker_host: str
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    timings: list[str] = []

    def shot(name: str, target: Page | Locator) -> None:
        target.screenshot(path=str(SHOTS / f"{name}.png"))
        timings.append(f"{name}: {time.monotonic() - started:.1f} s")

    page.goto(lab.notebook_url("what-is-an-image.ipynb"))
    run_all(page)
    progress = page.locator(".dojo-progress")
    expect(progress.get_by_text("0 of 11 steps done")).to_be_visible()
    shot("01-lesson-opened", page)

    # Step 1: pull nginx, redis and mongo; the progress bar moves
    step = page.locator(".dojo-step-pull-images")
    step.scroll_into_view_if_needed()
    for image in ("nginx", "redis", "mongo"):
        if image == "redis":  # typed, then Pull clicked at once: the click is not lost
            field = step.locator("input[placeholder^='Search images']")
            field.fill("redis")
            button(step, "Pull").click()  # the field's change (a search) comes first
        else:
            button(step, f"Pull {image}").click()
        widths = watch_progress(step, until=f"Pulled {image}:latest")
        assert widths[-1] == 100.0, widths
        if image == "mongo":  # big enough to be seen moving
            assert len(set(widths)) >= 2, widths
    done(step)
    shot("02-pulled-images", step)

    # Step 2: the Images table
    step = page.locator(".dojo-step-view-images")
    step.scroll_into_view_if_needed()
    button(step, "Refresh").click()
    expect(step.get_by_text(re.compile(r"\d+ image\(s\) on unix:"))).to_be_visible()
    for image in ("nginx", "redis", "mongo"):
        cell = step.locator(".widget-html-content", has_text=re.compile(f"^{image}$"))
        expect(cell).to_have_count(1)
    button(step, "Check").click()
    done(step)
    shot("03-images", step)

    # Step 3: run nginx on a random port, follow the port link
    step = page.locator(".dojo-step-run-nginx")
    step.scroll_into_view_if_needed()
    expect(step.get_by_label("Host port for 80/tcp")).to_have_value("0")
    button(step, "Run").click()
    site, href = open_nginx_link(page, step, r"http://localhost:\d+/")
    shot("04-nginx-welcome-page", site)
    site.close()
    done(step)
    shot("05-nginx-running", step)
    button(step, "Run").click()  # a second Run asks first
    expect(
        step.get_by_text(re.compile(r"nginx already runs as \S+: run another\?"))
    ).to_be_visible()
    button(step, "Cancel").click()
    expect(step.locator(".dojo-card")).to_have_count(1)
    # the kernel restarts and every cell runs again: nginx is found, with its link
    page.locator("li.lm-MenuBar-item", has_text="Kernel").click()
    page.locator(".lm-Menu-item", has_text="Restart Kernel and Run All Cells").first.click()
    page.get_by_role("dialog").locator("button.jp-mod-accept").click()
    step = page.locator(".dojo-step-run-nginx")
    expect(step.get_by_text(re.compile(r"container\(s\) of nginx are already here"))).to_be_visible(
        timeout=60_000
    )
    expect(step.locator("a.dojo-link")).to_have_attribute("href", href)
    done(step)
    progress = page.locator(".dojo-progress")

    # Step 3 (redis): run it, then redis-cli in the exec console
    step = page.locator(".dojo-step-run-redis")
    step.scroll_into_view_if_needed()
    button(step, "Run").click()
    done(step)
    # the container is deleted in a terminal: its card and its check follow, unclicked
    name = step.locator(".dojo-card b").first.inner_text()
    subprocess.run(
        ["docker", "rm", "-f", name],
        env={"DOCKER_HOST": docker_host, "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    gone = step.locator(".dojo-gone", has_text=re.compile(f"{re.escape(name)}.*was deleted"))
    expect(gone).to_be_visible(timeout=5_000)
    expect(step.get_by_text("❌ Not yet")).to_be_visible(timeout=5_000)
    button(step, "Run").click()  # and it runs again, without a question: none runs now
    done(step)
    step = page.locator(".dojo-step-redis-cli")
    console_session(step, ["redis-cli", "SET test 1", "GET test"], waits=["6379>", "OK", '"1"'])
    button(step, "Check").click()
    done(step)
    shot("06-redis-cli", step)

    # Step 5: run mongo, then mongosh
    step = page.locator(".dojo-step-run-mongo")
    step.scroll_into_view_if_needed()
    button(step, "Run").click()
    done(step)
    step = page.locator(".dojo-step-mongosh")
    console_session(
        step,
        ["mongosh", INSERT, FIND],
        waits=["test>", "acknowledged: true", "email: 'moby@docker.com'"],
    )
    button(step, "Check").click()
    done(step)
    shot("07-mongosh", step)

    # Step 6: delete nginx, meet "in use", delete its container, delete the image
    step = page.locator(".dojo-step-remove-nginx")
    step.scroll_into_view_if_needed()
    expect(step.get_by_text("❌ Not yet")).to_be_visible()
    step.locator(".dojo-delete").click()
    expect(step.get_by_text("nginx:latest is in use by 1 container")).to_be_visible()
    shot("08-nginx-in-use", step)
    step.locator(".dojo-in-use").click()
    step.locator(".dojo-delete-container").click()
    expect(step.get_by_text("Select Delete again")).to_be_visible()
    step.locator(".dojo-delete").click()
    expect(step.get_by_text("Deleted nginx")).to_be_visible()
    done(step)
    shot("09-nginx-deleted", step)

    progress.scroll_into_view_if_needed()
    button(progress, "Recheck all").click()
    expect(progress.get_by_text("8 of 11 steps done")).to_be_visible()
    # the bar and every step's mark agree: 8 marks done, the 3 exercises not yet
    expect(page.locator(".dojo-check", has_text="✅ Done")).to_have_count(8)
    expect(page.locator(".dojo-check", has_text="❌ Not yet")).to_have_count(3)
    expect(page.locator(".dojo-step-pull-images")).to_contain_text("then undone by")
    shot("10-progress", progress)
    with capsys.disabled():
        print(
            f"\nbrowser walkthrough: {time.monotonic() - started:.0f} s; "
            f"screenshots in {SHOTS}:\n  " + "\n  ".join(timings)
        )


def watch_progress(step: Locator, until: str) -> list[float]:
    """The progress bar's width (percent) as it changes, until ``until`` shows."""
    bar = step.locator(".progress .progress-bar").first
    message = step.get_by_text(until)
    widths: list[float] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        style = bar.get_attribute("style") or ""
        match = re.search(r"width:\s*([\d.]+)%", style)
        if match and (not widths or float(match.group(1)) != widths[-1]):
            widths.append(float(match.group(1)))
        if message.count() and widths and widths[-1] == 100.0:
            return widths
        time.sleep(0.05)
    shown = " | ".join(step.inner_text().split("\n")[:40])
    raise AssertionError(f"{until!r} never showed; widths seen: {widths}; the step: {shown}")


def console_session(step: Locator, lines: list[str], waits: list[str]) -> None:
    """Connect the exec console, then send each line: by suggestion + Send, or typed."""
    step.scroll_into_view_if_needed()
    button(step, "↻").click()
    expect(step.locator("select").first).not_to_have_value("", timeout=30_000)
    button(step, "Connect").click()
    expect(step.get_by_text(re.compile("Connected to"))).to_be_visible()
    screen = step.locator("pre.dojo-term")
    for number, (line, wait) in enumerate(zip(lines, waits, strict=True)):
        if number % 2 == 0:  # one-click suggestion fills the input, Send sends it
            button(step, line).click()
            expect(step.locator(".dojo-input input")).to_have_value(line)
            button(step, "Send").click()
        else:  # typed, then Enter
            field = step.locator(".dojo-input input")
            field.fill(line)
            field.press("Enter")
        expect(screen).to_contain_text(wait, timeout=60_000)
