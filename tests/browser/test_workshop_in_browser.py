"""A workshop on a real JupyterHub, in Chromium: two learners open the seed lesson in
their own servers, pull and run nginx on their own engines and open its port link
through the hub; the instructor's grid follows them live, without a reload, and a
change made with a widget, without Check, reaches it by the learner engine's events (the
view's own rounds are 10 minutes apart here); a learner who opens the instructor's page
is refused. A screenshot of the grid is saved in
build/screenshots/ (or $DOCKDOJO_SCREENSHOTS) as 11-instructor-view.png."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator

import pytest
from browser.test_lesson_in_browser import SHOTS, button, done, open_nginx_link, run_all
from common_kit import free_port
from playwright.sync_api import Browser, Locator, Page, expect
from room.hubkit import password_of, running_hub, service_pid
from room.seats import add_user, new_name, new_room, remove_user

from dockdojo.runner.room.engines import LearnerEngine
from dockdojo.runner.room.learners import Learner

pytestmark = pytest.mark.timeout(900)
VIEW = "/services/dockdojo/"
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": '{"windowingMode": "none"}',
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": '{"fetchNews": "false"}',
}


@pytest.fixture
def workshop() -> Iterator[tuple[str, list[Learner], str]]:
    registry = os.environ.get("DOCKDOJO_TEST_REGISTRY")
    if not registry:
        pytest.fail("DOCKDOJO_TEST_REGISTRY is not set: run this through make test.")
    teacher = f"t{new_name()}"
    extra = f"[instructor]\nport = {free_port()}\nrecheck_seconds = 600\n"
    with new_room(int(registry.rpartition(":")[2]), extra=extra) as room:
        people = [add_user(new_name()), add_user(new_name())]
        try:
            for who in people:  # every cell in the page, and no news prompt
                for name, text in SETTINGS.items():
                    path = who.home / ".jupyter/lab/user-settings" / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text)
                for path in [who.home / ".jupyter", *(who.home / ".jupyter").rglob("*")]:
                    shutil.chown(path, who.uid, who.gid)
            with running_hub(room, people, free_port(), admins=(teacher,)) as url:
                yield url, people, teacher
        finally:
            for who in people:
                with contextlib.suppress(Exception):
                    LearnerEngine(who.name, room.config).stop()
                remove_user(who)


def log_in(browser: Browser, url: str, name: str, size: tuple[int, int] = (1400, 1000)) -> Page:
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{url}/hub/login")
    page.locator("#username_input").fill(name)
    page.locator("#password_input").fill(password_of(name))
    page.locator("#login_submit").click()
    page.wait_for_load_state()
    return page


def open_lesson(page: Page, url: str, who: Learner) -> None:
    """The learner's server starts (with their engine); the lesson runs in it."""
    page.wait_for_url(re.compile(f"/user/{who.name}/lab"), timeout=180_000)
    page.goto(f"{url}/user/{who.name}/lab/tree/dockdojo-lessons/what-is-an-image.ipynb")
    # opened and its kernel started, the notebook is not shown as modified
    select_kernel = page.get_by_role("dialog").get_by_role("button", name="Select Kernel")
    kernel_idle = page.get_by_text(re.compile(r"Python 3 \(ipykernel\) \| Idle"))
    deadline = time.monotonic() + 90
    while not kernel_idle.count() or select_kernel.count():
        assert time.monotonic() < deadline, "the kernel did not start"
        if select_kernel.count():
            select_kernel.click()
        page.wait_for_timeout(100)
    page.wait_for_timeout(1_000)
    tab = page.locator(".lm-TabBar-tab.jp-mod-current", has_text="what-is-an-image")
    expect(tab).not_to_have_class(re.compile("jp-mod-dirty"))
    run_all(page, timeout=90)


def run_nginx(page: Page, who: Learner) -> str:
    """Pull nginx, run it, open its link through the hub; the link."""
    step = page.locator(".dojo-step-pull-images")
    step.scroll_into_view_if_needed()
    button(step, "Pull nginx").click()
    expect(step.get_by_text("Pulled nginx:latest")).to_be_visible(timeout=120_000)
    step = page.locator(".dojo-step-run-nginx")
    step.scroll_into_view_if_needed()
    button(step, "Run").click()
    site, href = open_nginx_link(page, step, rf"/user/{who.name}/proxy/127\.77\.\d+\.\d+:\d+/")
    site.close()
    expect(step.locator(".dojo-card")).to_have_count(1)  # their own container, no other
    button(step, "Check").click()
    done(step)
    return href


def run_redis_unchecked(page: Page, cell: Locator) -> tuple[float, float]:
    """Select Run in the run-redis step, never Check; when the learner's page marked the
    step done and when the instructor's grid showed it (polled side by side)."""
    pulls = page.locator(".dojo-step-pull-images")
    pulls.scroll_into_view_if_needed()
    button(pulls, "Pull redis").click()  # from the room's mirror; not a step of its own
    expect(pulls.get_by_text("Pulled redis:latest")).to_be_visible(timeout=120_000)
    step = page.locator(".dojo-step-run-redis")
    step.scroll_into_view_if_needed()
    button(step, "Run").click()
    mark = step.locator(".dojo-check", has_text="✅ Done")
    widget_at = grid_at = 0.0
    deadline = time.monotonic() + 120
    while not (widget_at and grid_at):
        if time.monotonic() >= deadline:
            page.screenshot(path=str(SHOTS / "failed-run-redis.png"), full_page=True)
        assert time.monotonic() < deadline, (
            f"widget marked done: {bool(widget_at)}; grid: {cell.get_attribute('data-status')} "
            f"({cell.get_attribute('title')}); the step shows: {step.inner_text()}"
        )
        now = time.monotonic()
        if not widget_at and mark.count():
            widget_at = now
        if not grid_at and cell.get_attribute("data-status") == "done":
            grid_at = now
        time.sleep(0.05)
    return widget_at, grid_at


def test_learners_work_on_their_own_engines_while_the_instructor_watches(
    browser: Browser, workshop: tuple[str, list[Learner], str]
) -> None:
    url, (ada, bob), teacher = workshop
    SHOTS.mkdir(parents=True, exist_ok=True)
    instructor = log_in(browser, url, teacher, size=(1140, 400))
    expect(instructor).to_have_url(re.compile(f"{VIEW}$"))  # an instructor lands on the view
    expect(instructor.locator("#lesson")).to_have_value("what-is-a-container")  # the first
    instructor.locator("#lesson").select_option("what-is-an-image")  # the lesson they work on
    expect(instructor).to_have_url(re.compile(r"\?lesson=what-is-an-image$"))
    expect(instructor.locator("#live")).to_have_text("live")
    instructor.evaluate("window.stayed = true")  # gone if the page reloads

    pages = {}
    for who in (ada, bob):
        pages[who.name] = log_in(browser, url, who.name)
        open_lesson(pages[who.name], url, who)
    links = {who.name: run_nginx(pages[who.name], who) for who in (ada, bob)}
    assert links[ada.name] != links[bob.name]

    # ada cannot open bob's port through her own server's proxy
    stolen = links[bob.name].replace(f"/user/{bob.name}/", f"/user/{ada.name}/")
    answer = pages[ada.name].request.get(f"{url}{stolen}")
    assert answer.status != 200, answer.status
    assert "Welcome to nginx" not in answer.text()

    # bob selects Check on the pull step he has not finished: failing, with its reason
    step = pages[bob.name].locator(".dojo-step-pull-images")
    step.scroll_into_view_if_needed()
    button(step, "Check").click()

    # the grid has followed both, without a reload
    rows = {w.name: instructor.locator(f'#grid tr[data-learner="{w.name}"]') for w in (ada, bob)}
    for who in (ada, bob):
        target = rows[who.name].locator('td[data-step="run-nginx"]')
        expect(target).to_have_attribute("data-status", "done", timeout=30_000)
        expect(rows[who.name].locator("td.ready")).to_have_text("ready", timeout=30_000)
    failing = rows[bob.name].locator('td[data-step="pull-images"]')
    expect(failing).to_have_attribute("data-status", "failing", timeout=30_000)
    expect(failing).to_have_attribute("title", re.compile("redis|mongo"))
    expect(instructor.locator("#most-failing")).to_contain_text("Pull nginx, redis and mongo")
    assert instructor.evaluate("window.stayed") is True
    assert instructor.evaluate("window.dockdojo.gaps") == 0

    # bob runs redis with the step's widget and never selects Check: the grid follows
    cell = rows[bob.name].locator('td[data-step="run-redis"]')
    expect(cell).not_to_have_attribute("data-status", "done")
    widget_at, grid_at = run_redis_unchecked(pages[bob.name], cell)
    print(
        f"\nwidget done -> instructor's grid, without Check: {grid_at - widget_at:.2f} s "
        "(goal under 2 s; the view's own round is 600 s away)"
    )
    instructor.screenshot(path=str(SHOTS / "11-instructor-view.png"), full_page=True)

    # the service restarts: the page says so, reconnects by itself, and shows the same
    os.kill(service_pid(), signal.SIGKILL)
    deadline = time.monotonic() + 60  # the page's CSP forbids wait_for_function's eval
    while instructor.evaluate("window.dockdojo.grids") < 2:
        assert time.monotonic() < deadline, "the page did not reconnect"
        time.sleep(0.2)
    expect(instructor.locator("#live")).to_have_text("live")
    expect(failing).to_have_attribute("data-status", "failing")
    assert instructor.evaluate("window.stayed") is True

    # a learner who opens the instructor's page is refused
    refused = pages[bob.name].goto(f"{url}{VIEW}")
    assert refused is not None
    assert refused.status == 403
    expect(pages[bob.name].locator("body")).to_contain_text("instructors")
    for page in [instructor, *pages.values()]:
        page.context.close()
