"""dockdojo's engine room: Docker access, sandbox, and (later) lessons, checks and grading.

Nothing here imports ipywidgets, so the CLI, the grader and services run without a
notebook.
"""

from .console import ExecSession, plain_text
from .engine import Engine, connect, describe_host
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
    NameInUse,
    PortInUse,
    PullFailed,
    SandboxError,
)
from .models import (
    LABEL_LEARNER,
    LABEL_LESSON,
    LABEL_STEP,
    ContainerInfo,
    EngineInfo,
    ExecResult,
    ImageInfo,
    PortLink,
    Removed,
)
from .progress import PullProgress
from .refs import ImageRef, normalize, parse_ref, same_image
from .sandbox import Sandbox, SandboxStatus

__all__ = [
    "LABEL_LEARNER",
    "LABEL_LESSON",
    "LABEL_STEP",
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
    "ImageInUse",
    "ImageInfo",
    "ImageNotFound",
    "ImageRef",
    "InvalidReference",
    "NameInUse",
    "PortInUse",
    "PortLink",
    "PullFailed",
    "PullProgress",
    "Removed",
    "Sandbox",
    "SandboxError",
    "SandboxStatus",
    "connect",
    "describe_host",
    "normalize",
    "parse_ref",
    "plain_text",
    "same_image",
]
