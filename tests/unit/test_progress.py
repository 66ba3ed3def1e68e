"""PullTracker over event streams shaped like the engine's (written here, not recorded)."""

from __future__ import annotations

import itertools

from dockdojo.runner import human_bytes
from dockdojo.runner.engine import PullTracker, Throttle


def _layer_events(layer: str, size: int, steps: int = 4) -> list[dict[str, object]]:
    events: list[dict[str, object]] = [
        {"status": "Pulling fs layer", "id": layer},
        {"status": "Waiting", "id": layer},
    ]
    for i in range(1, steps + 1):
        events.append(
            {
                "status": "Downloading",
                "id": layer,
                "progressDetail": {"current": size * i // steps, "total": size},
            }
        )
    events += [
        {"status": "Verifying Checksum", "id": layer},
        {"status": "Download complete", "id": layer},
    ]
    for i in range(1, steps + 1):
        events.append(
            {
                "status": "Extracting",
                "id": layer,
                "progressDetail": {"current": size * i // steps, "total": size},
            }
        )
    events.append({"status": "Pull complete", "id": layer})
    return events


def _interleave(*streams: list[dict[str, object]]) -> list[dict[str, object]]:
    out = []
    for group in itertools.zip_longest(*streams):
        out += [e for e in group if e is not None]
    return out


def _tracker() -> PullTracker:
    ticks = itertools.count()
    return PullTracker("nginx:latest", clock=lambda: next(ticks) * 0.1)


def test_fraction_is_monotonic_and_reaches_one_with_layer_counts() -> None:
    events: list[dict[str, object]] = [{"status": "Pulling from library/nginx", "id": "latest"}]
    events += _interleave(
        _layer_events("a", 1000),
        _layer_events("b", 50_000),
        [{"status": "Already exists", "id": "c"}],
    )
    events += [{"status": "Digest: sha256:abc"}, {"status": "Status: Downloaded newer image"}]
    tracker = _tracker()
    fractions = [tracker.feed(e).fraction for e in events]
    assert fractions == sorted(fractions)
    last = tracker.snapshot()
    assert last.fraction == 1.0
    assert (last.layers_done, last.layers_total) == (3, 3)
    assert last.bytes_done == last.bytes_total == 51_000
    assert last.status == "Status: Downloaded newer image"


def test_a_pull_of_an_image_already_here_says_so_not_layers_0_of_0() -> None:
    tracker = _tracker()
    for event in (
        {"status": "Pulling from library/nginx", "id": "latest"},
        {"status": "Digest: sha256:abc"},
        {"status": "Status: Image is up to date for nginx:latest"},
    ):
        assert "0/0" not in tracker.feed(event).describe()
    assert tracker.snapshot(finished=True).describe() == "100%  up to date: nothing to download"


def test_fraction_never_drops_when_a_big_layer_reveals_its_size_late() -> None:
    tracker = _tracker()
    tracker.feed({"status": "Pulling fs layer", "id": "small"})
    tracker.feed({"status": "Pulling fs layer", "id": "big"})
    early = tracker.feed(
        {"status": "Downloading", "id": "small", "progressDetail": {"current": 100, "total": 100}}
    ).fraction
    later = tracker.feed(
        {
            "status": "Downloading",
            "id": "big",
            "progressDetail": {"current": 1, "total": 10_000_000},
        }
    ).fraction
    assert early > 0
    assert later >= early


def test_newer_engine_shapes_without_totals_do_not_break_tracking() -> None:
    tracker = _tracker()
    tracker.feed({"status": "Pulling fs layer", "id": "a"})
    snap = tracker.feed(
        {"status": "Extracting", "id": "a", "progressDetail": {"current": 3, "units": "s"}}
    )
    assert 0 < snap.fraction < 1
    snap = tracker.feed({"status": "Pull complete", "id": "a", "progressDetail": {}})
    assert snap.fraction == 1.0


def test_rate_uses_recent_bytes() -> None:
    tracker = _tracker()  # 0.1 s per event
    tracker.feed({"status": "Pulling fs layer", "id": "a"})
    for i in range(1, 41):
        snap = tracker.feed(
            {
                "status": "Downloading",
                "id": "a",
                "progressDetail": {"current": i * 1000, "total": 100_000},
            }
        )
    assert 9_000 < snap.rate < 11_000  # 1000 bytes per 0.1 s


def test_throttle_lets_through_at_most_the_given_rate() -> None:
    now = [0.0]
    throttle = Throttle(10, clock=lambda: now[0])
    passed = 0
    for _ in range(1000):  # 1000 events over one second
        passed += throttle.ready()
        now[0] += 0.001
    assert passed == 10


def test_human_bytes_uses_decimal_units_like_docker() -> None:
    assert human_bytes(999) == "999 B"
    assert human_bytes(187_700_000) == "187.7 MB"
    assert human_bytes(2_500_000_000) == "2.5 GB"
