"""Building images on the real engine: the guide's sample web app offline, its progress,
the errors a learner meets, and the check that an image was built here."""

from __future__ import annotations

import contextlib
import shutil
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from common_kit import until
from lesson_kit import check, drop_image, lesson, step

from dockdojo.runner import DockdojoError, Engine, ImageNotFound
from dockdojo.runner.engine import Builder, BuildProgress, Snapshot
from dockdojo.runner.errors import BuildFailed
from dockdojo.runner.kinds import run_check

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "content/multi-container-applications/nginx-node-redis"


@pytest.fixture(scope="module")
def node(engine: Engine) -> Engine:
    """The engine with node:21 and busybox pulled through the mirror."""
    for base in ("node:21", "busybox"):
        if engine.image(base) is None:
            engine.pull(base)
    return engine


@pytest.fixture
def tag(engine: Engine) -> Iterator[str]:
    """A tag of the test's own, removed with its containers afterwards."""
    made = f"cmp-built-{uuid.uuid4().hex[:8]}"
    yield made
    drop_image(engine, made)


def _folder(tmp_path: Path, dockerfile: str) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "Dockerfile").write_text(dockerfile)
    return folder


def test_the_sample_web_app_builds_without_a_network_and_counts_visits(
    node: Engine, tag: str, tmp_path: Path
) -> None:
    web = tmp_path / "web"
    shutil.copytree(SAMPLE / "web", web)
    seen: list[BuildProgress] = []
    info = Builder(node).build(
        web, tag, seen.append, network_mode="none", no_cache=True, max_updates_per_second=1e6
    )
    assert info.name == f"{tag}:latest"
    steps = [p for p in seen if p.steps]
    assert {p.step for p in steps} == {1, 2, 3, 4, 5, 6}
    assert any(p.instruction == "RUN npm ci" for p in steps)
    assert any("added 55 packages" in line for p in seen for line in p.lines)  # npm ci's
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions)
    assert seen[-1].finished
    assert seen[-1].describe().startswith(f"100%  built {tag}:latest (image ")

    # the real app: its redis on a network, reached by name, as in the guide
    api = node.api_client()
    network = f"cmp-net-{uuid.uuid4().hex[:8]}"
    api.create_network(network)
    made: list[str] = []
    try:
        redis = api.create_container(
            "redis",
            host_config=api.create_host_config(),
            networking_config=api.create_networking_config(
                {network: api.create_endpoint_config(aliases=["redis"])}
            ),
        )
        made.append(redis["Id"])
        api.start(redis["Id"])
        web1 = api.create_container(
            tag,
            hostname="web1",
            ports=[5000],
            host_config=api.create_host_config(
                port_bindings={5000: ("127.0.0.1", None)}, network_mode=network
            ),
        )
        made.append(web1["Id"])
        api.start(web1["Id"])
        port = node.container(web1["Id"]).ports[0].host_port
        pages: list[str] = []

        def counted() -> bool:
            url = f"http://127.0.0.1:{port}/"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as page:
                pages.append(page.read().decode())
            return bool(pages) and "Number of visits is" in pages[-1]

        until(counted, "the counter page", seconds=30)
        assert pages[-1].startswith("web1: Number of visits is: ")
    finally:
        for cid in made:
            api.remove_container(cid, force=True)
        api.remove_network(network)


def test_a_failing_run_says_its_step_and_what_it_printed(
    node: Engine, tag: str, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, "FROM busybox\nRUN echo preparing && echo it-broke && exit 3\n")
    with pytest.raises(BuildFailed) as failed:
        Builder(node).build(folder, tag)
    assert "step 2/2 (RUN echo preparing" in failed.value.what
    assert "non-zero code: 3" in failed.value.what
    assert "preparing\nit-broke" in failed.value.what
    assert "fix the Dockerfile" in failed.value.hint
    assert node.image(tag) is None


def test_a_folder_without_a_dockerfile_says_so(node: Engine, tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "server.js").write_text("")
    with pytest.raises(BuildFailed) as failed:
        Builder(node).build(tmp_path / "app", "cmp-never")
    assert failed.value.what.startswith("There is no Dockerfile in ")
    assert "(it has: server.js)" in failed.value.what
    with pytest.raises(BuildFailed, match="There is no folder"):
        Builder(node).build(tmp_path / "nowhere", "cmp-never")


def test_a_base_image_that_cannot_be_pulled_says_how_to_get_it(
    node: Engine, tag: str, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, "FROM cmp-no-such-base:9\nRUN true\n")
    with pytest.raises(ImageNotFound) as failed:
        Builder(node).build(folder, tag)
    assert failed.value.what.startswith(
        "The base image cmp-no-such-base:9 (the Dockerfile's FROM) is not on this engine"
    )
    assert "docker pull cmp-no-such-base:9" in failed.value.hint


def _built(engine: Engine, image: str, **args: Any) -> tuple[bool, str]:
    spec = check("image_built", image=image, **args)
    the_step = step("build", spec)
    result = run_check(engine, lesson("cmp-build-check", the_step), the_step, spec)
    return result.passed, result.message


def test_image_built_believes_a_build_on_the_base_and_not_a_renamed_image(
    node: Engine, tag: str, tmp_path: Path
) -> None:
    web = tmp_path / "web"
    shutil.copytree(SAMPLE / "web", web)
    Builder(node).build(web, tag)
    passed, message = _built(node, tag, base="node:21", runs=["npm ci"])
    assert passed, message
    assert message.startswith(f"{tag}:latest was built here (image ")
    assert "on node:21, 5 steps of its own" in message

    assert not _built(node, tag, runs=["npm run build"])[0]

    # the base image under the learner's name: a name, not a build
    renamed = f"{tag}-renamed"
    node.api_client().tag("node:21", renamed)
    try:
        passed, message = _built(node, renamed, base="node:21")
        assert not passed
        assert "was given the name" in message
        assert "(docker tag)" in message
    finally:
        node.api_client().remove_image(renamed)

    # another build, on another base: not built on node:21
    other = _folder(tmp_path, "FROM busybox\nRUN echo hello > /hello\n")
    Builder(node).build(other, f"{tag}-other")
    try:
        passed, message = _built(node, f"{tag}-other", base="node:21")
        assert not passed
        assert "is not built on node:21" in message
    finally:
        drop_image(node, f"{tag}-other")

    passed, message = _built(node, "cmp-never-built")
    assert not passed
    assert message.startswith("There is no image cmp-never-built:latest on the engine")


def test_the_build_action_builds_the_lessons_folder(
    node: Engine, tag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockdojo.runner.kinds import ACTIONS

    lesson_id = "cmp-build-lesson"
    shutil.copytree(SAMPLE, tmp_path / lesson_id / "app")
    monkeypatch.chdir(tmp_path)  # the copy beside the notebook
    the_step = step("build-web")
    said = ACTIONS["build"].perform(
        node, lesson(lesson_id, the_step), the_step, {"folder": "app/web", "tag": tag}
    )
    assert said.startswith(f"Built {tag}:latest (image ")
    built = Snapshot.take(node).image(tag)
    assert built is not None
    labels = node.api_client().inspect_image(tag)["Config"]["Labels"]
    assert labels["dockdojo.lesson"] == lesson_id
    assert labels["dockdojo.step"] == "build-web"
    with pytest.raises(DockdojoError, match="not inside the lesson's files"):
        ACTIONS["build"].perform(
            node, lesson(lesson_id, the_step), the_step, {"folder": "../x", "tag": tag}
        )


def test_the_build_widget_shows_the_steps_then_what_was_built(
    node: Engine, tag: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockdojo.widgets import ProjectWidget

    monkeypatch.setenv("DOCKDOJO_WIDGETS_SYNC", "1")  # the click's work runs inline
    done: list[bool] = []
    shutil.copytree(SAMPLE / "web", tmp_path / "cmp-widget-lesson" / "web")
    monkeypatch.chdir(tmp_path)
    with Engine(node.base_url, lesson="cmp-widget-lesson", learner="pytest") as engine:
        widget = ProjectWidget(
            engine,
            step("build-web"),
            "build",
            {"folder": "web", "tag": tag},
            on_done=lambda: done.append(True),
        )
        assert widget.button.description == f"Build {tag}"
        widget.button.click()
    assert done == [True]
    assert widget.bar.value == 1.0
    assert widget.bar.bar_style == "success"
    assert "Step 4/6 : RUN npm ci" in widget.output.value  # the Dockerfile's 6 steps
    assert "LABEL dockdojo" not in widget.output.value  # not the engine's label steps
    assert "Successfully tagged" in widget.output.value
    assert f"Built {tag}:latest (image " in widget.status.value

    widget = ProjectWidget(node, step("build-web"), "build", {"folder": "nowhere", "tag": tag})
    widget.button.click()
    assert "There is no folder" in widget.status.value
    assert widget.bar.bar_style == "danger"
