"""The Run widget's settings beyond name, ports and environment, filled in as a learner
does, on the real engine: what the engine then reports is what was typed."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dockdojo.runner import Engine
from dockdojo.widgets import RunWidget

Namer = Callable[[str], str]


@pytest.fixture
def sync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKDOJO_WIDGETS_SYNC", "1")


@pytest.fixture
def widget_engine(docker_host: str, images: Engine) -> Iterator[Engine]:
    images.pull("busybox")
    with Engine(docker_host, lesson="run-settings-widget", learner="pytest") as engine:
        yield engine


def _text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@pytest.mark.usefixtures("sync")
def test_every_field_reaches_the_engine(
    widget_engine: Engine,
    cleanup: list[str],
    name: Namer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # the notebook's folder: relative paths start here
    (tmp_path / ".env").write_text("# the guide's file\nPOSTGRES_PASSWORD=secret\n")
    (tmp_path / "site").mkdir()
    volume = name("vol")
    widget = RunWidget(widget_engine, "busybox", command=["sleep", "60"], step=name("step"))
    widget.name.value = name("web")
    widget.more.volumes.value = f"{volume}:/data\n./site:/site:ro\n"
    widget.more.fields["env_file"].value = ".env"
    widget.more.fields["memory"].value = "512m"
    widget.more.fields["cpus"].value = "0.5"
    widget.more.fields["hostname"].value = "web1"
    widget.run_button.click()
    (card,) = widget.cards.children
    cleanup.append(card.info.id)
    seen = widget_engine.settings(card.info.id)
    assert seen.env["POSTGRES_PASSWORD"] == "secret"
    assert (seen.memory, seen.nano_cpus, seen.hostname) == (512 * 1024**2, 500_000_000, "web1")
    assert {(m.kind, m.target, m.read_only) for m in seen.mounts} == {
        ("volume", "/data", False),
        ("bind", "/site", True),
    }
    widget_engine.remove_container(card.info.id)
    widget_engine.api_client().remove_volume(volume)


@pytest.mark.usefixtures("sync")
def test_a_declared_step_opens_its_settings_and_bad_fields_say_how(
    widget_engine: Engine, name: Namer
) -> None:
    widget = RunWidget(
        widget_engine,
        "busybox",
        step=name("step"),
        more={"memory": "512m", "publish_all": True, "mounts": ["data:/data"]},
    )
    assert widget.settings.selected_index == 0
    assert widget.more.box.selected_index == 0
    assert widget.more.publish_all.value
    before = {c.id for c in widget_engine.containers()}
    widget.more.fields["memory"].value = "lots"
    widget.run_button.click()
    assert "512m" in _text(widget.status.value)
    widget.more.fields["memory"].value = ""
    widget.more.volumes.value = "./no-such-folder:/site"
    widget.run_button.click()
    assert "mkdir" in _text(widget.status.value)
    assert {c.id for c in widget_engine.containers()} == before
