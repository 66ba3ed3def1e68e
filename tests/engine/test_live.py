"""The live model follows the engine's events: a change made with the docker CLI (not
through dockdojo) reaches its subscribers by itself."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Callable

from common_kit import eventually

from dockdojo.runner import Engine, LiveModel, LiveState


def _names(state: LiveState) -> set[str]:
    return {c.name for c in state.snapshot.containers} if state.snapshot else set()


def test_a_container_made_and_removed_with_the_cli_reaches_subscribers_by_itself(
    images: Engine, docker_host: str, name: Callable[[str], str], cleanup: list[str]
) -> None:
    model = LiveModel(images).start()
    seen: list[LiveState] = []
    unsubscribe = model.subscribe(seen.append)
    container = name("live")
    cleanup.append(container)
    env = {"DOCKER_HOST": docker_host, "PATH": "/usr/bin:/bin"}
    try:
        assert model.state.connected
        version = model.state.version
        subprocess.run(
            ["docker", "run", "-d", "--name", container, "redis"],
            env=env,
            check=True,
            capture_output=True,
        )
        assert eventually(lambda: container in _names(model.state)), (
            "the new container never showed"
        )
        assert any(container in _names(s) for s in seen), "subscribers were not told"
        assert model.state.version > version
        subprocess.run(["docker", "rm", "-f", container], env=env, check=True, capture_output=True)
        assert eventually(lambda: container not in _names(model.state)), "the removal never showed"
        in_use = {i.name: i.containers for i in model.state.snapshot.images}  # type: ignore[union-attr]
        assert "redis:latest" in in_use
    finally:
        unsubscribe()
        model.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("dockdojo-live")]
    told = len(seen)
    model.refresh()  # a stopped model still reads on demand, and no one is told
    assert len(seen) == told
