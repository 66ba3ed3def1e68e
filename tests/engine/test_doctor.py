"""``dockdojo doctor`` against the test sandbox: what it says of a real engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockdojo.runner import Engine
from dockdojo.runner.cli import main


def test_the_sandbox_is_named_and_every_image_found(
    images: Engine,
    docker_host: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    assert images.image("nginx") is not None
    assert main(["doctor", "--lesson", "what-is-an-image", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    by_check = {f["check"]: f for f in data["findings"]}
    assert data["ready"] is True
    assert by_check["engine"]["detail"].startswith("dockdojo's sandbox engine at unix://")
    assert by_check["docker version"]["ok"]
    assert by_check["image nginx:latest"]["detail"] == "on the engine"
    assert "exercise values what-is-an-image: " in by_check["learner"]["detail"]


def test_an_image_only_the_mirror_holds_is_pullable_and_one_it_lacks_fails(
    engine: Engine,
    docker_host: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lesson = tmp_path / "two-images.md"
    lesson.write_text(
        "# Two images\n\n```{step} pull\ntitle: Pull\naction: pull\n"
        "images: [busybox, dockdojo-nowhere/absent]\nchecks:\n  - check: image_present\n"
        "    image: busybox\n    hint: Pull it.\n```\n"
    )
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    if engine.image("busybox") is not None:
        engine.remove_image("busybox", force=True)
    assert main(["doctor", "--lesson", str(lesson)]) == 1
    out = capsys.readouterr().out
    assert "✓ image busybox:latest" in out
    assert "pullable from the mirror http://" in out
    assert "✗ image dockdojo-nowhere/absent:latest" in out
    assert "does not hold it" in out
    assert "not ready: 1 check failed" in out
