"""dockdojo's engine room, imported as ``dockdojo.runner``.

Its layers, each a subpackage, lowest first:

- :mod:`.errors` and :mod:`.text`: one error hierarchy, and text helpers every layer uses;
- :mod:`.engine`: the only code that talks to Docker (:class:`Engine`);
- :mod:`.sandbox`: a private engine with a registry mirror, for machines without one;
- :mod:`.authoring`: Markdown guides to typed lessons and notebooks (no engine);
- :mod:`.context`: one learner context (lesson, learner, tag, personalized lesson,
  ownership, engine), made in one place; :mod:`.environ` names the environment
  variables of the learner contract;
- :mod:`.kinds`: every action kind and check kind, one table entry each; checking and
  solving a lesson; :mod:`.lessons` hands authoring the kinds' table;
- :mod:`.room`, :mod:`.mirror` and :mod:`.hub`: workshop rooms (a rootless engine per
  learner), their read-only registry mirror, and the room on JupyterHub with the
  instructor's view, which a learner's Check asks to check them now (:mod:`.recheck`);
- :mod:`.grading`: untrusted submissions executed and scored, and the report formats;
- :mod:`.cli`: the ``dockdojo`` command.

This module is the public API; the notebook widgets use nothing else. Names are loaded
on first use, so ``import dockdojo.runner`` (and ``dockdojo --help``) stays instant.
Nothing here imports ipywidgets, so the CLI, the grader and services run without a
notebook.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .authoring import Action, CheckSpec, Lesson, Step
    from .beside import read_beside, write_beside
    from .context import LearnerContext, learner_context, learner_tag
    from .engine import (
        LABEL_HELPER,
        LABEL_LEARNER,
        LABEL_LESSON,
        LABEL_STEP,
        BuildProgress,
        ContainerInfo,
        Engine,
        EngineInfo,
        ExecResult,
        ExecSession,
        FileEntry,
        FileText,
        Folder,
        ImageInfo,
        ImageRef,
        LiveModel,
        LiveState,
        NetworkInfo,
        NetworkMember,
        Networks,
        PortLink,
        PullProgress,
        Removed,
        RunSettings,
        SearchResult,
        Snapshot,
        VolumeInfo,
        VolumeMount,
        Volumes,
        connect,
        describe_host,
        normalize,
        parse_env_lines,
        parse_mount,
        parse_ref,
        port_key,
        port_url,
        read_env_file,
        same_image,
        settings_from_args,
        uses_image,
    )
    from .environ import widgets_headless, widgets_sync
    from .errors import (
        ContainerNotFound,
        ContainerNotRunning,
        ContainerUse,
        DockdojoError,
        EngineError,
        EngineUnavailable,
        ExecTimeout,
        ImageInUse,
        ImageNotFound,
        InvalidReference,
        LessonError,
        NameInUse,
        NetworkInUse,
        NetworkNotFound,
        PortInUse,
        Problem,
        PullFailed,
        SandboxError,
        VolumeInUse,
        VolumeNotFound,
    )
    from .kinds import (
        ACTIONS,
        CHECKS,
        CheckResult,
        LessonReport,
        StepReport,
        build_step,
        check_lesson,
        compose_step,
        run_step_checks,
        solve_lesson,
    )
    from .lessons import build_lessons, course, load_lesson, parse_lesson
    from .recheck import request_recheck
    from .sandbox import Sandbox, SandboxStatus
    from .text import human_bytes, plain_text, plural

_WHERE = {
    "authoring": ("Action", "CheckSpec", "Lesson", "Step"),
    "beside": ("read_beside", "write_beside"),
    "context": ("LearnerContext", "learner_context", "learner_tag"),
    "environ": ("widgets_headless", "widgets_sync"),
    "engine": (
        "LABEL_HELPER",
        "LABEL_LEARNER",
        "LABEL_LESSON",
        "LABEL_STEP",
        "BuildProgress",
        "ContainerInfo",
        "RunSettings",
        "Engine",
        "EngineInfo",
        "ExecResult",
        "ExecSession",
        "FileEntry",
        "FileText",
        "Folder",
        "ImageInfo",
        "ImageRef",
        "LiveModel",
        "LiveState",
        "NetworkInfo",
        "NetworkMember",
        "Networks",
        "PortLink",
        "PullProgress",
        "Removed",
        "SearchResult",
        "Snapshot",
        "VolumeInfo",
        "VolumeMount",
        "Volumes",
        "connect",
        "describe_host",
        "normalize",
        "parse_ref",
        "read_env_file",
        "settings_from_args",
        "parse_mount",
        "parse_env_lines",
        "port_key",
        "port_url",
        "same_image",
        "uses_image",
    ),
    "errors": (
        "ContainerNotFound",
        "ContainerNotRunning",
        "ContainerUse",
        "DockdojoError",
        "EngineError",
        "EngineUnavailable",
        "ExecTimeout",
        "ImageInUse",
        "ImageNotFound",
        "InvalidReference",
        "LessonError",
        "NameInUse",
        "NetworkInUse",
        "NetworkNotFound",
        "PortInUse",
        "Problem",
        "PullFailed",
        "SandboxError",
        "VolumeInUse",
        "VolumeNotFound",
    ),
    "kinds": (
        "ACTIONS",
        "CHECKS",
        "CheckResult",
        "LessonReport",
        "StepReport",
        "build_step",
        "check_lesson",
        "compose_step",
        "run_step_checks",
        "solve_lesson",
    ),
    "lessons": ("build_lessons", "course", "load_lesson", "parse_lesson"),
    "recheck": ("request_recheck",),
    "sandbox": ("Sandbox", "SandboxStatus"),
    "text": ("human_bytes", "plain_text", "plural"),
}
_MODULE = {name: module for module, names in _WHERE.items() for name in names}

__all__ = [
    "ACTIONS",
    "CHECKS",
    "LABEL_HELPER",
    "LABEL_LEARNER",
    "LABEL_LESSON",
    "LABEL_STEP",
    "Action",
    "BuildProgress",
    "CheckResult",
    "CheckSpec",
    "ContainerInfo",
    "ContainerNotFound",
    "ContainerNotRunning",
    "ContainerUse",
    "DockdojoError",
    "Engine",
    "EngineError",
    "EngineInfo",
    "EngineUnavailable",
    "ExecResult",
    "ExecSession",
    "ExecTimeout",
    "FileEntry",
    "FileText",
    "Folder",
    "ImageInUse",
    "ImageInfo",
    "ImageNotFound",
    "ImageRef",
    "InvalidReference",
    "LearnerContext",
    "Lesson",
    "LessonError",
    "LessonReport",
    "LiveModel",
    "LiveState",
    "NameInUse",
    "NetworkInUse",
    "NetworkInfo",
    "NetworkMember",
    "NetworkNotFound",
    "Networks",
    "PortInUse",
    "PortLink",
    "Problem",
    "PullFailed",
    "PullProgress",
    "Removed",
    "RunSettings",
    "Sandbox",
    "SandboxError",
    "SandboxStatus",
    "SearchResult",
    "Snapshot",
    "Step",
    "StepReport",
    "VolumeInUse",
    "VolumeInfo",
    "VolumeMount",
    "VolumeNotFound",
    "Volumes",
    "build_lessons",
    "build_step",
    "check_lesson",
    "compose_step",
    "connect",
    "course",
    "describe_host",
    "human_bytes",
    "learner_context",
    "learner_tag",
    "load_lesson",
    "normalize",
    "parse_env_lines",
    "parse_lesson",
    "parse_mount",
    "parse_ref",
    "plain_text",
    "plural",
    "port_key",
    "port_url",
    "read_beside",
    "read_env_file",
    "request_recheck",
    "run_step_checks",
    "same_image",
    "settings_from_args",
    "solve_lesson",
    "uses_image",
    "widgets_headless",
    "widgets_sync",
    "write_beside",
]
"""The public API; :func:`__getattr__` loads each name from the module ``_WHERE`` says."""


def __getattr__(name: str) -> Any:
    module = _MODULE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
