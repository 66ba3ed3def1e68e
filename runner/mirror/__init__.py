"""The room's registry mirror: one read-only Distribution registry every learner engine
pulls from, filled online (pull-through) or offline from a packed archive.

- :mod:`.service`: :class:`Mirror`, the mirror's process (start, stop, status) and the
  private registries on its storage that ``pack`` and ``load`` use;
- :mod:`.holdings`: what it holds (:class:`MirrorStatus`, :class:`HeldImage`) and which
  of each lesson's images are among them (:func:`lesson_coverage`), and the digests
  checks count as those images in a room (:func:`room_images`);
- :mod:`.pack`: images copied from a registry to an archive;
- :mod:`.load`: an archive's images checked and pushed into the mirror's storage;
- :mod:`.program`: the Distribution registry program, its configuration, and root;
- :mod:`.archive`: the archive format (an OCI image layout in a tar file);
- :mod:`.registry_api`: a client of the registry HTTP API (over TCP or a UNIX socket).

Mirrors are for Linux servers, run as root.
"""

from .holdings import (
    STATUS_SCHEMA,
    HeldImage,
    LessonCoverage,
    LessonImage,
    MirrorStatus,
    lesson_coverage,
    lesson_images,
    room_images,
    trusted_images,
)
from .load import LoadResult
from .pack import PackResult
from .program import need_root, registry_binary, registry_config
from .service import DOCKER_HUB, Mirror

__all__ = [
    "DOCKER_HUB",
    "STATUS_SCHEMA",
    "HeldImage",
    "LessonCoverage",
    "LessonImage",
    "LoadResult",
    "Mirror",
    "MirrorStatus",
    "PackResult",
    "lesson_coverage",
    "lesson_images",
    "need_root",
    "registry_binary",
    "registry_config",
    "room_images",
    "trusted_images",
]
