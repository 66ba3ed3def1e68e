"""The actions on a lesson's own folders: build an image (``build``), and Compose up and
down (``compose-up``, ``compose-down``); one implementation each, which the action
table's entries and the notebook's widget both call.

A lesson's files (a sample app's folders) are found in one place, :func:`lesson_path`:
the copy beside the notebook, in the folder named after the lesson (what the learner
sees and edits in JupyterLab), else the lesson's own files next to its source
(``content/LESSON/``), where ``dockdojo run --solve`` and the grader find them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from ..authoring.sources import content_dirs
from ..engine import Builder, BuildProgress, ContainerInfo, Engine, normalize, run_compose
from ..engine.compose import compose_file
from ..errors import DockdojoError
from ..text import plural


def lesson_path(lesson: str, folder: str) -> Path:
    """The folder ``folder`` (relative, e.g. ``nginx-node-redis/web``) of the lesson
    ``lesson``'s files: beside the notebook first, else the lesson's own."""
    relative = PurePosixPath(folder.strip() or ".")
    if relative.is_absolute() or ".." in relative.parts:
        raise DockdojoError(
            f"The folder {folder!r} is not inside the lesson's files.",
            "Name a folder relative to the lesson's folder, e.g. nginx-node-redis/web.",
        )
    candidates = [Path.cwd() / lesson / relative]
    candidates += [d / lesson / relative for d in content_dirs()]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def build_step(
    engine: Engine,
    lesson: str,
    step: str,
    args: Mapping[str, Any],
    on_progress: Callable[[BuildProgress], None] | None = None,
) -> str:
    """Build the step's folder as its tag (labelled as this step's); what was done."""
    folder = lesson_path(lesson, str(args["folder"]))
    tag = str(args["tag"])
    info = Builder(engine).build(
        folder, tag, on_progress, labels=engine.ownership.labels(step, lesson=lesson)
    )
    return f"Built {normalize(tag)} (image {info.short_id}) from {args['folder']}."


def compose_step(
    engine: Engine,
    lesson: str,
    step: str,
    args: Mapping[str, Any],
    *,
    up: bool,
    on_line: Callable[[str], None] | None = None,
) -> str:
    """``compose up -d --build`` (or ``down``) in the step's folder, on this engine; the
    containers carry this step's labels, as every container dockdojo starts."""
    folder = lesson_path(lesson, str(args.get("folder") or "."))
    project = str(args["project"]) if args.get("project") else None
    command = ["up", "--detach", "--build"] if up else ["down"]
    labels = engine.ownership.labels(step, lesson=lesson) if up else None
    run_compose(engine.host, folder, command, project=project, labels=labels, on_line=on_line)
    name = project or _default_project(folder)
    if not up:
        return f"Compose stopped and removed the project {name} (its containers and network)."
    services = sorted(
        {c.labels.get("com.docker.compose.service", "") for c in _project(engine, name)} - {""}
    )
    return (
        f"Compose started the project {name}: {plural(len(services), 'service')} "
        f"({', '.join(services) or 'none'})."
    )


def _default_project(folder: Path) -> str:
    compose_file(folder)  # says so when the folder has no Compose file
    return "".join(ch for ch in folder.name.lower() if ch.isalnum() or ch in "-_")


def _project(engine: Engine, name: str) -> list[ContainerInfo]:
    return engine.containers(labels={"com.docker.compose.project": name})


__all__ = ["build_step", "compose_step", "lesson_path"]
