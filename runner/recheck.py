"""A learner's Check, asking the instructor's view of their room to check them now.

On JupyterHub, a learner's server has ``DOCKDOJO_RECHECK_URL`` (the room's instructor
view, :mod:`dockdojo.runner.hub.instructor`) and its own hub token.
:func:`request_recheck` asks that view to check this learner's engine now. It sends only
the lesson and the step: the view runs the checks itself, against the learner's engine,
so nothing sent here can mark anyone done. It never waits and never fails the Check:
without a room, or with the view away, nothing happens.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.error
import urllib.request

from .environ import RECHECK_URL

TIMEOUT = 5.0

log = logging.getLogger("dockdojo.recheck")


def request_recheck(
    lesson: str, step: str | None = None, *, start_over: bool = False
) -> threading.Thread | None:
    """Ask the room's instructor view to check this learner now, in the background;
    the thread doing it, or None when this is not a room's server. ``start_over``: the
    learner just started the step (or, without one, the lesson) over."""
    url = os.environ.get(RECHECK_URL)
    token = os.environ.get("JUPYTERHUB_API_TOKEN")
    if not url or not token:
        return None
    asked: dict[str, object] = {"lesson": lesson, "step": step}
    if start_over:
        asked["start_over"] = True
    body = json.dumps(asked).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )

    def send() -> None:
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                answer.read()
        except (OSError, urllib.error.URLError) as exc:  # the view away: the Check goes on
            log.info("the instructor's view did not take the request: %s", exc)

    thread = threading.Thread(target=send, name="dockdojo-recheck", daemon=True)
    thread.start()
    return thread


__all__ = ["RECHECK_URL", "request_recheck"]
