"""The widgets, driven as a learner drives them (set values, click), on the real engine.

Widget work normally runs in threads; these tests also run it inline
(DOCKDOJO_WIDGETS_SYNC=1) where they assert what a finished action shows.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dockdojo.runner import Engine
from dockdojo.runner.context import learner_tag
from dockdojo.widgets import (
    ContainerCard,
    DeleteWidget,
    ExecConsole,
    ImagesWidget,
    LessonView,
    PullWidget,
    RunWidget,
)
from dockdojo.widgets.common import live

Namer = Callable[[str], str]


@pytest.fixture
def sync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKDOJO_WIDGETS_SYNC", "1")


@pytest.fixture
def lesson_engine(docker_host: str) -> Iterator[Engine]:
    with Engine(docker_host, lesson="widget-tests", learner="pytest") as engine:
        yield engine


def text(markup: str) -> str:
    """What a person reads in an HTML widget."""
    markup = re.sub(r"<style>.*?</style>", "", markup, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@pytest.mark.usefixtures("sync")
def test_pull_shows_progress_and_the_result(
    images: Engine, drop_image: Callable[[str], None]
) -> None:
    drop_image("redis")
    widget = PullWidget(images, ["nginx", "redis", "mongo"])
    seen: list[float] = []
    widget.bar.observe(lambda change: seen.append(change["new"]), names="value")
    widget.quick[1].click()  # "Pull redis"
    assert widget.query.value == "redis"
    assert widget.bar.value == 1.0
    assert widget.bar.bar_style == "success"
    assert seen == sorted(seen)
    assert len(seen) >= 2
    assert "Pulled redis:latest: image id" in text(widget.status.value)
    assert "layers 1/1" in widget.detail.value


def test_a_second_click_does_not_start_a_second_pull(images: Engine) -> None:
    widget = PullWidget(images, ["mongo"])  # threaded, as in a notebook
    assert widget.pull("mongo")
    assert widget.pull_button.disabled
    assert not widget.pull("mongo")
    widget.worker.wait(120)
    assert not widget.pull_button.disabled
    assert "Pulled mongo:latest" in text(widget.status.value)


@pytest.mark.usefixtures("sync")
def test_pull_of_a_missing_image_reads_as_a_sentence(images: Engine) -> None:
    widget = PullWidget(images)
    widget.pull("dockdojo-nope")
    shown = text(widget.status.value)
    assert "Could not pull dockdojo-nope:latest" in shown
    assert "Check the name and tag" in shown
    assert widget.bar.bar_style == "danger"
    assert "Traceback" not in widget.status.value


@pytest.mark.usefixtures("sync")
def test_search_falls_back_to_the_mirror_catalog_offline(images: Engine) -> None:
    widget = PullWidget(images)
    widget.query.value = "ngi"  # Enter
    assert "result(s) from http://127.0.0.1:" in text(widget.status.value)
    assert [text(row.children[1].value) for row in widget.results.children] == ["nginx"]
    widget.results.children[0].children[0].click()  # its Pull button
    assert "Pulled nginx:latest" in text(widget.status.value)


@pytest.mark.usefixtures("sync")
def test_images_table_lists_the_images_with_run_and_delete(images: Engine) -> None:
    widget = ImagesWidget(images)
    cells = [text(c.value) if hasattr(c, "value") else c.description for c in widget.table.children]
    assert cells[:6] == ["Name", "Tag", "Image ID", "Created", "Size", "In use"]
    row = cells.index("nginx")
    assert cells[row + 1] == "latest"
    assert cells[row + 6 : row + 8] == ["Run", "Delete"]
    widget.table.children[row + 6].click()
    (run,) = widget.panel.children
    assert isinstance(run, RunWidget)
    assert run.image.value == "nginx:latest"


@pytest.mark.usefixtures("images", "sync")
def test_run_with_host_port_zero_shows_a_card_with_the_port_link(
    lesson_engine: Engine, cleanup: list[str], name: Namer
) -> None:
    widget = RunWidget(lesson_engine, "nginx", ports={80: 0}, step=name("step"))
    assert [f.description for f in widget.ports_box.children] == ["Host port for 80/tcp"]
    assert widget.ports_box.children[0].value == "0"
    widget.name.value = name("web")
    widget.run_button.click()
    (card,) = widget.cards.children
    assert isinstance(card, ContainerCard)
    cleanup.append(card.info.id)
    (link,) = card.info.ports
    assert f'href="http://localhost:{link.host_port}/" target="_blank"' in card.html.value
    assert f"Started {widget.name.value} from nginx." in text(widget.status.value)
    # after a kernel restart the same step's cell shows that container again
    again = RunWidget(lesson_engine, "nginx", ports={80: 0}, step=widget.step)
    assert [c.info.id for c in again.cards.children] == [card.info.id]
    assert "1 container(s) of nginx are already here" in text(again.status.value)
    # a second Run asks first, and runs another only when told to
    again.run_button.click()
    assert "nginx already runs as" in text(again.confirm.children[0].value)
    assert again.confirm.layout.display == ""
    assert len(again.cards.children) == 1
    assert again.children.index(again.confirm) > again.children.index(again.status)
    again.another_button.click()
    assert len(again.cards.children) == 2
    cleanup.append(again.cards.children[0].info.id)
    # both deleted (here as in a terminal): no note speaks of them any more
    for made in again.cards.children:
        lesson_engine.remove_container(made.info.id, force=True)
    live(lesson_engine).refresh()
    assert text(again.status.value) == "", again.status.value
    assert text(widget.status.value) == "", widget.status.value


@pytest.mark.usefixtures("images", "sync")
def test_a_web_server_that_takes_a_moment_to_listen_still_gets_its_link(
    lesson_engine: Engine, cleanup: list[str], name: Namer
) -> None:
    """Docker's port proxy accepts at once and hangs up until nginx listens: that is
    "not yet", never "not a web page"."""
    widget = RunWidget(
        lesson_engine,
        "nginx",
        ports={80: 0},
        command=["sh", "-c", "sleep 2; exec nginx -g 'daemon off;'"],
        step=name("step"),
    )
    widget.run_button.click()
    (card,) = widget.cards.children
    cleanup.append(card.info.id)
    (link,) = card.info.ports
    assert card.web == {link.host_port: True}
    assert "not a web page" not in card.html.value


@pytest.mark.usefixtures("images", "sync")
def test_a_published_port_that_is_no_web_page_is_no_link_and_empty_is_not_published(
    lesson_engine: Engine, cleanup: list[str]
) -> None:
    widget = RunWidget(lesson_engine, "redis")
    (field,) = widget.ports_box.children
    assert field.value == ""  # as in Docker Desktop: empty is not published
    widget.run_button.click()
    (card,) = widget.cards.children
    cleanup.append(card.info.id)
    assert card.info.ports == ()
    assert "no published ports" in text(card.html.value)
    field.value = "0"  # 0: a random host port
    widget.run_button.click()
    card = widget.cards.children[0]
    cleanup.append(card.info.id)
    (port,) = card.info.ports
    shown = text(card.html.value)
    assert f"host port {port.host_port} (6379/tcp, not a web page)" in shown
    assert "dojo-link" not in card.html.value


@pytest.mark.usefixtures("images", "sync")
def test_bad_settings_and_taken_names_read_as_sentences(
    lesson_engine: Engine, cleanup: list[str], name: Namer
) -> None:
    taken = name("taken")
    cleanup.append(lesson_engine.run("redis", name=taken).id)
    widget = RunWidget(lesson_engine, "redis")
    widget.name.value = taken
    widget.run()
    assert f"The name '{taken}' is already used" in text(widget.status.value)
    widget.name.value = ""
    widget.env.value = "NOT A VARIABLE"
    widget.run()
    assert "is not KEY=value" in text(widget.status.value)


@pytest.mark.usefixtures("sync")
def test_container_logs_are_escaped(images: Engine, cleanup: list[str], name: Namer) -> None:
    info = images.run(
        "redis",
        name=name("logs"),
        command=["sh", "-c", "echo '<script>alert(1)</script>'; sleep 60"],
    )
    cleanup.append(info.id)
    card = ContainerCard(images, info)
    deadline = time.monotonic() + 10
    while "alert" not in card.html.value and time.monotonic() < deadline:
        card.refresh()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in card.html.value
    assert "<script>" not in card.html.value


@pytest.mark.usefixtures("sync")
def test_exec_console_keeps_redis_cli_state_between_lines(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    info = images.run("redis", name=name("redis"))
    cleanup.append(info.id)
    other = images.run("nginx", name=name("nginx"))  # redis-cli is not in it: not offered
    cleanup.append(other.id)
    answered: list[float] = []
    console = ExecConsole(
        images,
        image="redis",
        suggest=["redis-cli", "SET test 1", "GET test"],
        on_answered=lambda: answered.append(time.monotonic()),
    )
    assert [value for _, value in console.container.options] == [info.name]
    console.container.value = info.name
    console.connect_button.click()
    try:
        for suggestion in console.suggestions:
            suggestion.click()  # fills the input
            assert console.input.value == suggestion.description
            console.input.value = console.input.value  # unchanged: nothing is sent
            assert console.send(console.input.value)
            time.sleep(0.3)
        deadline = time.monotonic() + 10
        while '"1"' not in console.text and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "127.0.0.1:6379> GET test" in console.text
        assert '"1"' in console.text
        assert console.recent.options[1] == "GET test"
        time.sleep(0.3)
        assert "&quot;1&quot;" in console.screen.value
        assert len(answered) == 3, answered  # each line's answer asked for the checks
    finally:
        console.close()
    images.remove_container(info.id, force=True)
    gone = ExecConsole(images, image="redis")  # the step's container is gone: it says so
    assert gone.container.options == ()
    assert "No container of redis is running" in text(gone.status.value)


@pytest.mark.usefixtures("sync")
def test_exec_console_without_a_running_container_says_what_to_do(images: Engine) -> None:
    console = ExecConsole(images, image="dockdojo-none")
    console.container.options = []
    console.connect()
    assert "Choose a running container first." in text(console.status.value)
    assert not console.send("ls")
    assert "not connected" in text(console.status.value)


@pytest.mark.usefixtures("sync")
def test_delete_meets_in_use_then_deletes_containers_then_the_image(
    images: Engine, cleanup: list[str], name: Namer
) -> None:
    source = images.run("redis", name=name("src"))
    cleanup.append(source.id)
    api = images.api_client()
    tag = name("dojo-delete-me")
    api.commit(source.id, repository=tag, tag="latest")
    user = images.run(tag, name=name("user"))
    cleanup.append(user.id)
    widget = DeleteWidget(images, tag)
    widget.delete_button.click()
    assert f"{tag}:latest is in use by 1 container" in text(widget.status.value)
    assert widget.in_use_button.description == "In use (1)"
    assert widget.users.layout.display == "none"
    widget.in_use_button.value = True
    assert widget.users.layout.display == ""
    (row,) = widget.users.children
    assert user.name in text(row.children[0].value)
    stop, delete = row.children[1], row.children[2]
    stop.click()
    (row,) = widget.users.children
    assert "(exited)" in text(row.children[0].value)
    row.children[2].click()
    assert widget.users.children == ()
    assert "Select Delete again" in text(widget.status.value)
    assert delete is not None
    widget.delete_button.click()
    assert f"Deleted {tag}" in text(widget.status.value)
    assert images.image(tag) is None


@pytest.mark.usefixtures("sync")
def test_engine_down_is_a_sentence_in_every_widget_and_retry_works(
    tmp_path: Path, docker_host: str
) -> None:
    down = Engine(f"unix://{tmp_path}/docker.sock")
    pull = PullWidget(down, ["nginx"])
    pull.pull("nginx")
    table = ImagesWidget(down)
    for widget in (pull, table):
        shown = text(widget.status.value)
        assert "No Docker Engine answered at unix://" in shown
        assert "dockdojo sandbox start" in shown
    # the engine comes back (here: the socket appears), and the same widget works
    (tmp_path / "docker.sock").symlink_to(docker_host.removeprefix("unix://"))
    table.refresh()
    assert "image(s) on unix://" in text(table.status.value)
    down.close()


@pytest.mark.usefixtures("images", "sync")
def test_lesson_steps_check_and_progress_follow_the_engine(docker_host: str) -> None:
    with Engine(docker_host, lesson="what-is-an-image") as engine:
        lesson = LessonView("what-is-an-image", engine=engine)
        progress = lesson.progress()
        assert progress.bar.max == len(lesson.model.steps)
        box = lesson.step("pull-images")
        panel = lesson.panels["pull-images"]
        assert panel.passed is True
        assert "✅ Done" in panel.mark.value
        assert "nginx:latest is on the engine" in text(panel.results.value)
        assert lesson.done["pull-images"]
        assert progress.bar.value >= 2  # pull-images and view-images
        assert len(box.children) == 3
        exercise = lesson.step("redis-cache")
        panel = lesson.panels["redis-cache"]
        assert panel.passed is False
        assert "❌ Not yet" in panel.mark.value
        shown = text(panel.results.value)
        tag = learner_tag("what-is-an-image", engine.learner)
        assert f"There is no container named cache-{tag}" in shown
        assert f"docker run -d --name cache-{tag} redis" not in shown  # no hint unasked
        panel.check_button.click()
        assert f"docker run -d --name cache-{tag} redis" in text(panel.results.value)
        assert panel.answer.layout.display == "none"
        panel.answer_button.value = True  # "Show the answer"
        assert f"run redis named cache-{tag}" in text(panel.answer.value)
        task = exercise.children[1].value
        assert "Solve this one on your own" in text(task)
        assert f"<strong>redis</strong> container named <code>cache-{tag}</code>" in task
        assert "**" not in task
        assert not lesson.done["redis-cache"]


@pytest.mark.usefixtures("images", "sync")
def test_on_a_shared_engine_only_this_learners_work_is_listed_counted_and_started_over(
    docker_host: str, cleanup: list[str], name: Namer
) -> None:
    lesson_id = "what-is-an-image"
    with Engine(docker_host, lesson=lesson_id, learner="someone-else") as other:
        theirs = other.run("nginx", name=name("theirs"), ports={80: 0}, step="run-nginx")
        cleanup.append(theirs.id)
    learner = name("me")
    with Engine(docker_host, lesson=lesson_id, learner=learner, shared=True) as engine:
        lesson = LessonView(lesson_id, engine=engine)
        progress = lesson.progress()
        lesson.step("run-nginx")
        panel = lesson.panels["run-nginx"]
        assert panel.passed is False, "someone else's nginx counted for this learner"
        table = ImagesWidget(engine)
        shown = table.live.state.snapshot
        assert shown is not None
        assert all(i.containers == 0 for i in shown.images), "their containers counted as use"
        console = ExecConsole(engine, image="nginx")
        assert theirs.name not in [value for _, value in console.container.options]
        run = RunWidget(engine, "nginx", ports={80: 0}, step="run-nginx")
        assert run.cards.children == (), "someone else's container was attached"
        run.run_button.click()
        (card,) = run.cards.children
        cleanup.append(card.info.id)
        panel.check_button.click()  # (here nothing follows the engine: widgets run inline)
        assert panel.passed is True
        assert progress.bar.value == lesson.report.steps_passed  # type: ignore[union-attr]
        # the step alone starts over: its container goes, and the step is not done
        panel.over_button.click()
        assert card.info.name in text(panel.question.value)
        assert theirs.name not in text(panel.question.value)
        panel.sure_button.click()
        assert panel.passed is False
        assert "was deleted" in card.html.value
        run.run_button.click()
        card = run.cards.children[0]
        cleanup.append(card.info.id)
        panel.check_button.click()
        assert panel.passed is True
        # Start over lists what it removes, then removes exactly that
        progress.over_button.click()
        assert card.info.name in text(progress.question.value)
        assert theirs.name not in text(progress.question.value)
        progress.sure_button.click()
        assert "removed 1 container" in text(progress.status.value)
        assert panel.passed is False
        assert engine.containers(labels={"dockdojo.learner": learner}) == []
    with Engine(docker_host) as plain:
        assert plain.container(theirs.id).running, "start over touched someone else's container"
