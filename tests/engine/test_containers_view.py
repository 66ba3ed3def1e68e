"""The Containers view on the real engine: a container's files (through the archive API),
its inspect data, its logs as they come, and Stop / Start / Delete, by the engine layer
and by the widget as a learner clicks it."""

from __future__ import annotations

import contextlib
import html
import re
import threading
import time
import urllib.request
from collections.abc import Callable

import pytest

from dockdojo.runner import ContainerNotFound, DockdojoError, Engine
from dockdojo.runner.engine.explore import MAX_ENTRIES
from dockdojo.runner.kinds import ACTIONS
from dockdojo.runner.lessons import load_lesson
from dockdojo.widgets import ContainersWidget

Namer = Callable[[str], str]


def text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def test_a_containers_folders_and_files_are_read_without_a_program_inside(
    images: Engine, name: Namer, cleanup: list[str]
) -> None:
    web = name("files")
    cleanup.append(web)
    images.run("nginx", name=web)
    explorer = images.explore(web)
    root = {e.name: e for e in explorer.folder("/").entries}
    assert root["etc"].kind == "folder"
    assert root["etc"].mode.startswith("d")
    assert root["usr"].kind == "folder"
    conf = {e.name: e for e in explorer.folder("/etc/nginx/").entries}["nginx.conf"]
    assert conf.kind == "file"
    assert conf.mode.startswith("-")
    assert conf.size > 100
    shown = explorer.read_file("/etc/nginx/nginx.conf")
    assert shown.text is not None
    assert "worker_processes" in shown.text
    assert shown.complete
    binary = explorer.read_file("/usr/sbin/nginx")
    assert binary.text is None
    assert binary.size > 100_000
    assert explorer.folder("/etc/nginx/../nginx").path == "/etc/nginx"
    with pytest.raises(DockdojoError, match=r"There is no /no/such/folder in the container"):
        explorer.folder("/no/such/folder")
    images.remove_container(web)
    with pytest.raises(ContainerNotFound):
        explorer.folder("/etc")


def test_a_folder_of_more_entries_than_shown_says_so(
    images: Engine, name: Namer, cleanup: list[str]
) -> None:
    box = name("many")
    cleanup.append(box)
    images.pull("busybox")
    images.run("busybox", name=box, command=["sleep", "600"])
    made = images.exec(
        box, ["sh", "-c", f"mkdir /many && cd /many && touch $(seq {MAX_ENTRIES + 5})"]
    )
    assert made.exit_code == 0, made.output
    folder = images.explore(box).folder("/many")
    assert not folder.complete
    assert len(folder.entries) == MAX_ENTRIES


def test_logs_come_as_the_container_writes_them_and_end_when_it_stops(
    images: Engine, name: Namer, cleanup: list[str]
) -> None:
    web = name("logs")
    cleanup.append(web)
    info = images.run("nginx", name=web, ports={"80/tcp": None})
    stream = images.explore(web).follow_logs(tail=10)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.extend(stream.lines()), daemon=True)
    reader.start()
    port = info.ports[0]
    deadline = time.monotonic() + 20
    while not any("GET /followed" in line for line in got):
        assert time.monotonic() < deadline, got
        with contextlib.suppress(OSError):  # 404, or not listening yet
            urllib.request.urlopen(f"http://{port.reach}:{port.host_port}/followed", timeout=2)
        time.sleep(0.3)
    images.stop_container(web)
    reader.join(20)
    assert not reader.is_alive(), "the log stream outlived its container"


def test_the_widget_stops_starts_opens_and_deletes_as_clicked(
    images: Engine, name: Namer, cleanup: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKDOJO_WIDGETS_SYNC", "1")
    web = name("view")
    cleanup.append(web)
    images.run("nginx", name=web, ports={"80/tcp": None})
    changes: list[int] = []
    view = ContainersWidget(images, on_change=lambda: changes.append(1))
    shown = text(" ".join(getattr(c, "value", "") for c in view.table.children))
    assert web in shown
    assert "running" in shown.lower() or "Up" in shown
    assert view.stop_or_start(web, running=True)
    assert images.container(web).state == "exited"
    assert "Stopped" in text(view.status.value)
    assert changes == [1]
    assert view.stop_or_start(web, running=False)
    assert images.container(web).running
    detail = view.open_container(images.container(web))
    assert web in text(detail.title.value)
    assert f'"Name": "/{web}"' in html.unescape(detail.inspect_view.value)
    names = [value for _, value in detail.entries.options]
    assert "etc" in names
    detail.entries.value = "etc"  # a click on a folder opens it
    assert detail.path.value == "/etc"
    detail.entries.value = "passwd"  # and on a file shows it
    assert "root:x:0:0" in html.unescape(detail.file_view.value)
    assert "nginx" in html.unescape(detail.logs.value).lower()
    assert view.delete(web)
    with pytest.raises(ContainerNotFound):
        images.container(web)
    view.show(view.live.refresh())
    assert web not in text(" ".join(getattr(c, "value", "") for c in view.table.children))
    assert "was deleted" in text(detail.title.value)


def test_the_stop_container_action_stops_only_the_named_container(
    images: Engine, name: Namer, cleanup: list[str]
) -> None:
    first, second = name("stop-a"), name("stop-b")
    cleanup += [first, second]
    images.run("nginx", name=first)
    images.run("nginx", name=second)
    lesson = load_lesson("what-is-an-image")
    step = lesson.steps[0]
    said = ACTIONS["stop-container"].perform(images, lesson, step, {"name": first})
    assert said == f"Stopped {first}."
    assert not images.container(first).running
    assert images.container(second).running
    said = ACTIONS["stop-container"].perform(images, lesson, step, {"name": first})
    assert said == "Nothing to stop: no such container runs."
