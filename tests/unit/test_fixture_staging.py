"""Where each fixture image goes in the registry, and how a Debian package's files are
staged for an image (no engine, no Debian root: a small root is made here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "world" / "fixtures.py"


@pytest.fixture(scope="module")
def fixtures() -> ModuleType:
    spec = importlib.util.spec_from_file_location("world_fixtures_staging", FIXTURES)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["world_fixtures_staging"] = module
    spec.loader.exec_module(module)
    return module


def test_official_images_go_under_library_and_others_under_their_owner(
    fixtures: ModuleType,
) -> None:
    repositories = {name: f.repository for name, f in fixtures.FIXTURES.items()}
    assert repositories == {
        "nginx": "library/nginx",
        "redis": "library/redis",
        "mongo": "library/mongo",
        "busybox": "library/busybox",
        "postgres": "library/postgres",
        "httpd": "library/httpd",
        "welcome-to-docker": "docker/welcome-to-docker",
        "node": "library/node",
    }
    assert fixtures.FIXTURES["httpd"].tags == ("2.4", "latest")
    assert fixtures.FIXTURES["postgres"].tags == ("latest", "18")
    assert fixtures.FIXTURES["node"].tags[0] == "21"  # the sample app builds FROM node:21
    assert "1.25" in fixtures.FIXTURES["nginx"].tags  # and FROM nginx:1.25
    assert set(fixtures.STAGERS) == set(fixtures.NAMES) == set(fixtures.PASSWD)
    for name, fixture in fixtures.FIXTURES.items():
        for folder in (name, *fixture.uses):
            assert (fixtures.IMAGES / folder / "Dockerfile").is_file()


def test_a_package_is_staged_from_its_file_list_but_the_excluded_folders(
    fixtures: ModuleType, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    files = {
        "usr/lib/postgresql/15/bin/initdb.txt": "initdb",
        "usr/share/postgresql/15/postgres.bki": "bki",
        "usr/share/doc/postgresql-15/copyright": "doc",
        "usr/lib/postgresql/15/lib/bitcode/x.bc": "bitcode",
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    (root / "usr/lib/postgresql/15/bin/link").symlink_to("initdb.txt")
    listing = ["/.", "/usr", "/usr/share/postgresql/15", *(f"/{p}" for p in files)]
    listing.append("/usr/lib/postgresql/15/bin/link")
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True)
    (info / "postgresql-15.list").write_text("\n".join(listing) + "\n")

    stage = fixtures.Stage(root, tmp_path / "stage")
    stage.add_package(
        "postgresql-15", exclude=("/usr/share/doc", "/usr/lib/postgresql/15/lib/bitcode")
    )
    staged = sorted(str(p.relative_to(stage.dest)) for p in stage.dest.rglob("*") if not p.is_dir())
    assert staged == [
        "usr/lib/postgresql/15/bin/initdb.txt",
        "usr/lib/postgresql/15/bin/link",
        "usr/share/postgresql/15/postgres.bki",
    ]
    assert (stage.dest / "usr/lib/postgresql/15/bin/link").readlink() == Path("initdb.txt")


def test_writing_over_a_staged_link_replaces_the_link_not_its_target(
    fixtures: ModuleType, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.html"
    outside.write_text("keep")
    stage = fixtures.Stage(tmp_path / "root", tmp_path / "stage")
    (stage.dest / "index.html").symlink_to(outside)
    stage.write("/index.html", "page")
    assert outside.read_text() == "keep"
    assert (stage.dest / "index.html").read_text() == "page"


def test_the_node_images_npm_cache_is_filled_from_the_lessons_own_lock_file(
    fixtures: ModuleType,
) -> None:
    """The node:21 fixture carries the packages of exactly the sample the lesson builds:
    a lock file changed in one place only would send npm ci to a registry a room lacks."""
    sample = Path(__file__).resolve().parents[2] / "content/multi-container-applications"
    for name in ("package.json", "package-lock.json"):
        lesson = (sample / "nginx-node-redis/web" / name).read_bytes()
        assert (fixtures.IMAGES / "node" / name).read_bytes() == lesson, name
