"""The engine layer: the one place dockdojo talks to Docker.

- :mod:`.facade`: :class:`Engine`, the SDK behind one small API, its errors translated
  by one function (:mod:`.translate`);
- :mod:`.explore`: one container as Docker Desktop's page shows it (files, inspect,
  logs as they come);
- :mod:`.session`: interactive programs in a container (the Exec tab);
- :mod:`.volumes` and :mod:`.networks`: volumes with the containers that mount them
  (and their files), networks with the containers attached and their aliases;
- :mod:`.snapshot`: images and containers read once, and which containers use an image;
- :mod:`.live`: one live model of an engine, kept current by its event stream;
- :mod:`.journal`: dockdojo's own journal of an engine's past (pulled, removed,
  created), recorded by whoever started the engine, and its reader;
- :mod:`.ownership`: which containers are a learner's (the shared-engine rule) and the
  ``dockdojo.*`` labels that say so;
- :mod:`.progress`: pull progress from the engine's event stream;
- :mod:`.building`: images built from a folder, with progress (:class:`Builder`), and
  what an image was built from;
- :mod:`.compose`: Compose (the ``docker compose`` plugin or ``docker-compose``) run
  against this engine, and the projects it left running;
- :mod:`.refs`: image references as Docker parses them;
- :mod:`.provenance`: where an image came from (the digests that count,
  :class:`TrustedImages`) and what a container changed of the programs it runs;
- :mod:`.mirror`: registry mirrors' catalogs, searched when Docker Hub cannot be;
- :mod:`.models`: the typed objects all of these return.

Nothing here imports the lesson model, grading or the command line.
"""

from .building import Builder, BuildProgress, ImageLayers, image_layers
from .compose import ComposeProject, compose_projects, find_compose, run_compose
from .explore import ContainerExplorer, FileEntry, FileText, Folder, LogStream
from .facade import Engine, connect, describe_host, port_bindings, port_key
from .journal import History, Journal
from .live import LiveModel, LiveState
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
    SearchResult,
    StoredImage,
    port_url,
    uses_image,
)
from .networks import NetworkInfo, NetworkMember, Networks
from .ownership import Ownership
from .progress import PullProgress, PullTracker, Throttle
from .provenance import ContainerFiles, TrustedImages
from .refs import ImageRef, normalize, parse_ref, same_image
from .running import (
    ContainerSettings,
    Mount,
    RunSettings,
    parse_env_lines,
    parse_mount,
    read_env_file,
    settings_from_args,
)
from .session import ExecSession
from .snapshot import Snapshot, prefer_lesson
from .volumes import LABEL_HELPER, VolumeInfo, VolumeMount, Volumes

__all__ = [
    "LABEL_HELPER",
    "LABEL_LEARNER",
    "LABEL_LESSON",
    "LABEL_STEP",
    "BuildProgress",
    "Builder",
    "ComposeProject",
    "ContainerExplorer",
    "ContainerFiles",
    "ContainerInfo",
    "ContainerSettings",
    "Engine",
    "EngineInfo",
    "ExecResult",
    "ExecSession",
    "FileEntry",
    "FileText",
    "Folder",
    "History",
    "ImageInfo",
    "ImageLayers",
    "ImageRef",
    "Journal",
    "LiveModel",
    "LiveState",
    "LogStream",
    "Mount",
    "NetworkInfo",
    "NetworkMember",
    "Networks",
    "Ownership",
    "PortLink",
    "PullProgress",
    "PullTracker",
    "Removed",
    "RunSettings",
    "SearchResult",
    "Snapshot",
    "StoredImage",
    "Throttle",
    "TrustedImages",
    "VolumeInfo",
    "VolumeMount",
    "Volumes",
    "compose_projects",
    "connect",
    "describe_host",
    "find_compose",
    "image_layers",
    "normalize",
    "parse_env_lines",
    "parse_mount",
    "parse_ref",
    "port_bindings",
    "port_key",
    "port_url",
    "prefer_lesson",
    "read_env_file",
    "run_compose",
    "same_image",
    "settings_from_args",
    "uses_image",
]
