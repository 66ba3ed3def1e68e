"""Hand-made lessons for tests of checks and solving (no builder, no Markdown).

Importable from any test module: ``tests/`` is on ``sys.path`` through its conftest.
"""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from pathlib import Path
from typing import Any

from dockdojo.runner import ContainerNotFound, Engine, ImageNotFound
from dockdojo.runner.authoring import Action, CheckSpec, Lesson, Section, Step


def check(kind: str, hint: str = "", points: int = 1, **args: Any) -> CheckSpec:
    return CheckSpec(kind=kind, args=args, hint=hint or f"hint for {kind}", points=points, line=1)


def action(kind: str, **args: Any) -> Action:
    return Action(kind=kind, args=args, line=1)


def step(
    step_id: str,
    *checks: CheckSpec,
    act: Action | None = None,
    solve: tuple[Action, ...] = (),
    exercise: bool = False,
) -> Step:
    return Step(
        id=step_id,
        title=f"Title of {step_id}",
        action=act,
        checks=checks,
        solve=solve,
        exercise=exercise,
        task="Do it." if exercise else "",
    )


def lesson(lesson_id: str, *steps: Step) -> Lesson:
    return Lesson(
        id=lesson_id,
        title=f"Lesson {lesson_id}",
        description="",
        keywords=(),
        source=Path(f"{lesson_id}.md"),
        sections=(Section("", 0, steps),),
    )


INSERT = 'db.test.insertOne({ active: true, email: "moby@docker.com" });'
FIND = 'db.test.findOne({ email: "moby@docker.com" })'


def seed_lesson(
    lesson_id: str,
    *,
    nginx: str = "nginx",
    redis: str = "redis",
    mongo: str = "mongo",
    cache: str = "cache",
) -> Lesson:
    """The seed guide's steps (what-is-an-image) plus one exercise, over given images."""
    return lesson(
        lesson_id,
        step(
            "pull-images",
            check("image_present", image="nginx", hint="Pull nginx."),
            check("image_present", image="redis", hint="Pull redis."),
            check("image_present", image="mongo", hint="Pull mongo."),
            act=action("pull", images=["nginx", "redis", "mongo"]),
        ),
        step(
            "view-images",
            check("step_done", step="pull-images", hint="Pull all three."),
            act=action("images"),
        ),
        step(
            "run-nginx",
            check("container_running", image=nginx, hint="Run nginx."),
            check("port_published", image=nginx, port=80, random=True, hint="Use host port 0."),
            check(
                "http_ok",
                image=nginx,
                port=80,
                contains="Welcome to nginx!",
                hint="Open the port link.",
            ),
            act=action("run", image=nginx, ports={80: 0}),
        ),
        step(
            "run-redis",
            check("container_running", image=redis, hint="Run redis."),
            act=action("run", image=redis),
        ),
        step(
            "redis-cli",
            check(
                "command_output",
                image=redis,
                command=["redis-cli", "GET", "test"],
                expect="1",
                hint="SET test 1 in redis-cli.",
            ),
            act=action(
                "exec",
                image=redis,
                command=["redis-cli"],
                prompt="6379> $",
                suggest=["SET test 1", "GET test"],
            ),
        ),
        step(
            "run-mongo",
            check("container_running", image=mongo, hint="Run mongo."),
            act=action("run", image=mongo),
        ),
        step(
            "mongosh",
            check(
                "mongo_document",
                image=mongo,
                collection="test",
                filter={"email": "moby@docker.com"},
                hint="insertOne in mongosh.",
            ),
            act=action(
                "exec", image=mongo, command=["mongosh"], prompt="test> $", suggest=[INSERT, FIND]
            ),
        ),
        step(
            "remove-nginx",
            check("no_container_uses", image=nginx, hint="Delete the containers."),
            check("image_absent", image=nginx, hint="Delete the image."),
            act=action("remove-image", image=nginx),
        ),
        step(
            "redis-cache",
            check("container_running", image=redis, name=cache, hint=f"Run {cache}."),
            check(
                "command_output",
                name=cache,
                command=["redis-cli", "GET", "dojo"],
                expect="rocks",
                points=2,
                hint="SET dojo rocks.",
            ),
            solve=(
                action("run", image=redis, name=cache),
                action(
                    "exec",
                    name=cache,
                    command=["redis-cli"],
                    prompt="6379> $",
                    suggest=["SET dojo rocks"],
                ),
            ),
            exercise=True,
        ),
    )


def build_image(engine: Engine, base: str) -> str:
    """A new image FROM ``base``, with an id of its own: ``dojo-built:<base>-<hex>``.

    With the test registry (``DOCKDOJO_TEST_REGISTRY``, the sandbox's mirror) it is
    pushed there and pulled back through the mirror, so it carries a digest of its
    repository as a pulled image does (checks recognise images by it); all share one
    repository, so the mirror's catalog, which search falls back to, gains one name.
    Tests that remove an image, or must not see other tests' containers, use one of
    these instead of the shared fixture image.
    """
    name = f"{base}-{uuid.uuid4().hex[:8]}"
    tag = f"{BUILT_REPOSITORY}:{name}"
    dockerfile = f"FROM {base}\nLABEL dockdojo.test.image={tag}\n".encode()
    api = engine.api_client(120)
    for event in api.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True, decode=True):
        if "error" in event:
            raise AssertionError(f"building {tag} failed: {event['error']}")
    registry = os.environ.get("DOCKDOJO_TEST_REGISTRY")
    if registry:
        pushed = f"{registry}/library/{BUILT_REPOSITORY}"
        api.tag(tag, pushed, name)
        for event in api.push(pushed, tag=name, stream=True, decode=True):
            if "error" in event:
                raise AssertionError(f"pushing {tag} failed: {event['error']}")
        api.remove_image(f"{pushed}:{name}")
        api.remove_image(tag)
        engine.pull(tag)
    return tag


BUILT_REPOSITORY = "dojo-built"
"""The one repository of :func:`build_image`'s images (a tag each)."""


def drop_image(engine: Engine, tag: str) -> None:
    """Remove ``tag`` and every container of it (all created by the test itself)."""
    info = engine.image(tag)
    if info is None:
        return
    for container in engine.containers():
        if container.image_id == info.id:
            with contextlib.suppress(ContainerNotFound):
                engine.remove_container(container.id, force=True)
    with contextlib.suppress(ImageNotFound):
        engine.remove_image(tag, force=True)
