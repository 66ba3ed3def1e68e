"""The environment variables of the learner contract, named once and read here.

A learner's server (set by the room's hub), a grading kernel (set by the grader) and a
laptop (set by the learner, if at all) tell dockdojo who the learner is and what engine
they have through these variables. Everything else takes the values as arguments:
:func:`dockdojo.runner.context.learner_context` reads them once for a notebook or the
CLI; the grader, the instructor's view and the rehearsal name the learner themselves.
"""

from __future__ import annotations

import getpass
import os

LEARNER = "DOCKDOJO_LEARNER"
"""The learner's id (a room's Unix user name, a submission's file name)."""
LEARNER_TAG = "DOCKDOJO_LEARNER_TAG"
"""``LESSON=TAG,LESSON=TAG...``: the learner's tags, as given by whoever keeps the
secret to itself (:func:`handed_tags`): a submission's kernel gets its own tag this way
from the grader, a learner's server theirs from the room's hub; never the salt."""
TAG_SALT = "DOCKDOJO_TAG_SALT"
"""Outside a room, a secret mixed into every learner's tag, so nobody can work out
another's (empty unless set). A room has its own (:mod:`dockdojo.runner.room.salt`)."""
SHARED_ENGINE = "DOCKDOJO_SHARED_ENGINE"
"""Set to ``1`` where an engine is shared by several learners."""
HOST_IP = "DOCKDOJO_HOST_IP"
"""The address published ports bind to, when not ``127.0.0.1``: a room gives each
learner one of their own (``dockdojo.runner.privileged.firewall``)."""
WIDGETS_SYNC = "DOCKDOJO_WIDGETS_SYNC"
"""Set to ``1`` to run widget work inline instead of in threads (headless runs, grading)."""
WIDGETS_HEADLESS = "DOCKDOJO_WIDGETS_HEADLESS"
"""Set to ``1`` where nobody sees the widgets (grading): they are built and work as
usual, but send nothing to a frontend (a lesson's widgets open about 1,400 comms)."""
RECHECK_URL = "DOCKDOJO_RECHECK_URL"
"""The instructor view's ``api/recheck`` address, set for a learner's server by the hub."""
HUB_USER = "JUPYTERHUB_USER"
"""JupyterHub's name for the user whose server this is (the learner, when
:data:`LEARNER` is not set)."""


def learner() -> str:
    """Who the learner is: ``$DOCKDOJO_LEARNER``, ``$JUPYTERHUB_USER``, or the user name."""
    try:
        return os.environ.get(LEARNER) or os.environ.get(HUB_USER) or getpass.getuser()
    except (KeyError, OSError):
        return "learner"


def shared_engine() -> bool:
    """Whether other learners use this engine too (``DOCKDOJO_SHARED_ENGINE=1``)."""
    return os.environ.get(SHARED_ENGINE) == "1"


def host_ip() -> str | None:
    """The address published ports bind to, when one is set."""
    return os.environ.get(HOST_IP) or None


def handed_tags(tags: dict[str, str]) -> str:
    """The value of :data:`LEARNER_TAG` that hands a process its learner's ``tags`` (lesson
    id -> tag)."""
    return ",".join(f"{lesson}={tag}" for lesson, tag in tags.items())


def given_tag(lesson_id: str, learner_id: str) -> str | None:
    """The tag handed to this process (:data:`LEARNER_TAG`) for ``learner_id`` in
    ``lesson_id``, if any."""
    if os.environ.get(LEARNER) != learner_id:
        return None
    for pair in os.environ.get(LEARNER_TAG, "").split(","):
        given_lesson, _, given = pair.partition("=")
        if given and given_lesson == lesson_id:
            return given
    return None


def tag_salt() -> str:
    """The secret mixed into tags outside a room (empty unless :data:`TAG_SALT` is set)."""
    return os.environ.get(TAG_SALT, "")


def widgets_sync() -> bool:
    """Whether widget work runs inline (``DOCKDOJO_WIDGETS_SYNC=1``)."""
    return os.environ.get(WIDGETS_SYNC) == "1"


def graded_widgets() -> dict[str, str]:
    """What a graded kernel's environment says of its widgets (isolated or trusted alike):
    their work runs inline, and they send nothing to a frontend, which there is none of."""
    return {WIDGETS_SYNC: "1", WIDGETS_HEADLESS: "1"}


def widgets_headless() -> bool:
    """Whether widgets send nothing to a frontend (``DOCKDOJO_WIDGETS_HEADLESS=1``)."""
    return os.environ.get(WIDGETS_HEADLESS) == "1"


__all__ = [
    "HOST_IP",
    "HUB_USER",
    "LEARNER",
    "LEARNER_TAG",
    "RECHECK_URL",
    "SHARED_ENGINE",
    "TAG_SALT",
    "WIDGETS_HEADLESS",
    "WIDGETS_SYNC",
    "given_tag",
    "graded_widgets",
    "handed_tags",
    "host_ip",
    "learner",
    "shared_engine",
    "tag_salt",
    "widgets_headless",
    "widgets_sync",
]
