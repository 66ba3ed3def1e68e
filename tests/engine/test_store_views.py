"""The Volumes and Networks views on the real engine, clicked as a learner would: a
volume's users and files, Delete refused while mounted, Prune after its question; a
network's containers with their aliases, Create and Delete."""

from __future__ import annotations

import contextlib
import html
import re
import uuid
from collections.abc import Callable, Iterator

import pytest

from dockdojo.runner import DockdojoError, Engine
from dockdojo.widgets import NetworksWidget, VolumesWidget

Namer = Callable[[str], str]


def text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def cells(view: VolumesWidget | NetworksWidget) -> str:
    return text(" ".join(getattr(c, "value", "") for c in view.table.children))


@pytest.fixture
def mine(docker_host: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """An engine shared with others, as this test's own learner: the views list only
    what is theirs."""
    monkeypatch.setenv("DOCKDOJO_WIDGETS_SYNC", "1")
    learner = f"vol-{uuid.uuid4().hex[:6]}"
    with Engine(docker_host, lesson="views", learner=learner, shared=True) as engine:
        if engine.image("busybox") is None:
            engine.pull("busybox")
        yield engine
        for container in engine.containers():
            with contextlib.suppress(DockdojoError):
                engine.remove_container(container.id, force=True)
        for net in engine.network_manager().names(labels={"dockdojo.learner": learner}):
            with contextlib.suppress(DockdojoError):
                engine.network_manager().remove(net)
        for vol in engine.volume_manager().names(labels={"dockdojo.learner": learner}):
            with contextlib.suppress(DockdojoError):
                engine.volume_manager().remove(vol, force=True)


def test_the_volumes_view_shows_users_and_files_and_prunes_after_asking(
    mine: Engine, name: Namer
) -> None:
    vol, spare, box = name("vol-logs"), name("vol-spare"), name("vol-box")
    changes: list[int] = []
    view = VolumesWidget(mine, name=vol, on_change=lambda: changes.append(1))
    assert view.new_name.value == vol
    assert "No volumes yet" in text(view.summary.value)
    assert view.create(vol)
    assert view.create(spare)
    assert changes == [1, 1]
    api = mine.api_client()
    created = api.create_container(
        "busybox",
        ["sh", "-c", "echo started > /logs/app.log; sleep 600"],
        name=box,
        labels=mine.labels_for("views"),
        host_config=api.create_host_config(binds={vol: {"bind": "/logs", "mode": "rw"}}),
    )
    api.start(created["Id"])
    view.sizes.value = True  # read again, with each volume's size
    shown = cells(view)
    assert f"{spare} 0 B" in shown  # empty
    assert vol in shown
    assert f"{box} (/logs)" in shown
    assert "2 volumes, 1 in use" in text(view.summary.value)

    files = view.open_volume(vol)
    for _ in range(50):  # the container writes as it starts
        files.list_folder("/")
        if files.entries.options:
            break
    assert [value for _, value in files.entries.options] == ["app.log"]
    files.entries.value = "app.log"  # a click on a file shows it
    assert "started" in html.unescape(files.file_view.value)

    assert view.delete(vol)
    assert "is in use by 1 container" in text(view.status.value)
    assert f"docker rm -f {box}" in text(view.status.value)

    assert view.ask_prune()
    assert view.confirm.layout.display == ""
    assert f"Prune removes 1 unused volume and the data in them: {spare}." in text(
        view.question.value
    )
    assert view.prune()
    assert view.confirm.layout.display == "none"
    assert f"Removed 1 volume: {spare}." in text(view.status.value)
    assert spare not in cells(view)
    assert vol in cells(view)


def test_the_networks_view_shows_containers_with_aliases(mine: Engine, name: Namer) -> None:
    net, box = name("vol-net"), name("vol-member")
    view = NetworksWidget(mine, name=net)
    assert view.create(net)
    assert f"Created the network {net}." in text(view.status.value)
    api = mine.api_client()
    created = api.create_container(
        "busybox",
        ["sleep", "600"],
        name=box,
        labels=mine.labels_for("views"),
        host_config=api.create_host_config(network_mode=net),
        networking_config=api.create_networking_config(
            {net: api.create_endpoint_config(aliases=["cache"])}
        ),
    )
    api.start(created["Id"])
    view.refresh()
    assert f"{box} (cache)" in cells(view)
    assert "1 network made here" in text(view.summary.value)
    assert view.delete(net)
    assert f"still has 1 container attached: {box} (running)" in text(view.status.value)
    mine.remove_container(box, force=True)
    assert view.delete(net)
    assert f"Deleted the network {net}." in text(view.status.value)
    assert net not in cells(view)
