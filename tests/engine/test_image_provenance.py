"""Forged images and forged commands against the real engine: each fails its check with a
sentence that says what was found and what to do; the honest path still passes.

The forgeries are the ones seen against the grader (``docker tag busybox redis``, a
``redis-cli`` that is a script printing the expected answer) and the ways around a
``docker diff``: the search path or the loader's variables set at create time, and a
mount over the binary. The fixture images stand in for the official ones, pulled through
the sandbox's mirror as the official ones are.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import docker.errors
import pytest
from lesson_kit import INSERT, check, drop_image, lesson, step

from dockdojo.runner import Engine
from dockdojo.runner.authoring import Lesson
from dockdojo.runner.engine import TrustedImages
from dockdojo.runner.kinds import CheckResult, run_step_checks
from dockdojo.runner.mirror import trusted_images
from dockdojo.runner.mirror.registry_api import Registry

Namer = Callable[[str], str]

FAKE = "#!/bin/sh\necho rocks\n"
"""A ``redis-cli`` that prints the expected answer without asking any redis."""
REPLACE = (
    "for d in /usr/local/bin /usr/bin; do "
    "if [ -e $d/redis-cli ]; then printf '#!/bin/sh\\necho rocks\\n' > $d/redis-cli; "
    "echo $d/redis-cli; break; fi; done"
)
"""Overwrite the image's own ``redis-cli`` (it keeps its mode) from inside."""


def _cache_lesson(container: str, *, image: bool = False) -> Lesson:
    running = (
        check("container_running", name=container, image="redis")
        if image
        else check("container_running", name=container)
    )
    return lesson(
        f"trust-{uuid.uuid4().hex[:8]}",
        step(
            "cache",
            check("image_present", image="redis"),
            running,
            check(
                "command_output",
                name=container,
                command=["redis-cli", "GET", "dojo"],
                expect="rocks",
            ),
        ),
    )


def _results(
    engine: Engine, the_lesson: Lesson, images: TrustedImages | None = None
) -> list[CheckResult]:
    return run_step_checks(engine, the_lesson, the_lesson.steps[0], images=images)


def _wait_for(engine: Engine, container: str, argv: list[str]) -> None:
    for _ in range(100):
        if engine.exec(container, argv).exit_code == 0:
            return
    raise AssertionError(f"{argv[0]} never answered in {container}")


@pytest.fixture
def busybox_as_redis(images: Engine) -> Iterator[Engine]:
    """``docker tag busybox redis`` for one test; the real redis tag is put back after (and
    busybox removed when the test pulled it)."""
    pulled = images.image("busybox") is None
    if pulled:
        images.pull("busybox")
    real = images.image("redis")
    assert real is not None
    api = images.api_client()
    api.tag("busybox", "redis", "latest")
    try:
        yield images
    finally:
        api.tag(real.id, "redis", "latest")
        if pulled:
            drop_image(images, "busybox")


def test_a_busybox_tagged_redis_with_a_fake_redis_cli_scores_nothing(
    busybox_as_redis: Engine, name: Namer, cleanup: list[str]
) -> None:
    engine = busybox_as_redis
    cache = name("cache")
    script = f"mkdir -p /usr/local/bin && printf '{FAKE}' > /usr/local/bin/redis-cli && "
    script += "chmod +x /usr/local/bin/redis-cli && exec sleep 600"
    cleanup.append(engine.run("redis", name=cache, command=["sh", "-c", script]).id)
    _wait_for(engine, cache, ["redis-cli"])
    assert engine.exec(cache, ["redis-cli", "GET", "dojo"]).output.strip() == "rocks"

    image, running, output = _results(engine, _cache_lesson(cache, image=True))
    assert not image.passed
    assert image.message.startswith("redis:latest is on the engine (image ")
    assert "but it is not the redis image pulled from Docker Hub (it was pulled as busybox@" in (
        image.message
    )
    assert image.message.endswith(
        "remove it (docker rmi redis:latest) and pull it again (docker pull redis)."
    )
    assert not running.passed
    assert running.message.startswith(
        f"{cache} runs an image tagged redis:latest that is not the redis image pulled from "
        "Docker Hub "
        "(it was pulled as busybox@"
    )
    assert running.message.endswith("remove it and run redis as pulled (docker pull redis).")
    assert not output.passed
    assert output.message.startswith(f"`redis-cli GET dojo` in {cache} cannot be trusted: ")


def test_a_committed_forgery_is_caught_by_its_image_alone(
    busybox_as_redis: Engine, name: Namer, cleanup: list[str]
) -> None:
    """The fake ``redis-cli`` is in the image (docker commit): ``docker diff`` sees nothing."""
    engine = busybox_as_redis
    api = engine.api_client()
    maker = name("forge")
    script = f"mkdir -p /usr/local/bin && printf '{FAKE}' > /usr/local/bin/redis-cli && "
    script += "chmod +x /usr/local/bin/redis-cli"
    made = api.create_container("busybox", ["sh", "-c", script], name=maker)
    cleanup.append(made["Id"])
    api.start(made["Id"])
    api.wait(made["Id"], timeout=30)
    forged = api.commit(
        made["Id"], repository="redis", tag="latest", changes=['CMD ["sleep", "600"]']
    )
    cache = name("cache")
    try:
        cleanup.append(engine.run("redis", name=cache).id)
        assert engine.container_files(cache).changed == ()
        _, _, output = _results(engine, _cache_lesson(cache))
        assert not output.passed
        assert output.message.startswith(
            f"`redis-cli GET dojo` in {cache} cannot be trusted: it runs an image tagged "
            "redis:latest that is not an image pulled from Docker Hub (it was built, committed "
            "or loaded on this engine, not pulled)."
        )
    finally:
        engine.remove_container(cache, force=True)
        with contextlib.suppress(docker.errors.APIError):
            api.remove_image(str(forged["Id"]), force=True)


def test_a_real_redis_whose_redis_cli_was_replaced_is_not_believed(
    images: Engine, name: Namer, cleanup: list[str]
) -> None:
    cache = name("cache")
    cleanup.append(images.run("redis", name=cache).id)
    replaced = images.exec(cache, ["sh", "-c", REPLACE]).output.strip()
    assert replaced.endswith("/redis-cli")
    image, running, output = _results(images, _cache_lesson(cache, image=True))
    assert image.passed
    assert running.passed
    assert not output.passed
    assert output.message == (
        f"`redis-cli GET dojo` in {cache} cannot be trusted: its {replaced} was changed. "
        f"Remove it (docker rm -f {cache}) and run a new container from the image as pulled, "
        "changing nothing in it but its data."
    )


def test_the_search_path_and_the_loader_set_at_create_time_change_nothing(
    images: Engine, name: Namer, cleanup: list[str]
) -> None:
    api = images.api_client()
    if images.image("busybox") is None:
        images.pull("busybox")
    volume = name("fake")
    api.create_volume(volume)
    try:
        writer = api.create_container(
            "busybox",
            ["sh", "-c", f"printf '{FAKE}' > /fake/redis-cli && chmod +x /fake/redis-cli"],
            host_config=api.create_host_config(binds={volume: {"bind": "/fake", "mode": "rw"}}),
        )
        cleanup.append(writer["Id"])
        api.start(writer["Id"])
        api.wait(writer["Id"], timeout=30)
        path = images.container_files(writer["Id"]).image_env
        assert path, "busybox names a search path"
        tricked = name("cache")
        created = api.create_container(
            "redis",
            name=tricked,
            environment=[f"PATH=/fake:{os.defpath}:/usr/local/bin:/usr/bin:/bin"],
            host_config=api.create_host_config(binds={volume: {"bind": "/fake", "mode": "ro"}}),
        )
        cleanup.append(created["Id"])
        api.start(created["Id"])
        _wait_for(images, tricked, ["redis-cli", "PING"])
        # docker exec as a learner runs it: the container's PATH finds the fake first
        assert images.exec(tricked, ["redis-cli", "GET", "dojo"]).output.strip() == "rocks"
        preloaded = name("preload")
        created = api.create_container(
            "redis", name=preloaded, environment=["LD_PRELOAD=/nonexistent/evil.so"]
        )
        cleanup.append(created["Id"])
        api.start(created["Id"])
        _wait_for(images, preloaded, ["redis-cli", "PING"])
        # docker exec as a learner runs it: the loader reads the container's LD_PRELOAD
        assert "LD_PRELOAD" in images.exec(preloaded, ["redis-cli", "PING"]).output
        the_lesson = lesson(
            f"trust-{uuid.uuid4().hex[:8]}",
            step(
                "env",
                check(
                    "command_output",
                    name=tricked,
                    command=["redis-cli", "GET", "dojo"],
                    expect="rocks",
                ),
                check(
                    "command_output", name=preloaded, command=["redis-cli", "PING"], expect="PONG"
                ),
            ),
        )
        by_path, by_loader = _results(images, the_lesson)
        assert not by_path.passed
        assert by_path.message == f"`redis-cli GET dojo` in {tricked} printed '', not 'rocks'."
        assert by_loader.passed, by_loader.message
    finally:
        for ref in list(cleanup):
            with contextlib.suppress(Exception):
                images.remove_container(ref, force=True)
        api.remove_volume(volume, force=True)


def test_a_bind_mount_over_the_binary_is_not_believed(
    images: Engine, name: Namer, cleanup: list[str], tmp_path: Path
) -> None:
    fake = tmp_path / "redis-cli"
    fake.write_text(FAKE)
    fake.chmod(0o755)
    api = images.api_client()
    cache = name("cache")
    created = api.create_container(
        "redis",
        name=cache,
        host_config=api.create_host_config(
            binds={str(fake): {"bind": "/usr/bin/redis-cli", "mode": "ro"}}
        ),
    )
    cleanup.append(created["Id"])
    api.start(created["Id"])
    assert images.exec(cache, ["redis-cli", "GET", "dojo"]).output.strip() == "rocks"
    _, running, output = _results(images, _cache_lesson(cache, image=True))
    assert running.passed
    assert not output.passed
    assert output.message.startswith(
        f"`redis-cli GET dojo` in {cache} cannot be trusted: something is mounted over its "
        "/usr/bin/redis-cli."
    )


def test_real_redis_and_mongo_pass_by_any_rule_and_the_mirror_decides_which_digests_count(
    images: Engine, name: Namer, cleanup: list[str]
) -> None:
    cache, db = name("cache"), name("db")
    cleanup.append(images.run("redis", name=cache).id)
    cleanup.append(images.run("mongo", name=db).id)
    _wait_for(images, cache, ["redis-cli", "PING"])
    images.exec(cache, ["redis-cli", "SET", "dojo", "rocks"])
    _wait_for(images, db, ["mongosh", "--quiet", "--eval", "1"])
    images.exec(db, ["mongosh", "--quiet", "--eval", INSERT])
    the_lesson = lesson(
        f"trust-{uuid.uuid4().hex[:8]}",
        step(
            "all",
            *(check("image_present", image=i) for i in ("nginx", "redis", "mongo")),
            check("container_running", image="redis", name=cache),
            check(
                "command_output", name=cache, command=["redis-cli", "GET", "dojo"], expect="rocks"
            ),
            check(
                "mongo_document",
                image="mongo",
                collection="test",
                filter={"email": "moby@docker.com"},
            ),
        ),
    )
    registry = os.environ.get("DOCKDOJO_TEST_REGISTRY")
    assert registry, "DOCKDOJO_TEST_REGISTRY is not set: run through make test"
    mirror = trusted_images([the_lesson], Registry(registry))
    assert set(mirror.digests) == {
        "docker.io/library/nginx",
        "docker.io/library/redis",
        "docker.io/library/mongo",
    }
    for trusted in (TrustedImages(), mirror):
        results = _results(images, the_lesson, images=trusted)
        assert [r.message for r in results if not r.passed] == []
    elsewhere = TrustedImages(
        {"docker.io/library/redis": frozenset({"sha256:" + "0" * 64})}, "the room's mirror"
    )
    results = _results(images, the_lesson, images=elsewhere)
    failed = {r.kind for r in results if not r.passed}
    assert failed == {"image_present", "container_running", "command_output", "mongo_document"}
    assert "is not the redis image pulled from the room's mirror (it was pulled as redis@" in (
        results[1].message
    )
