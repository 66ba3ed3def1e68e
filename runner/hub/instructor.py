"""The instructor's view of a room: a JupyterHub service at ``/services/dockdojo/``.

The hub starts it (``dockdojo room hub-config`` writes the service into the hub's
configuration) as ``python -m dockdojo.runner.hub.instructor --config ROOM``, as the
hub's own user, which can reach every learner's engine; learners cannot reach it but
through the hub, which authenticates every request (hub OAuth for pages, the learner's
server token for a learner's request to be checked now).

Routes, under the service's prefix:

- ``/``: the grid (instructors only): learners by steps of the chosen lesson, time on
  the current step, who is stuck, which check fails most, each engine's readiness;
  it follows ``api/events`` and never reloads;
- ``api/events?lesson=ID``: server-sent events: ``grid`` (everything) first, then
  ``learner`` (one learner's row) on every change, numbered without gaps;
- ``api/grid?lesson=ID`` (JSON), ``api/grid.csv?lesson=ID`` (CSV),
  ``api/history?learner=NAME`` (JSON): instructors only;
- ``api/recheck`` (POST ``{"lesson": ID, "step": ID, "start_over": BOOL}``, at most 1 kB):
  any user of the hub, about themselves only: their checks run now against their own
  engine (after a Start over, the steps started over count as not tried again).

Who is an instructor: the room's ``[hub] instructors``, the names given with
``--instructor``, the hub's admins, and the members of the room's ``[hub]
instructor_group`` (asked of the hub, and asked again after a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import html
import io
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, cast

from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
from tornado import web
from tornado.iostream import StreamClosedError

from ..authoring import Lesson
from ..authoring.sources import lesson_sources
from ..lessons import in_course_order, load_lesson
from ..mirror import room_images
from ..privileged.mounts import mounted
from ..room.config import RoomConfig, load_config
from ..room.engines import LearnerEngine, pinned_socket
from ..room.learners import lookup
from ..room.salt import room_salt
from ..sandbox import engine_answers
from .follow import Followers
from .hub import SERVICE
from .progress import ProgressStore, default_url, state_folder
from .watch import CheckRequest, Watch

log = logging.getLogger("dockdojo.instructor")

MAX_BODY = 1024
"""Largest request to be checked now, in bytes."""
KEEPALIVE = 5.0
"""Seconds between two ``ping`` events on an idle stream: proxies keep it open, and a
page that hears nothing for three of them starts a new stream (a service killed behind
the hub's proxy may leave the old one hanging)."""
CSP = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'"
)
"""The page loads nothing from elsewhere, and no other site may frame it."""


def room_lessons() -> dict[str, Lesson]:
    """The lessons installed with dockdojo, by id, in their order."""
    folder = Path(str(resources.files("dockdojo.content")))
    lessons = {lesson.id: lesson for lesson in map(load_lesson, lesson_sources(folder))}
    return {name: lessons[name] for name in in_course_order(lessons)}


def learner_engine(name: str) -> str | None:
    """``DOCKER_HOST`` of ``name``'s room engine, as root reads it (its pinned socket,
    which nothing of the learner's can replace), when it answers."""
    pin = pinned_socket(name)
    if lookup(name) is None or not mounted(pin) or not engine_answers(pin):
        return None
    return f"unix://{pin}"


class Base(HubOAuthenticated, web.RequestHandler):  # type: ignore[misc]
    """What every route shares: the hub's user, the instructors' check, JSON errors."""

    @property
    def watch(self) -> Watch:
        return cast(Watch, self.settings["watch"])

    @property
    def name(self) -> str:
        return str(self.current_user["name"])

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Security-Policy", CSP)

    def instructor(self) -> None:
        """Refuse (403) anyone but an instructor."""
        user = self.current_user
        if user.get("kind", "user") != "user" or not self.settings["is_instructor"](self.name):
            raise web.HTTPError(403, "This page is for the workshop's instructors.")

    def lesson(self) -> str:
        try:
            return self.watch.valid(self.get_argument("lesson", self.watch.default_lesson), None)[0]
        except ValueError as exc:
            raise web.HTTPError(400, str(exc)) from None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        reason = self._reason
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            reason = exc.log_message
        if "/api/" in self.request.path:
            self.set_header("Content-Type", "application/json")
            self.finish(json.dumps({"error": reason}))
        else:
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(f"{status_code}: {reason}\n")


class Page(Base):
    @web.authenticated
    def get(self) -> None:
        self.instructor()
        self.set_header("Content-Type", "text/html; charset=utf-8")
        raw: object = self.xsrf_token  # the page's own requests carry it (the hub checks it)
        token = raw.decode() if isinstance(raw, bytes) else str(raw)
        self.finish(self.settings["page"].replace("{{xsrf}}", html.escape(token, quote=True)))


class Grid(Base):
    @web.authenticated
    def get(self) -> None:
        self.instructor()
        self.finish(self.watch.grid(self.lesson()))


class Csv(Base):
    @web.authenticated
    def get(self) -> None:
        self.instructor()
        lesson = self.lesson()
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{lesson}.csv"')
        self.finish(grid_csv(self.watch.grid(lesson)))


class History(Base):
    @web.authenticated
    def get(self) -> None:
        self.instructor()
        learner = self.get_argument("learner")
        if learner not in self.watch.learners:
            raise web.HTTPError(404, "There is no such learner in this room.")
        attempts = self.watch.store.attempts(learner, self.get_argument("lesson", None))
        self.finish({"learner": learner, "attempts": [a.__dict__ for a in attempts]})


class Recheck(Base):
    """A learner's Check asking that their own engine be checked now."""

    @web.authenticated
    def post(self) -> None:
        if self.current_user.get("kind", "user") != "user":
            raise web.HTTPError(403, "Only a learner may ask to be checked.")
        if len(self.request.body) > MAX_BODY:
            raise web.HTTPError(413, f"A request is at most {MAX_BODY} bytes.")
        try:
            data = json.loads(self.request.body or b"{}")
            if not isinstance(data, dict) or set(data) - {"lesson", "step", "start_over"}:
                raise ValueError("give only lesson, step and start_over")
            lesson, step = self.watch.valid(data.get("lesson"), data.get("step"))
            over = data.get("start_over", False)
            if not isinstance(over, bool):
                raise ValueError("start_over: true or false")
        except ValueError as exc:
            raise web.HTTPError(400, str(exc)) from None
        if not self.watch.accept_request(self.name):
            self.set_header("Retry-After", "1")
            raise web.HTTPError(429, "Too many requests; ask again in a few seconds.")
        chosen = frozenset([step] if step else [])
        if over:  # the steps started over count as not tried again (theirs only)
            everything = frozenset(s.id for s in self.watch.lessons[lesson].steps)
            asked = CheckRequest(self.name, lesson, cause="start over", reset=chosen or everything)
        else:
            asked = CheckRequest(self.name, lesson, chosen, "look")
        self.watch.request(asked)
        self.set_status(202)
        self.finish({"queued": True, "learner": self.name})


class Events(Base):
    @web.authenticated
    async def get(self) -> None:
        self.instructor()
        lesson = self.lesson()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=10_000)
        self.set_header("Content-Type", "text/event-stream")
        self.set_header("X-Accel-Buffering", "no")

        def deliver(event: dict[str, Any]) -> None:
            loop.call_soon_threadsafe(_offer, queue, event)

        unsubscribe = self.watch.subscribe(deliver)
        try:
            grid = self.watch.grid(lesson)
            self.write(_event("grid", grid["seq"], grid))
            await self.flush()
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE)
                except TimeoutError:
                    self.write("event: ping\ndata: {}\n\n")  # the page's sign of life
                    await self.flush()
                    continue
                if event.get("overflow"):
                    return  # the page reconnects and starts from a whole grid
                if event["seq"] <= grid["seq"]:
                    continue  # already in the grid the page started from
                data = {
                    "seq": event["seq"],
                    "row": self.watch.row(event["learner"], lesson),
                    "summary": self.watch.summary(lesson),
                    "room": self.watch.room(),
                }
                self.write(_event("learner", event["seq"], data))
                await self.flush()
        except StreamClosedError:
            pass
        finally:
            unsubscribe()


def make_app(
    watch: Watch,
    *,
    instructors: Sequence[str],
    prefix: str,
    cookie_secret: bytes,
    group: str = "",
) -> web.Application:
    """The tornado application of the service (authenticated by the hub). Instructors:
    the names in ``instructors``, the hub's admins and the members of hub ``group``."""
    hub_auth = HubOAuth(api_token=os.environ["JUPYTERHUB_API_TOKEN"], cache_max_age=60)
    named = frozenset(instructors)
    asked: dict[str, tuple[float, bool]] = {}

    def is_instructor(name: str) -> bool:
        if name in named:
            return True
        known = asked.get(name)
        if known is None or time.monotonic() - known[0] > 60:
            try:
                model = hub_get(f"users/{name}")
                model = model if isinstance(model, dict) else {}
                member = bool(group) and group in (model.get("groups") or [])
                known = (time.monotonic(), bool(model.get("admin")) or member)
            except Exception:  # the hub's answer decides; without one, not an instructor
                known = (time.monotonic(), False)
            asked[name] = known
        return known[1]

    base = prefix if prefix.endswith("/") else prefix + "/"
    return web.Application(
        [
            (base, Page),
            (base + "api/grid", Grid),
            (base + "api/grid.csv", Csv),
            (base + "api/history", History),
            (base + "api/recheck", Recheck),
            (base + "api/events", Events),
            (base + "oauth_callback", HubOAuthCallbackHandler),
        ],
        hub_auth=hub_auth,
        watch=watch,
        is_instructor=is_instructor,
        page=resources.files("dockdojo.runner.hub").joinpath("instructor.html").read_text(),
        cookie_secret=cookie_secret,
        login_url=hub_auth.login_url,
    )


def _offer(queue: asyncio.Queue[dict[str, Any]], event: dict[str, Any]) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:  # a page too slow to follow: it starts again
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait({"overflow": True})


def _event(kind: str, seq: int, data: dict[str, Any]) -> str:
    return f"id: {seq}\nevent: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def grid_csv(grid: dict[str, Any]) -> str:
    """The grid as CSV: a learner a line, a column per step (its status), then why the
    failing steps fail."""
    out = io.StringIO()
    writer = csv.writer(out)
    steps = [s["id"] for s in grid["steps"]]
    writer.writerow(
        [
            "learner",
            "engine",
            "ready",
            "steps_done",
            "current_step",
            "minutes_on_step",
            "stuck",
            *steps,
            "failing_reasons",
        ]
    )
    for row in grid["learners"]:
        reasons = [
            f"{step}: {row['steps'][step]['message']}"
            for step in steps
            if row["steps"][step]["status"] == "failing"
        ]
        writer.writerow(
            [
                _safe(row["name"]),
                row["engine"],
                {True: "yes", False: "no", None: ""}[row["ready"]],
                row["done"],
                row["current"] or "",
                row["minutes_on_step"],
                "yes" if row["stuck"] else "no",
            ]
            + [row["steps"][step]["status"] for step in steps]
            + [_safe("; ".join(reasons))]
        )
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def cookie_secret(state: Path) -> bytes:
    """The service's cookie secret, kept in ``STATE/instructor`` (root's), so that the
    instructors' sessions outlive a restart of the service."""
    path = state_folder(state) / "cookie_secret"
    try:
        secret = path.read_bytes()
    except FileNotFoundError:
        secret = b""
    if len(secret) < 32:
        secret = os.urandom(32)
        path.touch(mode=0o600)
        path.write_bytes(secret)
    path.chmod(0o600)
    return secret


def hub_get(path: str) -> Any:
    """``GET`` the hub's API (``JUPYTERHUB_API_URL``) with the service's own token."""
    import requests

    answer = requests.get(
        os.environ["JUPYTERHUB_API_URL"].rstrip("/") + "/" + path,
        headers={"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()


def active_learners() -> list[str]:
    """The hub's users whose default server is ready."""
    users = hub_get("users?state=ready")
    return [
        str(u["name"])
        for u in users
        if u.get("kind", "user") == "user" and ((u.get("servers") or {}).get("") or {}).get("ready")
    ]


def serve(
    room: RoomConfig,
    *,
    instructors: Sequence[str],
    learners: Sequence[str] = (),
    port: int | None = None,
) -> int:
    """Run the service until SIGTERM (the hub stops its services so). The room's learners
    (``[hub] learners`` and ``learners``) are on the grid from the start, not started."""
    import tornado.httpserver
    import tornado.ioloop

    logging.basicConfig(
        level=logging.INFO, format="[dockdojo %(levelname)s %(asctime)s] %(message)s"
    )
    url = room.instructor.database or default_url(room.state)
    store = ProgressStore(url)
    here = f"http://127.0.0.1:{room.mirror_port}"  # the mirror, as the host reaches it
    watch = Watch(
        room_lessons(),
        store,
        learner_engine,
        stuck_minutes=room.instructor.stuck_minutes,
        mirror_view=lambda url: here if url.rstrip("/") == room.mirror_url else url,
        journal_of=lambda name: LearnerEngine(name, room).journal,
        salt=room_salt(room),
        images_of=lambda lesson: room_images(lesson, room.mirror_port),
        roster=dict.fromkeys([*room.hub.learners, *learners]),
    )
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", f"/services/{SERVICE}/")
    app = make_app(
        watch,
        instructors=[*room.hub.instructors, *instructors],
        prefix=prefix,
        cookie_secret=cookie_secret(room.state),
        group=room.hub.instructor_group,
    )
    followers = Followers(
        learner_engine,
        lambda name: watch.request(CheckRequest(name, cause="change")),
        ours=watch.ours,
    )
    followers.follow(watch.learners)  # the roster, and everyone the record knows
    server = tornado.httpserver.HTTPServer(app, max_body_size=MAX_BODY * 4, xheaders=True)
    server.listen(port or room.instructor.port, "127.0.0.1")
    stop = threading.Event()

    def rounds() -> None:
        while not stop.is_set():
            try:
                active = active_learners()
                followers.follow(active)
                watch.recheck(active)
            except Exception as exc:  # the hub away for a moment: the next round
                log.warning("could not list the hub's users: %s", exc)
            stop.wait(room.instructor.recheck_seconds)

    threading.Thread(target=rounds, daemon=True).start()
    loop = tornado.ioloop.IOLoop.current()

    def finish(*_: Any) -> None:
        stop.set()
        loop.add_callback_from_signal(loop.stop)

    signal.signal(signal.SIGTERM, finish)
    signal.signal(signal.SIGINT, finish)
    log.info(
        "the instructor's view listens on 127.0.0.1:%s%s (%s)",
        port or room.instructor.port,
        prefix,
        url.split("://")[0],
    )
    loop.start()
    server.stop()
    followers.stop()
    watch.stop()
    store.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dockdojo.runner.hub.instructor")
    parser.add_argument("--config", type=Path, default=None, help="the room's settings file")
    parser.add_argument("--instructor", action="append", default=[], metavar="NAME")
    parser.add_argument("--learner", action="append", default=[], metavar="NAME")
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    return serve(
        load_config(args.config), instructors=args.instructor, learners=args.learner, port=args.port
    )


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["MAX_BODY", "SERVICE", "grid_csv", "learner_engine", "make_app", "room_lessons", "serve"]
