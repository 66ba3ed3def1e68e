"""Engine tests: a real Docker Engine (the sandbox) and the fixture images in its mirror.

``make test`` starts the sandbox, pushes the fixture images and sets
``DOCKDOJO_TEST_DOCKER_HOST``. When the engine cannot be reached these tests fail;
they never skip. Each test removes what it creates.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator

import docker
import pytest

from dockdojo.runner import ContainerNotFound, DockdojoError, Engine, ImageNotFound
from dockdojo.runner.engine.rows import repo_digests

pytestmark = pytest.mark.engine


@pytest.fixture(scope="session")
def engine(docker_host: str) -> Iterator[Engine]:
    with Engine(docker_host, lesson="engine-tests", learner="pytest") as engine:
        engine.ping()  # raises EngineUnavailable (a failure, not a skip) when it is not there
        yield engine


def _pull_official(engine: Engine) -> None:
    """nginx, redis and mongo as the registry has them: pulled when missing, or when the
    name is on an image built here (a pulled image has a digest; a build has none)."""
    api = engine.api_client(60)
    for name in ("nginx", "redis", "mongo"):
        try:
            pulled = bool(repo_digests(api.inspect_image(name)))
        except docker.errors.ImageNotFound:
            pulled = False
        if not pulled:
            engine.pull(name)


@pytest.fixture(scope="session")
def images(engine: Engine) -> Engine:
    """The engine with nginx, redis and mongo pulled (through the mirror) once."""
    _pull_official(engine)
    return engine


@pytest.fixture(autouse=True)
def _official_images_present(engine: Engine) -> None:
    """nginx, redis and mongo as pulled, before every test: a lesson solved earlier may
    have built an image under an official name (the guide's docker build -t nginx), and
    its cleanup removed it, which leaves no nginx behind, or kept it."""
    _pull_official(engine)
    for row in engine.images():  # a base a build pulled: nginx:1.25 is nginx's image too
        if row.repository in ("nginx", "node") and row.tag not in ("latest", "<none>"):
            with contextlib.suppress(DockdojoError):
                engine.remove_image(f"{row.repository}:{row.tag}")


@pytest.fixture
def name() -> Callable[[str], str]:
    """Unique container names, so tests never collide with each other's leftovers."""
    return lambda base: f"{base}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def made(engine: Engine) -> Iterator[dict[str, list[str]]]:
    """Containers, volumes and networks a test made; removed when it ends."""
    things: dict[str, list[str]] = {"containers": [], "volumes": [], "networks": []}
    yield things
    for ref in things["containers"]:
        with contextlib.suppress(DockdojoError):
            engine.remove_container(ref, force=True)
    for net in things["networks"]:
        with contextlib.suppress(DockdojoError):
            engine.network_manager().remove(net)
    for vol in things["volumes"]:
        with contextlib.suppress(DockdojoError):
            engine.volume_manager().remove(vol, force=True)


@pytest.fixture
def cleanup(engine: Engine) -> Iterator[list[str]]:
    """Container names or ids a test created; removed when the test ends."""
    created: list[str] = []
    yield created
    for ref in created:
        with contextlib.suppress(ContainerNotFound):
            engine.remove_container(ref, force=True)


@pytest.fixture
def drop_image(engine: Engine) -> Callable[[str], None]:
    """Remove an image and any container of it (the sandbox holds only test resources)."""

    def drop(image: str) -> None:
        info = engine.image(image)
        if info is None:
            return
        for container in engine.containers():
            if container.image_id == info.id:
                engine.remove_container(container.id, force=True)
        with contextlib.suppress(ImageNotFound):
            engine.remove_image(image, force=True)

    return drop
