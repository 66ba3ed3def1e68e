from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import pytest

from dockdojo.runner import Engine, ImageNotFound, InvalidReference, PullProgress, normalize


@pytest.mark.parametrize("image", ["nginx", "redis", "mongo"])
def test_pull_through_the_mirror_reports_monotonic_throttled_progress(
    engine: Engine, drop_image: Callable[[str], None], image: str
) -> None:
    drop_image(image)
    stamped: list[tuple[float, PullProgress]] = []
    info = engine.pull(image, lambda p: stamped.append((time.monotonic(), p)))
    seen = [p for _, p in stamped]
    assert info.name == f"{image}:latest"
    assert info.size > 1_000_000
    assert info.id.startswith("sha256:")
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions), "progress went backwards"
    assert seen[-1].finished
    assert seen[-1].fraction == 1.0
    assert seen[-1].layers_done == seen[-1].layers_total >= 1
    assert seen[-1].bytes_total > 0
    assert len(seen) >= 2
    # at most 10 updates per second: 0.1 s apart, except the final one
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(stamped[:-1])]
    assert all(gap >= 0.095 for gap in gaps), gaps


def test_pull_of_an_image_the_registry_lacks_fails_clearly(engine: Engine) -> None:
    with pytest.raises(ImageNotFound) as err:
        engine.pull("dockdojo-no-such-image")
    assert (
        "Could not pull dockdojo-no-such-image:latest: the registry mirror (http://127.0.0.1:"
    ) in err.value.what
    assert "does not have it, and Docker Hub cannot be reached" in err.value.what
    assert "Check the name and tag" in err.value.hint
    assert engine.image("dockdojo-no-such-image") is None


def test_pull_of_a_missing_tag_fails_clearly(images: Engine) -> None:
    with pytest.raises(ImageNotFound, match="Could not pull nginx:no-such-tag"):
        images.pull("nginx:no-such-tag")


@pytest.mark.parametrize("bad", ["nginx;rm -rf /", "UPPER:case", ""])
def test_invalid_references_never_reach_the_engine(engine: Engine, bad: str) -> None:
    with pytest.raises(InvalidReference):
        engine.pull(bad)


def test_images_lists_each_tag_with_size_and_in_use(
    images: Engine, cleanup: list[str], name: Callable[[str], str]
) -> None:
    rows = {r.name: r for r in images.images()}
    assert {"nginx:latest", "redis:latest", "mongo:latest"} <= set(rows)
    assert all(rows[n].size > 0 and len(rows[n].short_id) == 12 for n in rows)
    container = images.run("redis", name=name("in-use"))
    cleanup.append(container.id)
    rows = {r.name: r for r in images.images()}
    assert rows["redis:latest"].in_use
    assert rows["redis:latest"].containers >= 1


@pytest.mark.parametrize(
    "spelling", ["nginx", "nginx:latest", "docker.io/library/nginx:latest", "library/nginx"]
)
def test_every_spelling_names_the_same_local_image(images: Engine, spelling: str) -> None:
    info = images.image(spelling)
    assert info is not None
    assert info.name == normalize(spelling) == "nginx:latest"
