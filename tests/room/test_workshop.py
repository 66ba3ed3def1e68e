"""A whole room, offline: a mirror filled only from a packed archive, and two learners
whose engines pull every image of every lesson from it and cannot write to it."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from common_kit import free_port
from room.seats import Seat, new_room, seats

from dockdojo.runner import Engine, load_lesson, parse_ref
from dockdojo.runner.authoring import content_dirs, lesson_sources
from dockdojo.runner.cli import main
from dockdojo.runner.mirror import Mirror
from dockdojo.runner.privileged.processes import processes_using

pytestmark = pytest.mark.engine


def _every_lesson_image() -> list[str]:
    names = sorted({p.stem for d in content_dirs() for p in lesson_sources(d)})
    images = {parse_ref(i).familiar for n in names for i in load_lesson(n).images}
    return sorted(images)


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="workshop-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _pull_all(seat: Seat, images: list[str]) -> dict[str, str]:
    with Engine(seat.docker_host, lesson="workshop", learner=seat.who.name) as engine:
        return {image: engine.pull(image).id for image in images}


def test_learners_pull_every_lesson_image_from_a_mirror_filled_offline_and_cannot_push(
    workdir: Path,
    docker_host: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = os.environ.get("DOCKDOJO_TEST_REGISTRY")
    assert source, "DOCKDOJO_TEST_REGISTRY is not set: run through make test"
    images = _every_lesson_image()
    assert {"nginx:latest", "redis:latest", "mongo:latest"} <= set(images)
    with new_room(free_port()) as room:
        mirror = Mirror(room.config)
        archive = workdir / "room.tar"
        packed = mirror.pack(
            [], [p.stem for d in content_dirs() for p in lesson_sources(d)], archive, source=source
        )
        assert archive.stat().st_size == packed.size
        try:
            mirror.start()
            loaded = mirror.load(archive)
            assert set(loaded.images) == set(packed.images)
            held_before = {(h.repository, h.tag, h.digest) for h in mirror.status().images}

            with seats(room, 2) as people, ThreadPoolExecutor(max_workers=2) as pool:
                pulled = list(pool.map(lambda seat: _pull_all(seat, images), people))
                with Engine(docker_host) as sandbox:
                    expected = {i: sandbox.pull(i).id for i in images}
                assert pulled[0] == expected, "learner 1 got other images than the source"
                assert pulled[1] == expected, "learner 2 got other images than the source"

                with Engine(people[0].docker_host) as engine:
                    api = engine.api_client()
                    target = f"10.0.2.2:{room.config.mirror_port}/library/evil"
                    api.tag("busybox:latest", target, "latest")
                    events = list(api.push(target, tag="latest", stream=True, decode=True))
                errors = [e for e in events if "error" in e]
                assert errors, f"the push was not refused: {events[-3:]}"

            held_after = {(h.repository, h.tag, h.digest) for h in mirror.status().images}
            assert held_after == held_before
            assert not any(repository.endswith("evil") for repository, _, _ in held_after)

            # the instructor's check the day before: ready, rehearsal included, on a server
            # with no Docker Engine of its own (a room needs none: each learner has theirs)
            monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
            code = main(
                [
                    "doctor",
                    "--room",
                    "--config",
                    str(room.file),
                    "--lesson",
                    "what-is-an-image",
                    "--json",
                ]
            )
            report = json.loads(capsys.readouterr().out)
            by_check = {f["check"]: f for f in report["findings"]}
            assert by_check["room mirror"]["ok"], by_check["room mirror"]
            assert by_check["rehearsal"]["ok"], by_check["rehearsal"]
            assert by_check["rehearsal"]["detail"].startswith(
                "what-is-an-image solved on a new learner's engine: 11 steps passed in "
            )
            assert code == 0, [f for f in report["findings"] if not f["ok"]]
            assert not [
                u
                for u in Path("/etc/passwd").read_text().splitlines()
                if u.startswith("dd-rehearsal-")
            ], "the rehearsal's learner is left"
            engines = room.config.state / "engines"
            left = [p.name for p in engines.iterdir()] if engines.is_dir() else []
            assert not [n for n in left if n.startswith("dd-rehearsal-")], left
            assert (room.config.state / "rehearsal-engine.log").is_file()
        finally:
            mirror.stop()
        assert processes_using(mirror.folder) == []
