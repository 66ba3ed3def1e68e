"""Building an image from a folder, with progress, as ``docker build -t TAG FOLDER`` does.

The engine's build endpoint (the SDK's low-level ``APIClient.build``) streams one JSON
object per line of the classic builder's output: ``Step 3/6 : RUN npm ci``, the
command's own output, `` ---> 1f2e3d`` when a step is done, pull events when the base
image must be fetched, ``{"aux": {"ID": ...}}`` with the image id, and, when it stops,
``{"error": ..., "errorDetail": ...}``. :class:`BuildTracker` folds them into
:class:`BuildProgress` snapshots (the step, its instruction, the last line, a fraction
that never goes back), in the manner of :mod:`.progress` for pulls, and keeps the
output of the step under way, so a failing ``RUN`` is reported with what it printed.

The errors say what to do: no folder or no Dockerfile in it, a failing instruction
(its output's last lines), a base image the engine has not and cannot pull.

:func:`image_layers` reads what an image was built from (its layers and history), for
the check that an image was built here on a genuine base image.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from docker.errors import DockerException
from requests import RequestException

from ..errors import BuildFailed, ImageNotFound
from ..text import plain_text
from .progress import Throttle
from .refs import parse_ref
from .translate import Op, translate

if TYPE_CHECKING:
    from .facade import Engine
    from .models import ImageInfo

BUILD_TIMEOUT = 900.0
"""Seconds the engine may stay silent during a build (a long ``RUN``) before it fails."""
OUTPUT_LINES = 20
"""Lines of a failing step's output kept for its error message."""
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.I | re.M)


@dataclass(frozen=True)
class BuildProgress:
    """One snapshot of a build, as a progress bar and its log show it."""

    tag: str
    """The image being built, familiar form (``web:latest``)."""
    step: int
    """The step under way (1-based); 0 before the first."""
    steps: int
    """How many steps the Dockerfile has; 0 until the builder says."""
    instruction: str
    """The step's instruction, as the Dockerfile writes it (``RUN npm ci``)."""
    line: str
    """The last line the builder printed (a command's output, a step's image id)."""
    fraction: float
    """Overall progress in [0, 1]: steps done over steps; never decreases."""
    finished: bool = False
    """True on the last snapshot of a successful build."""
    image_id: str = ""
    """The built image's id, on the last snapshot."""
    lines: tuple[str, ...] = ()
    """The lines the builder printed since the previous snapshot (a log shows them all,
    however few snapshots a throttled caller sees)."""

    def describe(self) -> str:
        """One line for a terminal or a widget label."""
        if self.finished:
            return f"100%  built {self.tag} (image {self.image_id.removeprefix('sha256:')[:12]})"
        if not self.steps:
            return f"{self.fraction:4.0%}  sending the folder to the engine"
        return f"{self.fraction:4.0%}  step {self.step}/{self.steps}: {self.instruction}"


@dataclass
class BuildTracker:
    """Folds build events into :class:`BuildProgress` snapshots."""

    tag: str
    label_steps: int = 0
    """Steps the engine adds at the end for the labels it was given (one ``LABEL`` step
    each): not the Dockerfile's, so neither counted nor shown."""
    _step: int = 0
    _steps: int = 0
    _instruction: str = ""
    _line: str = ""
    _fraction: float = 0.0
    _image_id: str = ""
    _hiding: bool = False
    _sent: int = 0
    step_output: deque[str] = field(default_factory=lambda: deque(maxlen=OUTPUT_LINES))
    """The last lines the step under way printed."""
    lines: list[str] = field(default_factory=list)
    """Every line of the build's output, in order (a log to show)."""

    def feed(self, event: Mapping[str, Any]) -> None:
        """Take one decoded event from the engine (:meth:`snapshot` then says where the
        build is, with the lines printed since the snapshot before)."""
        aux = event.get("aux")
        if isinstance(aux, Mapping) and aux.get("ID"):
            self._image_id = str(aux["ID"])
        text = event.get("stream")
        if text is None and event.get("status"):  # pulling the base image
            text = " ".join(str(event[k]) for k in ("status", "id") if event.get(k)) + "\n"
        for raw in plain_text(str(text or "")).splitlines():
            self._take(raw.rstrip())

    def _take(self, line: str) -> None:
        if not line.strip():
            return
        match = _STEP.match(line)
        if match:
            total = max(1, int(match.group(2)) - self.label_steps)
            self._hiding = int(match.group(1)) > total
        elif line.startswith("Successfully"):
            self._hiding = False
        if self._hiding:
            return
        self.lines.append(line)
        self._line = line.strip()
        if match:
            self._step, self._steps = int(match.group(1)), total
            line = f"Step {self._step}/{total} : {match.group(3).strip()}"
            self.lines[-1] = self._line = line
            self._instruction = match.group(3).strip()
            self._fraction = max(self._fraction, (self._step - 1) / self._steps)
            self.step_output.clear()
        elif line.startswith(" ---> ") and not line.startswith(" ---> Running in"):
            if self._steps:
                self._fraction = max(self._fraction, self._step / self._steps)
        elif not line.startswith(" ---> "):
            self.step_output.append(line)

    def snapshot(self, finished: bool = False) -> BuildProgress:
        new, self._sent = tuple(self.lines[self._sent :]), len(self.lines)
        return BuildProgress(
            tag=self.tag,
            step=self._step,
            steps=self._steps,
            instruction=self._instruction,
            line=self._line,
            fraction=1.0 if finished else min(self._fraction, 0.99),
            finished=finished,
            image_id=self._image_id,
            lines=new,
        )

    def failed(self, reason: str, base: str | None) -> BuildFailed | ImageNotFound:
        """The error for a build the engine stopped with ``reason``."""
        reason = reason.strip()
        where = f"step {self._step}/{self._steps} ({self._instruction})" if self._steps else ""
        if self._instruction.upper().startswith("FROM"):
            return _base_missing(self._instruction[5:].strip() or base or "?", reason)
        if "returned a non-zero code" in reason:
            output = "\n".join(self.step_output) or "(it printed nothing)"
            return BuildFailed(
                f"The build of {self.tag} stopped at {where}: {reason}. "
                f"Its last lines of output:\n{output}",
                "Read the command's output above; fix the Dockerfile (or the files it "
                "copies), then build again. Steps that worked are cached.",
            )
        return BuildFailed(
            f"The build of {self.tag} stopped" + (f" at {where}" if where else "") + f": {reason}",
            "Fix the Dockerfile (or the files it copies) as the reason says, then build again.",
        )


ProgressCallback = Callable[[BuildProgress], None]


def _base_missing(base: str, reason: str) -> ImageNotFound:
    return ImageNotFound(
        f"The base image {base} (the Dockerfile's FROM) is not on this engine and could "
        f"not be pulled: {reason}",
        f"Pull it first (docker pull {base}), then build again; offline, only images "
        "the registry mirror holds can be pulled, so check the name and tag.",
    )


def dockerfile_base(folder: Path) -> str | None:
    """The image the folder's Dockerfile builds ``FROM`` (its first stage), if it says."""
    try:
        match = _FROM.search((folder / "Dockerfile").read_text(errors="replace"))
    except OSError:
        return None
    return match.group(1) if match else None


def check_folder(folder: Path) -> Path:
    """``folder`` if it holds a Dockerfile, else a :class:`BuildFailed` that says so."""
    if not folder.is_dir():
        raise BuildFailed(
            f"There is no folder {folder} to build.",
            "Check the folder's name (it is relative to the lesson's workspace).",
        )
    if not (folder / "Dockerfile").is_file():
        found = sorted(p.name for p in folder.iterdir())[:8]
        raise BuildFailed(
            f"There is no Dockerfile in {folder} (it has: {', '.join(found) or 'nothing'}).",
            "A build needs a file named Dockerfile (capital D, no extension) in the "
            "folder; create it, or build the folder that has one.",
        )
    return folder


class Builder:
    """Builds images on one engine (``Engine.builder()``), reporting progress."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def build(
        self,
        folder: Path | str,
        tag: str,
        on_progress: ProgressCallback | None = None,
        *,
        labels: Mapping[str, str] | None = None,
        network_mode: str | None = None,
        no_cache: bool = False,
        max_updates_per_second: float = 10.0,
    ) -> ImageInfo:
        """Build ``folder`` (which holds a Dockerfile) as ``tag``; the built image.

        ``network_mode`` is the ``RUN`` steps' network (``none`` cuts it off);
        ``labels`` go on the image; ``no_cache`` runs every step again.
        """
        where = check_folder(Path(folder).resolve())
        ref = parse_ref(tag)
        tracker = BuildTracker(ref.familiar, label_steps=len(labels or {}))
        throttle = Throttle(max_updates_per_second)
        base = dockerfile_base(where)
        op = Op(f"building {ref.familiar} from {where}", "build", ref.familiar)
        try:
            api = self.engine.api_client(BUILD_TIMEOUT)
            stream = api.build(
                path=str(where),
                tag=ref.familiar,
                rm=True,
                forcerm=True,
                decode=True,
                labels=dict(labels or {}) or None,
                network_mode=network_mode,
                nocache=no_cache,
            )
            failure = None
            for event in stream:  # read to its end (an error is the last event): the
                # engine's answer is then whole, and its connection goes back to the pool
                if "error" in event or "errorDetail" in event:
                    detail = event.get("errorDetail") or {}
                    failure = str(event.get("error") or detail.get("message"))
                elif failure is None:
                    tracker.feed(event)
                    if on_progress is not None and throttle.ready():
                        on_progress(tracker.snapshot())
        except (DockerException, RequestException, OSError) as exc:
            raise translate(exc, op, self.engine.host) from exc
        if failure is not None:
            raise tracker.failed(failure, base)
        info = self.engine.image(ref.familiar)
        if info is None:
            raise BuildFailed(
                f"The build of {ref.familiar} ended but the image is not there.",
                "Build again; if it keeps happening, read the engine's log.",
            )
        if on_progress is not None:
            on_progress(tracker.snapshot(finished=True))
        return info


@dataclass(frozen=True)
class ImageLayers:
    """What an image is made of: its layers, its history, its parent."""

    id: str
    layers: tuple[str, ...]
    """The layers' content digests, base first (``RootFS.Layers``)."""
    history: tuple[str, ...]
    """Each instruction that made it (``created_by``), oldest first."""
    local_steps: int
    """History entries whose intermediate image is on this engine: a classic build here
    keeps them; a pulled, loaded or BuildKit-built image shows none."""
    parent: str
    """The image it was built on top of here (classic builder), or empty."""


def image_layers(engine: Engine, ref: str) -> ImageLayers | None:
    """The layers and history of the local image ``ref``, or None when it is not there."""
    api = engine.api_client()
    try:
        data = api.inspect_image(ref)
        history = api.history(ref)
    except (DockerException, RequestException, OSError) as exc:
        if getattr(exc, "status_code", None) == 404:
            return None
        raise translate(exc, Op(f"reading the layers of {ref}"), engine.host) from exc
    entries = list(reversed(history if isinstance(history, list) else []))
    return ImageLayers(
        id=str(data.get("Id") or ""),
        layers=tuple(str(x) for x in (data.get("RootFS") or {}).get("Layers") or ()),
        history=tuple(str(e.get("CreatedBy") or "") for e in entries),
        local_steps=sum(1 for e in entries if str(e.get("Id") or "<missing>") != "<missing>"),
        parent=str(data.get("Parent") or ""),
    )


__all__ = [
    "BuildProgress",
    "BuildTracker",
    "Builder",
    "ImageLayers",
    "check_folder",
    "dockerfile_base",
    "image_layers",
]
