"""The validators against the real engine: work done any way, and states that fail.

Lessons here use images built for the test (``FROM nginx`` etc., ids of their own), so
"a container from the image" never means another test's container.
"""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from lesson_kit import INSERT, build_image, check, drop_image, lesson, seed_lesson, step

from dockdojo.runner import Engine, solve_lesson
from dockdojo.runner.engine import Snapshot
from dockdojo.runner.kinds import CheckResult, check_lesson, run_check, run_step_checks
from dockdojo.runner.kinds.checks import EPHEMERAL_PORT_MIN

Namer = Callable[[str], str]


@pytest.fixture(scope="module")
def own_images(images: Engine) -> Iterator[dict[str, str]]:
    """nginx, redis and mongo images of this module's own."""
    tags = {base: build_image(images, base) for base in ("nginx", "redis", "mongo")}
    yield tags
    for tag in tags.values():
        drop_image(images, tag)


def _lesson_id() -> str:
    return f"check-test-{uuid.uuid4().hex[:8]}"


def _by_kind(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.kind: r for r in results}


def _wait_for_mongosh(engine: Engine, container: str) -> None:
    for _ in range(100):
        if engine.exec(container, ["mongosh", "--quiet", "--eval", "1"]).exit_code == 0:
            return
        time.sleep(0.1)
    raise AssertionError("mongosh never reached the server")


def test_work_done_with_the_docker_sdk_directly_passes(
    images: Engine, own_images: dict[str, str], name: Namer, cleanup: list[str]
) -> None:
    """A learner using the CLI: no dockdojo labels, other spellings of the image names."""
    api = images.api_client()
    nginx, redis, mongo = own_images["nginx"], own_images["redis"], own_images["mongo"]

    def docker_run(image: str, container: str, **options: object) -> str:
        created = api.create_container(image, name=container, **options)
        cleanup.append(created["Id"])
        api.start(created["Id"])
        return container

    web = docker_run(
        nginx,
        name("web"),
        ports=[80],  # docker run -d -p 80 nginx
        host_config=api.create_host_config(port_bindings={80: None}),
    )
    cache = docker_run(f"docker.io/library/{redis}", name("cache"))
    db = docker_run(mongo.removesuffix(":latest"), name("db"))
    api.exec_start(api.exec_create(cache, ["redis-cli", "SET", "test", "1"])["Id"])
    _wait_for_mongosh(images, db)
    images.exec(db, ["mongosh", "--quiet", "--eval", INSERT])
    old = api.create_container(nginx, name=name("old"))["Id"]  # created, never started
    cleanup.append(old)

    seed = seed_lesson(_lesson_id(), nginx=nginx, redis=redis, mongo=mongo, cache=cache)
    with Engine(images.base_url, lesson=seed.id) as engine:
        report = check_lesson(engine, seed)
    outcome = {(r.step, r.kind): r for r in report.results}
    assert {key for key, r in outcome.items() if not r.passed} == {
        ("remove-nginx", "no_container_uses"),
        ("remove-nginx", "image_absent"),
        ("redis-cache", "command_output"),
    }
    assert outcome[("run-nginx", "container_running")].message == (f"{web} ({nginx}) is running.")
    link = outcome[("run-nginx", "port_published")].evidence["links"][0]
    assert link["host_port"] >= EPHEMERAL_PORT_MIN
    assert link["host_ip"] == "0.0.0.0"
    assert outcome[("run-nginx", "http_ok")].evidence["status"] == 200
    assert outcome[("redis-cli", "command_output")].message == (
        f"`redis-cli GET test` in {cache} printed '1'."
    )
    assert outcome[("mongosh", "mongo_document")].passed
    uses = outcome[("remove-nginx", "no_container_uses")]
    assert uses.message.startswith(f"2 containers still use {nginx}: ")
    assert {c["name"]: c["state"] for c in uses.evidence["containers"]} == {
        web: "running",
        name_of(images, old): "created",
    }
    assert uses.hint == "Delete the containers."
    assert outcome[("redis-cache", "command_output")].message == (
        f"`redis-cli GET dojo` in {cache} printed '', not 'rocks'."
    )
    assert (report.points, report.max_points) == (12, 16)
    assert (report.steps_passed, report.steps_total) == (7, 9)


def name_of(engine: Engine, container_id: str) -> str:
    return engine.container(container_id).name


def test_a_clean_engine_fails_the_right_checks_with_their_hints(
    images: Engine, own_images: dict[str, str], name: Namer
) -> None:
    nginx, redis, mongo = own_images["nginx"], own_images["redis"], own_images["mongo"]
    cache = name("cache")
    seed = seed_lesson(_lesson_id(), nginx=nginx, redis=redis, mongo=mongo, cache=cache)
    with Engine(images.base_url, lesson=seed.id) as engine:
        report = check_lesson(engine, seed)
    got = {(r.step, r.kind): (r.passed, r.message, r.hint) for r in report.results}
    assert got[("pull-images", "image_present")][0]
    assert got[("view-images", "step_done")] == (
        True,
        "Every check of step pull-images passes (3 of 3).",
        "Pull all three.",
    )
    assert got[("run-nginx", "container_running")] == (
        False,
        f"There is no container from {nginx}.",
        "Run nginx.",
    )
    assert got[("run-nginx", "port_published")] == (
        False,
        f"There is no container from {nginx}, so no port is published.",
        "Use host port 0.",
    )
    assert got[("redis-cli", "command_output")] == (
        False,
        f"There is no container from {redis}, so `redis-cli GET test` could not run.",
        "SET test 1 in redis-cli.",
    )
    assert got[("mongosh", "mongo_document")] == (
        False,
        f"There is no container from {mongo}, so mongosh could not look for the document.",
        "insertOne in mongosh.",
    )
    assert got[("remove-nginx", "no_container_uses")] == (
        True,
        f"No container uses {nginx}.",
        "Delete the containers.",
    )
    still = images.image(nginx)
    assert still is not None
    assert got[("remove-nginx", "image_absent")][:2] == (
        False,
        f"{nginx} is still on the engine (image {still.short_id}).",
    )
    assert got[("redis-cache", "container_running")][1] == (
        f"There is no container named {cache} from {redis}."
    )
    assert not report.passed
    assert (report.steps_passed, report.steps_total) == (2, 9)


def test_containers_deleted_or_stopped_behind_the_lessons_back(
    images: Engine, own_images: dict[str, str]
) -> None:
    seed = seed_lesson(_lesson_id(), nginx=own_images["nginx"], redis=own_images["redis"])
    steps = ["run-nginx", "run-redis", "redis-cli"]
    with Engine(images.base_url, lesson=seed.id, learner="pytest") as engine:
        try:
            solved = solve_lesson(engine, seed, step_ids=steps)
            assert solved.passed, solved.to_json()
            web = engine.containers(
                labels={"dockdojo.lesson": seed.id, "dockdojo.step": "run-nginx"}
            )[0]
            kv = engine.containers(
                labels={"dockdojo.lesson": seed.id, "dockdojo.step": "run-redis"}
            )[0]
            engine.remove_container(web.name, force=True)
            engine.stop_container(kv.name, timeout=1)
            started = time.monotonic()
            report = check_lesson(engine, seed, steps)
            took = time.monotonic() - started
        finally:
            engine.remove_labelled({"dockdojo.lesson": seed.id})
    redis = own_images["redis"]
    assert [(r.kind, r.passed, r.message) for r in report.results] == [
        ("container_running", False, f"There is no container from {own_images['nginx']}."),
        (
            "port_published",
            False,
            f"There is no container from {own_images['nginx']}, so no port is published.",
        ),
        (
            "http_ok",
            False,
            f"There is no container from {own_images['nginx']}, so no port is published.",
        ),
        ("container_running", False, f"No container from {redis} is running ({kv.name} (exited))."),
        (
            "command_output",
            False,
            f"No container from {redis} is running ({kv.name} "
            "(exited)), so `redis-cli GET test` could not run.",
        ),
    ]
    assert [r.hint for r in report.results] == [
        "Run nginx.",
        "Use host port 0.",
        "Open the port link.",
        "Run redis.",
        "SET test 1 in redis-cli.",
    ]
    assert took < 2


def _free_low_port() -> int:
    """A free port below the ephemeral range (what a learner choosing 8080 would do)."""
    for port in range(20000, 30000, 37):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port below the ephemeral range")


def test_ports_and_http_semantics(
    images: Engine, own_images: dict[str, str], cleanup: list[str], name: Namer
) -> None:
    nginx = own_images["nginx"]
    port = _free_low_port()
    web = images.run(nginx, name=name("fixed"), ports={80: port})
    cleanup.append(web.id)
    the_lesson = lesson(
        _lesson_id(),
        step(
            "ports",
            check("port_published", image=nginx, random=True, hint="Use 0."),
            check("port_published", name=web.name, port="80/tcp"),
            check("port_published", name=web.name, port=443),
            check("http_ok", name=web.name, contains="Welcome to nginx!"),
            check("http_ok", name=web.name, contains="Goodbye"),
            check("http_ok", name=web.name, status=404),
        ),
    )
    results = run_step_checks(images, the_lesson, the_lesson.steps[0])
    assert [(r.passed, r.message) for r in results] == [
        (
            False,
            f"{web.name} publishes 80/tcp on host port {port}, which is not a random one "
            f"(Docker picks random host ports from {EPHEMERAL_PORT_MIN} up, when the host "
            "port is 0 or empty).",
        ),
        (True, f"{web.name} publishes 80/tcp on host port {port} (http://localhost:{port}/)."),
        (
            False,
            f"{web.name} runs but does not publish 443/tcp on the host (it publishes "
            f"80/tcp on {port}).",
        ),
        (
            True,
            f"http://127.0.0.1:{port}/ ({web.name}) answered 200 and contains 'Welcome to nginx!'.",
        ),
        (
            False,
            f"http://127.0.0.1:{port}/ ({web.name}) answered 200 but the page does not "
            "contain 'Goodbye'.",
        ),
        (False, f"http://127.0.0.1:{port}/ ({web.name}) answered 200, not 404."),
    ]
    assert results[0].hint == "Use 0."
    assert [r.points for r in results] == [0, 1, 0, 1, 0, 0]


def test_a_port_link_that_refuses_connections_fails_cleanly(
    images: Engine, own_images: dict[str, str], cleanup: list[str], name: Namer
) -> None:
    # redis listens on 6379, not 80: its published port 80 leads nowhere
    api = images.api_client()
    created = api.create_container(
        own_images["redis"],
        name=name("quiet"),
        ports=[80],
        host_config=api.create_host_config(port_bindings={80: ("127.0.0.1", None)}),
    )
    cleanup.append(created["Id"])
    api.start(created["Id"])
    quiet = images.container(created["Id"])
    the_lesson = lesson(_lesson_id(), step("http", check("http_ok", name=quiet.name)))
    result = run_check(images, the_lesson, the_lesson.steps[0], the_lesson.steps[0].checks[0])
    assert not result.passed
    url = f"http://127.0.0.1:{quiet.ports[0].host_port}/"
    assert result.message.startswith(f"{url} ({quiet.name}) could not be reached (")
    assert result.message.endswith("may still be starting: check again in a moment.")
    assert result.evidence["tried"][0]["url"] == url
    assert result.seconds < 5


def test_commands_mongo_and_time_limits(
    images: Engine, own_images: dict[str, str], cleanup: list[str], name: Namer
) -> None:
    kv = images.run(own_images["redis"], name=name("kv"))
    db = images.run(own_images["mongo"], name=name("db"))
    cleanup += [kv.id, db.id]
    images.exec(kv.name, ["redis-cli", "SET", "greeting", "hello dojo"])
    _wait_for_mongosh(images, db.name)
    images.exec(
        db.name,
        [
            "mongosh",
            "--quiet",
            "--eval",
            'db.getSiblingDB("shop").items.insertOne({sku: "a\\"b", n: 2})',
        ],
    )
    the_lesson = lesson(
        _lesson_id(),
        step(
            "cmd",
            check(
                "command_output",
                name=kv.name,
                command=["redis-cli", "GET", "greeting"],
                contains="dojo",
            ),
            check(
                "command_output",
                name=kv.name,
                command=["redis-cli", "GET", "greeting"],
                expect="hello",
            ),
            check(
                "mongo_document", name=db.name, db="shop", collection="items", filter={"sku": 'a"b'}
            ),
            check(
                "mongo_document",
                name=db.name,
                db="shop",
                collection="items",
                filter={"sku": "nope"},
            ),
            check("mongo_document", name=kv.name, collection="items", filter={"a": 1}),
        ),
    )
    results = run_step_checks(images, the_lesson, the_lesson.steps[0])
    assert [r.passed for r in results] == [True, False, True, False, False]
    assert results[0].message == f"`redis-cli GET greeting` in {kv.name} printed 'hello dojo'."
    assert results[1].message == (
        f"`redis-cli GET greeting` in {kv.name} printed 'hello dojo', not 'hello'."
    )
    assert results[2].message.startswith(
        f'mongosh found a document in shop.items matching {{"sku": "a\\"b"}} in {db.name}: '
    )
    assert '"n":2' in results[2].evidence["document"]
    assert results[3].message == (
        f'mongosh found no document in shop.items matching {{"sku": "nope"}} in {db.name}.'
    )
    assert results[4].message.startswith(f"mongosh in {kv.name} failed: ")
    assert "executable file not found" in results[4].message
    assert results[4].evidence["runs"][0]["exit_code"] != 0

    slow = lesson(
        _lesson_id(),
        step(
            "slow",
            check(
                "command_output",
                name=kv.name,
                command=["redis-cli", "BLPOP", "nothing", "5"],
                expect="x",
            ),
        ),
    )
    started = time.monotonic()
    (result,) = run_step_checks(images, slow, slow.steps[0], timeout=1.0)
    assert time.monotonic() - started < 3
    assert not result.passed
    # the command's own time limit ends it first, and says which command was too slow
    assert re.fullmatch(
        rf"`redis-cli BLPOP nothing 5` could not run in {kv.name}: redis-cli BLPOP nothing 5 "
        rf"did not finish within (0\.9|1) s in {kv.name}\.",
        result.message,
    ), result.message


def test_a_container_deleted_after_the_snapshot_fails_without_raising(
    images: Engine, own_images: dict[str, str], name: Namer
) -> None:
    kv = images.run(own_images["redis"], name=name("gone"))
    snapshot = Snapshot.take(images)
    images.remove_container(kv.id, force=True)
    the_lesson = lesson(
        _lesson_id(),
        step(
            "s",
            check(
                "command_output",
                image=own_images["redis"],
                command=["redis-cli", "PING"],
                expect="PONG",
                hint="Run redis.",
            ),
        ),
    )
    result = run_check(
        images, the_lesson, the_lesson.steps[0], the_lesson.steps[0].checks[0], snapshot=snapshot
    )
    assert not result.passed
    assert result.message == (
        f"`redis-cli PING` could not run in {kv.name}: There is no "
        f"container '{kv.name}': it may have been deleted."
    )
    assert result.hint == "Run redis."


def test_one_snapshot_is_shared_by_a_run(
    images: Engine, own_images: dict[str, str], cleanup: list[str], name: Namer
) -> None:
    redis = own_images["redis"]
    the_lesson = lesson(_lesson_id(), step("s", check("container_running", image=redis)))
    the_step = the_lesson.steps[0]
    before = Snapshot.take(images)
    cleanup.append(images.run(redis, name=name("late")).id)
    assert not run_check(images, the_lesson, the_step, the_step.checks[0], snapshot=before).passed
    assert run_check(images, the_lesson, the_step, the_step.checks[0]).passed


def test_image_references_are_normalized(images: Engine) -> None:
    nginx = images.image("nginx")
    assert nginx is not None
    spellings = [
        "nginx",
        "nginx:latest",
        "library/nginx",
        "docker.io/library/nginx:latest",
        "index.docker.io/library/nginx",
        nginx.short_id,
        nginx.id,
    ]
    the_lesson = lesson(
        _lesson_id(),
        step(
            "s",
            *(check("image_present", image=s) for s in spellings),
            check("image_absent", image="nginx:0.0-none"),
            check("image_present", image="Nginx"),
        ),
    )
    results = run_step_checks(images, the_lesson, the_lesson.steps[0])
    assert [r.passed for r in results] == [True] * len(spellings) + [True, False]
    assert results[0].message == f"nginx:latest is on the engine (image {nginx.short_id})."
    assert results[-1].message == (
        "'Nginx' is not a valid image reference: repository names must be lowercase."
    )


@pytest.mark.parametrize("host", ["unix:///nonexistent/dockdojo/docker.sock", "tcp://127.0.0.1:9"])
def test_engine_down_fails_every_check_quickly(host: str, name: Namer) -> None:
    seed = seed_lesson(_lesson_id(), cache=name("cache"))
    started = time.monotonic()
    with Engine(host, lesson=seed.id) as engine:
        report = check_lesson(engine, seed)
        solved = solve_lesson(engine, seed, settle=0)
    assert time.monotonic() - started < 5
    for result in (*report.results, *solved.results):
        assert not result.passed
        assert result.message.startswith(f"No Docker Engine answered at {host} (")
        assert "Start Docker Desktop" in result.hint
    assert (report.points, report.steps_passed) == (0, 0)
    assert all(
        len(s.errors) == 1 and "No Docker Engine answered" in s.errors[0] for s in solved.steps
    )


def test_step_done_runs_the_steps_it_depends_on(images: Engine) -> None:
    the_lesson = lesson(
        _lesson_id(),
        step("a", check("image_present", image="redis"), check("image_present", image="mongo")),
        step("b", check("step_done", step="a")),
        step("c", check("step_done", step="b"), check("image_absent", image="redis")),
    )
    with Engine(images.base_url, lesson=the_lesson.id) as engine:
        report = check_lesson(engine, the_lesson, ["b", "c"])
    assert [s.step for s in report.steps] == ["b", "c"]
    assert report.step("b").passed
    (done, absent) = report.step("c").results
    assert done.passed
    assert done.message == "Every check of step b passes (1 of 1)."
    assert not absent.passed
