"""Pull progress: the engine's per-layer events folded into one monotonic figure.

The engine streams one JSON event per layer change (``Pulling fs layer``, ``Waiting``,
``Downloading`` with ``progressDetail``, ``Download complete``, ``Extracting``,
``Pull complete``, ``Already exists``). Newer engines send other shapes (``Extracting``
with ``units`` and no ``total``), so every field is read defensively. The overall
fraction weighs each layer by its size, counts download as 80 % and extraction as 20 %
of a layer's work, and never goes backwards.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..text import human_bytes

_DOWNLOAD_SHARE = 0.8
_RATE_WINDOW = 2.0
_DONE_STATES = {"pull complete", "already exists"}
_DOWNLOADED_STATES = {"download complete", "verifying checksum"}


@dataclass(frozen=True)
class PullProgress:
    """One snapshot of a pull, as a progress bar shows it."""

    ref: str
    """The image being pulled, familiar form (``nginx:latest``)."""
    fraction: float
    """Overall progress in [0, 1]; never decreases during one pull."""
    bytes_done: int
    """Bytes downloaded so far, over all layers."""
    bytes_total: int
    """Bytes to download over the layers whose size is known so far."""
    layers_done: int
    """Layers downloaded and extracted (or already present)."""
    layers_total: int
    """Layers the image has, as far as the engine has said."""
    rate: float
    """Download rate in bytes per second over the last few seconds."""
    status: str
    """The engine's last overall status line (e.g. ``Digest: sha256:...``)."""
    finished: bool = False
    """True on the last snapshot of a successful pull."""

    def describe(self) -> str:
        """One line for a terminal or a widget label."""
        if not self.layers_total:  # the engine named no layer: none to fetch, or not yet
            return (
                "100%  up to date: nothing to download"
                if self.finished
                else f"{self.fraction:4.0%}"
            )
        parts = [f"{self.fraction:4.0%}", f"layers {self.layers_done}/{self.layers_total}"]
        if self.bytes_total:
            parts.append(f"{human_bytes(self.bytes_done)} / {human_bytes(self.bytes_total)}")
        if self.rate > 0 and not self.finished:
            parts.append(f"{human_bytes(int(self.rate))}/s")
        return "  ".join(parts)


@dataclass
class _Layer:
    total: int = 0
    downloaded: int = 0
    extracted: int = 0
    extract_total: int = 0
    done: bool = False
    download_done: bool = False

    def progress(self) -> float:
        if self.done:
            return 1.0
        down = 1.0 if self.download_done else (self.downloaded / self.total if self.total else 0.0)
        ext = self.extracted / self.extract_total if self.extract_total else 0.0
        return min(1.0, _DOWNLOAD_SHARE * down + (1 - _DOWNLOAD_SHARE) * ext)


@dataclass
class PullTracker:
    """Folds pull events into :class:`PullProgress` snapshots."""

    ref: str
    clock: Callable[[], float] = time.monotonic
    _layers: dict[str, _Layer] = field(default_factory=dict)
    _fraction: float = 0.0
    _status: str = ""
    _window: deque[tuple[float, int]] = field(default_factory=deque)

    def feed(self, event: Mapping[str, Any]) -> PullProgress:
        """Take one decoded event from the engine and return the new snapshot."""
        status = str(event.get("status") or "")
        layer_id = event.get("id")
        detail = event.get("progressDetail") or {}
        lowered = status.lower()
        if layer_id and not _is_overall(lowered):
            layer = self._layers.setdefault(str(layer_id), _Layer())
            current = _int(detail.get("current"))
            total = _int(detail.get("total"))
            if lowered.startswith("downloading"):
                if total:
                    layer.total = total
                layer.downloaded = max(layer.downloaded, current)
            elif lowered.startswith("extracting"):
                layer.download_done = True
                if total:
                    layer.extract_total = total
                    layer.extracted = max(layer.extracted, current)
            elif lowered in _DOWNLOADED_STATES:
                layer.download_done = True
                layer.downloaded = max(layer.downloaded, layer.total)
            elif lowered in _DONE_STATES:
                layer.done = layer.download_done = True
                layer.downloaded = max(layer.downloaded, layer.total)
        elif status:
            self._status = status
        return self.snapshot()

    def snapshot(self, finished: bool = False) -> PullProgress:
        layers = list(self._layers.values())
        known = [la.total for la in layers if la.total]
        default_weight = sum(known) / len(known) if known else 1.0
        weights = [la.total or default_weight for la in layers]
        if finished:
            fraction = 1.0
        elif layers:
            done = sum(w * la.progress() for w, la in zip(weights, layers, strict=True))
            fraction = done / sum(weights)
        else:
            fraction = 0.0
        self._fraction = max(self._fraction, min(fraction, 1.0))
        bytes_done = sum(la.downloaded for la in layers)
        now = self.clock()
        self._window.append((now, bytes_done))
        while len(self._window) > 2 and now - self._window[1][0] >= _RATE_WINDOW:
            self._window.popleft()
        then, before = self._window[0]
        return PullProgress(
            ref=self.ref,
            fraction=self._fraction,
            bytes_done=bytes_done,
            bytes_total=sum(known),
            layers_done=sum(1 for la in layers if la.done),
            layers_total=len(layers),
            rate=(bytes_done - before) / (now - then) if now > then else 0.0,
            status=self._status,
            finished=finished,
        )


class Throttle:
    """Lets at most ``max_per_second`` calls through; the caller forces the last one."""

    def __init__(self, max_per_second: float, clock: Callable[[], float] = time.monotonic):
        self.interval = 1.0 / max_per_second if max_per_second > 0 else 0.0
        self.clock = clock
        self._last = float("-inf")

    def ready(self) -> bool:
        now = self.clock()
        if now - self._last >= self.interval:
            self._last = now
            return True
        return False


def _is_overall(status: str) -> bool:
    return status.startswith(("pulling from", "digest:", "status:"))


def _int(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
