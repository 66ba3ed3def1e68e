"""Solving lessons on the real engine: every action kind, then the step's checks.

The lessons use images built for the test (``FROM nginx`` etc., each with an id of its
own), so removing "nginx" or matching "a redis container" never touches or sees the
containers of tests running beside these.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from lesson_kit import action, build_image, check, drop_image, lesson, seed_lesson, step

from dockdojo.runner import LABEL_LESSON, LABEL_STEP, ContainerNotFound, Engine, solve_lesson
from dockdojo.runner.authoring import Lesson
from dockdojo.runner.kinds import StepReport
from dockdojo.runner.kinds.checks import EPHEMERAL_PORT_MIN

Namer = Callable[[str], str]


@pytest.fixture
def built(images: Engine) -> Iterator[Callable[[str], str]]:
    """Build images of this test's own; removed (with their containers) at the end."""
    tags: list[str] = []

    def build(base: str) -> str:
        tags.append(build_image(images, base))
        return tags[-1]

    yield build
    for tag in tags:
        drop_image(images, tag)


@pytest.fixture
def lesson_engine(images: Engine) -> Iterator[Callable[[Lesson], Engine]]:
    """An Engine scoped to a lesson; the lesson's labelled containers go at the end."""
    opened: list[tuple[Engine, str]] = []

    def open_for(the_lesson: Lesson) -> Engine:
        engine = Engine(images.base_url, lesson=the_lesson.id, learner="pytest")
        opened.append((engine, the_lesson.id))
        return engine

    yield open_for
    for engine, lesson_id in opened:
        engine.remove_labelled({LABEL_LESSON: lesson_id})
        engine.close()


def _unique_lesson_id() -> str:
    return f"solve-test-{uuid.uuid4().hex[:8]}"


def test_solving_the_seed_lesson_passes_every_check(
    images: Engine,
    built: Callable[[str], str],
    lesson_engine: Callable[[Lesson], Engine],
    name: Namer,
    cleanup: list[str],
) -> None:
    nginx, redis, mongo = built("nginx"), built("redis"), built("mongo")
    cache = name("cache")
    seed = seed_lesson(_unique_lesson_id(), nginx=nginx, redis=redis, mongo=mongo, cache=cache)
    api = images.api_client()
    # A learner's own stopped container of the nginx image: the delete step must remove it.
    own = api.create_container(nginx, name=name("learners-nginx"))["Id"]
    bystander = images.run("redis", name=name("bystander"))
    cleanup += [own, bystander.id]

    seen: list[StepReport] = []
    with lesson_engine(seed) as engine:
        report = solve_lesson(engine, seed, on_step=seen.append)

    failed = [(r.step, r.kind, r.message) for r in report.results if not r.passed]
    assert failed == []
    assert [s.errors for s in report.steps] == [()] * len(seed.steps)
    assert report.passed
    assert (report.points, report.max_points) == (seed.points, seed.points) == (16, 16)
    assert (report.steps_passed, report.steps_total) == (9, 9)
    assert [s.step for s in seen] == [s.id for s in seed.steps]
    assert report.mode == "solve"

    port = report.step("run-nginx").results[1]
    assert port.evidence["links"][0]["host_port"] >= EPHEMERAL_PORT_MIN
    http = report.step("run-nginx").results[2]
    assert http.evidence["status"] == 200
    assert "Welcome to nginx!" in http.evidence["snippet"]
    assert http.message.startswith(f"http://127.0.0.1:{port.evidence['links'][0]['host_port']}/")
    assert report.step("redis-cli").results[0].evidence["runs"][0]["output"] == "1"
    document = report.step("mongosh").results[0]
    assert '"email":"moby@docker.com"' in document.evidence["document"]
    assert '"active":true' in document.evidence["document"]
    assert report.step("redis-cache").points == 3

    # the delete step removed the learner's stopped container, and only what used nginx
    with pytest.raises(ContainerNotFound):
        images.container(own)
    assert images.container(bystander.id).running
    assert images.image(nginx) is None


def test_solving_again_replaces_only_what_the_step_made(
    images: Engine,
    built: Callable[[str], str],
    lesson_engine: Callable[[Lesson], Engine],
    name: Namer,
    cleanup: list[str],
) -> None:
    redis = built("redis")
    cache = name("cache")
    seed = seed_lesson(_unique_lesson_id(), redis=redis, cache=cache)
    only = ["run-redis", "redis-cache"]
    with lesson_engine(seed) as engine:
        first = solve_lesson(engine, seed, step_ids=only)
        first_cache = images.container(cache).id
        second = solve_lesson(engine, seed, step_ids=only)
    assert first.passed, first.to_json()
    assert second.passed, second.to_json()
    assert images.container(cache).id != first_cache
    mine = images.containers(labels={LABEL_LESSON: seed.id})
    assert sorted(c.labels[LABEL_STEP] for c in mine) == ["redis-cache", "run-redis"]

    # a container of that name that dockdojo did not make is never removed
    images.remove_container(cache, force=True)
    own = images.api_client().create_container(redis, name=cache)["Id"]
    cleanup.append(own)
    with lesson_engine(seed) as engine:
        third = solve_lesson(engine, seed, step_ids=["redis-cache"])
    (error,) = third.step("redis-cache").errors
    assert error.startswith(
        f"run: A container named '{cache}' already exists and dockdojo "
        "did not make it for step redis-cache"
    )
    assert f"docker rm -f {cache}" in error
    assert images.container(cache).id == own
    assert not third.passed
    assert third.step("redis-cache").results[0].message == (
        f"No container named {cache} from {redis} is running ({cache} (created))."
    )


def test_fresh_removes_only_this_lessons_labelled_containers(
    images: Engine, lesson_engine: Callable[[Lesson], Engine], name: Namer, cleanup: list[str]
) -> None:
    the_lesson = lesson(
        _unique_lesson_id(),
        step("view", check("image_present", image="redis"), act=action("images")),
    )
    leftover = images.run("redis", name=name("leftover"), labels={LABEL_LESSON: the_lesson.id})
    own = images.run("redis", name=name("own"))
    cleanup += [leftover.id, own.id]
    with lesson_engine(the_lesson) as engine:
        report = solve_lesson(engine, the_lesson, fresh=True)
    assert report.passed
    with pytest.raises(ContainerNotFound):
        images.container(leftover.id)
    assert images.container(own.id).running


@pytest.mark.usefixtures("images")
def test_actions_that_cannot_work_are_reported_per_step(
    built: Callable[[str], str], lesson_engine: Callable[[Lesson], Engine]
) -> None:
    redis = built("redis")
    the_lesson = lesson(
        _unique_lesson_id(),
        step(
            "console",
            check(
                "command_output",
                image=redis,
                command=["redis-cli", "PING"],
                expect="PONG",
                hint="Run redis first.",
            ),
            act=action("exec", image=redis, command=["redis-cli"], prompt="6379> $"),
        ),
        step(
            "run-missing",
            check("container_running", image="dockdojo-never-pulled", hint="Pull it."),
            act=action("run", image="dockdojo-never-pulled"),
        ),
        step("bad", check("image_present", image="redis"), act=action("exec", image=redis)),
    )
    with lesson_engine(the_lesson) as engine:
        report = solve_lesson(engine, the_lesson, settle=0)
    assert report.step("console").errors == (
        f"exec: No container from {redis} is running, so redis-cli has nowhere to run. "
        f"Run one first (the step that runs {redis}), then solve this step again.",
    )
    assert report.step("console").results[0].hint == "Run redis first."
    (missing,) = report.step("run-missing").errors
    assert "The image dockdojo-never-pulled:latest is not on this engine yet." in missing
    (bad,) = report.step("bad").errors
    assert "exec needs 'command'" in bad
    assert "exec needs 'prompt'" in bad
    assert report.steps_passed == 0


def test_a_fixed_host_port_taken_by_another_lesson_is_replaced_by_a_free_one(
    images: Engine, name: Callable[[str], str], cleanup: list[str]
) -> None:
    """The guides share host ports (8080, 5432) across lessons; a solve takes a free one
    when the step's checks accept any, as its hint tells a learner to."""
    holder = images.run("nginx", name=name("holder"), ports={80: 0})
    cleanup.append(holder.id)
    assert holder.ports, (holder, images.logs(holder.id, tail=5))
    taken = holder.ports[0].host_port
    lesson_id = f"port-taken-{uuid.uuid4().hex[:6]}"
    web = name("web")
    taker = step(
        "run-web",
        check("port_published", name=web, port=80),
        act=action("run", image="nginx", name=web, ports={80: taken}),
    )
    with Engine(images.base_url, lesson=lesson_id) as engine:
        report = solve_lesson(engine, lesson(lesson_id, taker), fresh=True)
        cleanup.append(web)
    assert report.passed, report
    assert images.container(web).ports[0].host_port != taken
