"""Which images and commands checks believe, without an engine: the digests that count,
what a container may change, and the environment a command runs with."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lesson_kit import check, lesson, step

from dockdojo.runner import ContainerInfo, Engine, ImageInfo
from dockdojo.runner.engine import Snapshot, TrustedImages, parse_ref
from dockdojo.runner.engine.provenance import (
    DEFAULT_PATH,
    ContainerFiles,
    exec_env,
    pulled_as,
    tampering,
)
from dockdojo.runner.kinds import run_step_checks
from dockdojo.runner.mirror import trusted_images
from dockdojo.runner.mirror.registry_api import Manifest, Registry

NOWHERE = "unix:///nonexistent/dockdojo-unit/docker.sock"
REDIS = "redis@sha256:" + "1" * 64
BUSYBOX = "busybox@sha256:" + "2" * 64
MIRRORED = TrustedImages({"docker.io/library/redis": frozenset({"sha256:" + "1" * 64})}, "M")
WHEN = datetime(2024, 1, 1, tzinfo=UTC)


# digests ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("trusted", "digests", "genuine"),
    [
        (TrustedImages(), (REDIS,), True),
        (TrustedImages(), ("docker.io/library/redis@sha256:" + "3" * 64,), True),
        (TrustedImages(), (BUSYBOX,), False),  # docker tag busybox redis
        (TrustedImages(), (), False),  # built, committed or loaded here
        (TrustedImages(), ("me/redis@sha256:" + "1" * 64,), False),
        (MIRRORED, (REDIS,), True),
        (MIRRORED, ("redis@sha256:" + "3" * 64,), False),  # not what the mirror serves
        (MIRRORED, (BUSYBOX, REDIS), True),
    ],
)
def test_an_image_is_the_declared_one_by_the_manifest_it_was_pulled_as(
    trusted: TrustedImages, digests: tuple[str, ...], genuine: bool
) -> None:
    assert trusted.genuine(parse_ref("redis:latest"), digests) is genuine


def test_a_pinned_reference_needs_its_own_digest_and_the_mirror_serves_what_it_names() -> None:
    pinned = parse_ref("redis@sha256:" + "1" * 64)
    assert TrustedImages().genuine(pinned, (REDIS,))
    assert not TrustedImages().genuine(pinned, ("redis@sha256:" + "3" * 64,))
    assert not MIRRORED.genuine(parse_ref("nginx"), ("nginx@sha256:" + "1" * 64,))
    assert MIRRORED.origin(parse_ref("redis")) == "M"
    assert TrustedImages().origin(parse_ref("redis")) == "Docker Hub"
    assert TrustedImages().origin(parse_ref("ghcr.io/me/app")) == "ghcr.io"


def test_what_an_image_really_is() -> None:
    assert pulled_as((BUSYBOX,)) == "it was pulled as busybox@sha256:222222222222"
    assert pulled_as(()) == "it was built, committed or loaded on this engine, not pulled"


class _Mirror(Registry):
    def __init__(self, held: dict[tuple[str, str], str]) -> None:
        super().__init__("127.0.0.1:1")
        self.held = held

    def manifest(self, repository: str, reference: str) -> Manifest | None:
        digest = self.held.get((repository, reference))
        return (
            Manifest("application/vnd.oci.image.index.v1+json", digest, b"{}") if digest else None
        )


def test_the_mirror_says_which_digests_count_for_each_lesson_image() -> None:
    the_lesson = lesson(
        "l",
        step(
            "s",
            check("image_present", image="redis"),
            check("image_present", image="nginx:1.27"),
            check("image_present", image="ghcr.io/me/app"),
        ),
    )
    mirror = _Mirror({("library/redis", "latest"): "sha256:aa"})
    trusted = trusted_images([the_lesson], mirror)
    assert trusted.known
    assert dict(trusted.digests) == {"docker.io/library/redis": frozenset({"sha256:aa"})}


# what a container changed -----------------------------------------------------------
def _files(
    changed: tuple[str, ...] = (),
    mounts: tuple[str, ...] = (),
    env: tuple[str, ...] = (),
    image_env: tuple[str, ...] = ("PATH=/usr/local/bin:/usr/bin:/bin",),
    privileged: bool = False,
) -> ContainerFiles:
    return ContainerFiles(changed, mounts, env or image_env, image_env, privileged)


@pytest.mark.parametrize(
    "files",
    [
        _files(changed=("/data", "/data/dump.rdb", "/tmp", "/tmp/x.sock")),
        _files(changed=("/root", "/root/.mongodb", "/root/.mongodb/mongosh/log")),
        _files(
            changed=(
                "/usr",
                "/usr/local",
                "/usr/local/lib/app/site/__pycache__",
                "/usr/local/lib/app/site/__pycache__/mod.cpython-311.pyc",
            )
        ),
        _files(mounts=("/data", "/tmp")),
    ],
    ids=["redis data", "mongosh's own log", "python bytecode", "data volumes"],
)
def test_what_honest_containers_change_is_trusted(files: ContainerFiles) -> None:
    assert tampering(files, "redis-cli") is None


@pytest.mark.parametrize(
    ("files", "why"),
    [
        (_files(changed=("/usr", "/usr/bin", "/usr/bin/redis-cli")), "its /usr/bin/redis-cli"),
        (_files(changed=("/tmp", "/tmp/redis-cli")), "its /tmp/redis-cli was changed"),
        (_files(changed=("/usr/local/bin/sh",)), "a folder of programs or libraries"),
        (_files(changed=("/lib/x86_64-linux-gnu/libc.so.6",)), "programs or libraries"),
        (_files(changed=("/etc/ld.so.preload",)), "its /etc/ld.so.preload was changed"),
        (_files(changed=("/opt/bin/tool",), image_env=("PATH=/opt/bin",)), "/opt/bin/tool"),
        (_files(changed=("/usr/bin/evil.pyc",)), "programs or libraries"),
        (_files(mounts=("/usr/bin/redis-cli",)), "something is mounted over its /usr/bin/"),
        (_files(mounts=("/usr/local",)), "mounted over its /usr/local"),
        (_files(mounts=("/etc",)), "mounted over its /etc"),
        (_files(privileged=True), "it runs privileged"),
    ],
)
def test_a_changed_command_or_what_runs_it_is_not_trusted(files: ContainerFiles, why: str) -> None:
    said = tampering(files, "redis-cli")
    assert said is not None
    assert why in said


def test_a_command_runs_with_the_images_environment_not_the_containers() -> None:
    files = ContainerFiles(
        changed=(),
        mounts=(),
        env=("PATH=/fake:/usr/bin", "LD_PRELOAD=/tmp/x.so", "NODE_OPTIONS=-r /tmp/x", "HOME=/h"),
        image_env=("PATH=/usr/local/bin:/usr/bin", "HOME=/root"),
    )
    assert exec_env(files) == {
        "PATH": "/usr/local/bin:/usr/bin",
        "LD_PRELOAD": "",
        "NODE_OPTIONS": "",
        "HOME": "/root",
    }
    bare = ContainerFiles((), (), ("LD_LIBRARY_PATH=/tmp",), ())
    assert exec_env(bare) == {"LD_LIBRARY_PATH": "", "PATH": DEFAULT_PATH}


# the checks -------------------------------------------------------------------------
REDIS_ID = "sha256:" + "b2" * 32
FORGED_ID = "sha256:" + "f0" * 32


def _snapshot(*containers: ContainerInfo) -> Snapshot:
    images = (
        ImageInfo("redis", "latest", FORGED_ID, WHEN, 1, in_use=True, digests=(BUSYBOX,)),
        ImageInfo("<none>", "<none>", REDIS_ID, WHEN, 1, in_use=False, digests=(REDIS,)),
    )
    return Snapshot(images, containers, NOWHERE)


def _container(name: str, image_id: str, image: str = "redis") -> ContainerInfo:
    return ContainerInfo(name.encode().hex().ljust(64, "0"), name, image, image_id, "running", "")


def test_a_tagged_busybox_is_no_redis_in_any_check_that_names_redis() -> None:
    forged = _container("cache-x", FORGED_ID)
    the_lesson = lesson(
        "l",
        step(
            "s",
            check("image_present", image="redis"),
            check("container_running", image="redis", name="cache-x"),
            check("command_output", name="cache-x", command=["redis-cli", "PING"], expect="PONG"),
            check("container_running", name="cache-x"),
        ),
    )
    with Engine(NOWHERE, lesson="unit") as engine:
        results = run_step_checks(
            engine, the_lesson, the_lesson.steps[0], snapshot=_snapshot(forged)
        )
    assert [r.passed for r in results] == [False, False, False, True]
    assert results[0].message == (
        "redis:latest is on the engine (image f0f0f0f0f0f0), but it is not the redis image "
        "pulled from Docker Hub (it was pulled as busybox@sha256:222222222222): remove it "
        "(docker rmi redis:latest) and pull it again (docker pull redis)."
    )
    assert results[1].message == (
        "cache-x runs an image tagged redis that is not the redis image pulled from Docker Hub "
        "(it was pulled as busybox@sha256:222222222222): remove it and run redis as pulled "
        "(docker pull redis)."
    )
    assert results[2].message.startswith("`redis-cli PING` in cache-x cannot be trusted: it runs")
    assert results[2].evidence["runs"][0]["untrusted"] == results[2].message


def test_a_container_of_the_image_as_pulled_counts_even_after_its_tag_moved() -> None:
    honest = _container("cache-y", REDIS_ID, image=REDIS_ID)  # the engine shows an id
    the_lesson = lesson("l", step("s", check("container_running", name="cache-y")))
    with Engine(NOWHERE, lesson="unit") as engine:
        (result,) = run_step_checks(
            engine, the_lesson, the_lesson.steps[0], snapshot=_snapshot(honest)
        )
    assert result.passed
