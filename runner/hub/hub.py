"""The room on JupyterHub: each learner a Unix user, their server started with their engine.

``dockdojo room hub-config`` writes a JupyterHub configuration for the room, which
``jupyterhub -f`` runs (as root, with dockdojo importable):

- JupyterHub's local-process spawner starts each learner's single-user server as the
  learner's own Unix user, from the learners' Python (:mod:`..room.pyenv`,
  ``/var/lib/dockdojo/learner``: JupyterLab, jupyterhub-singleuser, dockdojo);
- before the server starts, :func:`pre_spawn` starts the learner's rootless engine of
  the room (:mod:`..room.engines`), places the lessons in ``~/dockdojo-lessons`` (written as
  the learner), and gives the server its ``DOCKER_HOST``, learner id and the learner's
  own tags, made with the room's salt (:mod:`..room.salt`), which the server never
  sees (:func:`server_environment`);
  when the server stops (by the learner, an admin or idle culling), :func:`post_stop`
  stops the engine;
- the hub's database and cookie secret live in ``STATE/hub/``; the room's tag salt, in
  ``STATE/tag-salt``, is made by ``hub-config`` when the room has none yet.

Authentication is whatever the configuration says; the written file uses JupyterHub's
dummy authenticator with a shared password when given one (for tests and trials), and
otherwise leaves ``c.JupyterHub.authenticator_class`` for the instructor to set.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from ..authoring.sources import lesson_id, lesson_sources
from ..context import learner_tag
from ..environ import HOST_IP, LEARNER, LEARNER_TAG, RECHECK_URL, TAG_SALT, handed_tags
from ..errors import RoomError
from ..privileged import firewall
from ..privileged.processes import As, run_as
from ..privileged.run import PATH
from ..room.config import ROOM_CONFIG, RoomConfig, load_config
from ..room.engines import LearnerEngine
from ..room.learners import Learner, lookup
from ..room.pyenv import DEFAULT_LEARNER_ENV, LEARNER_EXTRA, KernelEnv, prepare
from ..room.salt import room_salt

SERVICE = "dockdojo"
"""The instructor's view's name in the hub (:mod:`.instructor`)."""
LEARNER_ENV = "DOCKDOJO_LEARNER_ENV"
"""Environment variable naming the learners' Python, for the hooks in the hub."""


def hub_config(
    config_file: Path | None,
    room: RoomConfig,
    *,
    port: int | None = None,
    learners: tuple[str, ...] = (),
    admins: tuple[str, ...] = (),
    password: str | None = None,
    instructor_password: str | None = None,
    learner_env: Path = DEFAULT_LEARNER_ENV,
    proxy: str = "configurable-http-proxy",
) -> str:
    """The text of a ``jupyterhub_config.py`` for ``room``: its ``[hub]`` settings, with
    ``port`` instead of its port and ``learners`` and ``admins`` added to its own. With
    ``password``, a trial authenticator: learners log in with ``password``, instructors
    (the hub's admins) with ``instructor_password`` alone (JupyterHub's shared-password
    authenticator)."""
    hub_state = room.state / "hub"
    port = room.hub.port if port is None else port
    learners = tuple(dict.fromkeys([*room.hub.learners, *learners]))
    admins = tuple(dict.fromkeys([*room.hub.instructors, *admins]))
    lines = [
        "# JupyterHub for a dockdojo room (dockdojo room hub-config writes this file).",
        "import os",
        "from dockdojo.runner.hub import hub",
        "",
        "c = get_config()  # noqa: F821 (JupyterHub defines it)",
        f"os.environ[{ROOM_CONFIG!r}] = {str(config_file or '')!r}",
        f"os.environ[{LEARNER_ENV!r}] = {str(learner_env)!r}",
        f"c.JupyterHub.bind_url = 'http://127.0.0.1:{port}'",
        f"c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{room.hub.api_port}'",
        f"c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{room.hub.proxy_api_port}'",
        f"c.JupyterHub.db_url = 'sqlite:///{hub_state}/jupyterhub.sqlite'",
        f"c.JupyterHub.cookie_secret_file = '{hub_state}/cookie_secret'",
        f"c.ConfigurableHTTPProxy.command = [{proxy!r}]",
        f"c.ConfigurableHTTPProxy.pid_file = '{hub_state}/proxy.pid'",
        "c.JupyterHub.spawner_class = 'localprocess'",
        f"c.Spawner.cmd = ['{learner_env}/bin/jupyterhub-singleuser']",
        f"c.Spawner.default_url = '{first_lesson_url()}'  # the lesson, not the Launcher",
        "c.Spawner.start_timeout = 120",
        "c.Spawner.pre_spawn_hook = hub.pre_spawn",
        "c.Spawner.post_stop_hook = hub.post_stop",
        "c.JupyterHub.default_url = hub.landing  # instructors: the view; learners: their lab",
        "",
        "# The instructor's view: a service of the hub, at /services/dockdojo/. Every user",
        "# may reach it (the page itself is for instructors only) and so may each server's",
        "# token, with which a learner's Check asks it to check that learner now.",
        "import sys",
        f"c.JupyterHub.services = [{{'name': {SERVICE!r}, 'display': True,",
        "    'oauth_no_confirm': True,",
        f"    'url': 'http://127.0.0.1:{room.instructor.port}',",
        "    'command': [sys.executable, '-m', 'dockdojo.runner.hub.instructor',",
        f"                '--config', {str(config_file or '')!r},",
        f"                *[f'--instructor={{n}}' for n in {list(admins)!r}],",
        f"                *[f'--learner={{n}}' for n in {list(learners)!r}]]}}]",
        "c.JupyterHub.load_roles = [",
        f"    {{'name': 'user', 'scopes': ['self', 'access:services!service={SERVICE}']}},",
        f"    {{'name': 'dockdojo-view', 'services': [{SERVICE!r}],",
        "     'scopes': ['list:users', 'read:users', 'read:servers']},",
        "]",
        "c.Spawner.server_token_scopes = ['users:activity!user', 'access:servers!server',",
        f"                                 'access:services!service={SERVICE}']",
    ]
    if room.hub.idle_minutes:  # an idle server is stopped, and with it its engine
        lines += [
            "c.JupyterHub.load_roles.append({'name': 'idle-culler', 'services': ['idle-culler'],",
            "    'scopes': ['list:users', 'read:users:activity', 'read:servers',",
            "               'delete:servers']})",
            "c.JupyterHub.services.append({'name': 'idle-culler', 'command': [sys.executable,",
            f"    '-m', 'jupyterhub_idle_culler', '--timeout={room.hub.idle_minutes * 60}']}})",
        ]
    if learners:
        lines.append(f"c.Authenticator.allowed_users = {set(learners)!r}")
    if admins:
        lines.append(f"c.Authenticator.admin_users = {set(admins)!r}")
    if room.hub.instructor_group:  # made if missing; the hub's admins add its members
        lines.append(f"c.JupyterHub.load_groups = {{{room.hub.instructor_group!r}: {{}}}}")
    if password is not None:  # a trial: learners and instructors each with a password
        lines += [
            "c.JupyterHub.authenticator_class = 'shared-password'",
            f"c.SharedPasswordAuthenticator.user_password = {password!r}",
        ]
        if instructor_password:  # admins log in with it alone, never with the learners'
            lines.append(f"c.SharedPasswordAuthenticator.admin_password = {instructor_password!r}")
    return "\n".join(lines) + "\n"


LESSONS = "dockdojo-lessons"
"""The folder of each learner's home that holds their lesson notebooks."""
_PLACE = (
    "from pathlib import Path; from dockdojo.runner.workspace import sync_workspace; "
    f"lessons = Path.home() / {LESSONS!r}; sync_workspace(lessons); "
    # the learner's home and lessons are theirs alone (useradd -m makes homes 755)
    "Path.home().chmod(0o700); lessons.chmod(0o700)"
)


def _room() -> RoomConfig:
    return load_config()  # the file ROOM_CONFIG names, set by the hub's configuration


def pre_spawn(spawner: Any) -> None:
    """Start the learner's engine before their server, and point the server at it."""
    name = str(spawner.user.name)
    python = learners_python(Path(os.environ.get(LEARNER_ENV) or DEFAULT_LEARNER_ENV))
    room = _room()
    status = LearnerEngine(name, room).start()
    if not status.running:
        raise RoomError(f"{name}'s engine did not start.", status.describe())
    who = lookup(name)
    place_lessons(who, python)
    env = {
        **dict(spawner.environment or {}),
        **server_environment(name, room, status.docker_host, who, python, room_salt(room)),
    }
    env.pop(TAG_SALT, None)  # the secret stays with the hub
    spawner.environment = env


def server_environment(
    name: str,
    room: RoomConfig,
    docker_host: str,
    who: Learner | None,
    python: KernelEnv,
    salt: str,
) -> dict[str, str]:
    """What the hub sets in ``name``'s server's environment: their engine, the address
    their ports bind to, their id, their own tag in each of the room's lessons (made with
    the room's ``salt``, which is not among them), the learners' Python's code and where
    their Check asks the instructor's view."""
    return {
        "DOCKER_HOST": docker_host,
        HOST_IP: firewall.address(who.uid) if who else "",
        LEARNER: name,
        LEARNER_TAG: handed_tags({i: learner_tag(i, name, salt) for i in room_lesson_ids()}),
        "PYTHONPATH": str(python.code),
        RECHECK_URL: f"http://127.0.0.1:{room.instructor.port}/services/{SERVICE}/api/recheck",
    }


def first_lesson_url() -> str:
    """Where a learner's JupyterLab opens: the room's first lesson (its folder when there
    is none)."""
    ids = room_lesson_ids()
    return f"/lab/tree/{LESSONS}/{ids[0]}.ipynb" if ids else f"/lab/tree/{LESSONS}"


def room_lesson_ids() -> list[str]:
    """The ids of the lessons installed with dockdojo: the room's lessons."""
    from ..lessons import in_course_order

    folder = Path(str(resources.files("dockdojo.content")))
    return list(in_course_order(lesson_id(path) for path in lesson_sources(folder)))


def place_lessons(who: Learner | None, python: KernelEnv) -> None:
    """The lessons, in the learner's ``~/dockdojo-lessons``: written as the learner (never
    as root into a folder the learner controls), new ones added and unchanged ones
    updated, the learner's own changes kept (as ``dockdojo lab`` does). The home and the
    lessons folder are then made the learner's alone (0700): no other learner reads
    their notebooks."""
    if who is None:
        raise RoomError("There is no such Unix user.", "Create the learner's user first.")
    user = As(
        uid=who.uid,
        gid=who.gid,
        env={"HOME": str(who.home), "PATH": PATH, "PYTHONPATH": str(python.code)},
        cwd=who.home,
    )
    done = run_as(user, [str(python.python), "-s", "-c", _PLACE], timeout=120)
    if done.returncode != 0:
        raise RoomError(
            f"The lessons could not be placed in {who.name}'s home: "
            + (done.stderr.strip().splitlines() or ["no message"])[-1],
            f"Check {who.home} (it must be {who.name}'s own, with room to write).",
        )


PROXY_SETTINGS = f"""\
# dockdojo: a learner's port links (jupyter-server-proxy) reach only the address their
# engine publishes on ({HOST_IP}), which the host's firewall keeps theirs alone: never
# the server's 127.0.0.1 (its mirror, its hub, another service), not even as /proxy/PORT.
import os
c.ServerProxy.host_allowlist = [a for a in [os.environ.get("{HOST_IP}", "")] if a]
# /proxy/PORT/ (its "local" handler) is given no allowlist and always reaches localhost:
# in a room it reaches nothing (a 403, as for an address not allowed)
from jupyter_server_proxy import handlers as _proxy
_proxy.LocalProxyHandler._check_host_allowlist = lambda self, host: False
"""


def learners_python(env: Path = DEFAULT_LEARNER_ENV) -> KernelEnv:
    """The learners' Python in ``env``, made or brought up to date (:mod:`..room.pyenv`), with
    their servers' settings file (root's, in its ``etc/jupyter``)."""
    python = prepare(env, extra=LEARNER_EXTRA)
    path = env / "etc" / "jupyter" / "jupyter_server_config.py"
    if not path.is_file() or path.read_text() != PROXY_SETTINGS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PROXY_SETTINGS)
        path.chmod(0o644)
    return python


def landing(handler: Any) -> str:
    """Where the hub sends someone who logs in: an instructor (a hub admin, or a member
    of the room's instructor group) to the instructor's view, everyone else to their
    own server."""
    user = getattr(handler, "current_user", None)
    base = str(getattr(handler, "base_url", "/"))
    if user is not None and (getattr(user, "admin", False) or _in_instructor_group(user)):
        return f"{base}services/{SERVICE}/"
    return f"{base}hub/spawn"


def _in_instructor_group(user: Any) -> bool:
    groups = {str(getattr(g, "name", g)) for g in getattr(user, "groups", None) or []}
    return bool(groups) and _room().hub.instructor_group in groups


def post_stop(spawner: Any) -> None:
    """Stop the learner's engine once their server has stopped."""
    LearnerEngine(str(spawner.user.name), _room()).stop()


def prepare_state(room: RoomConfig) -> Path:
    """``STATE/hub``, root's alone (the hub's database and cookie secret); the room's tag
    salt is made too if the room has none yet."""
    folder = room.state / "hub"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    room_salt(room)
    return folder


__all__ = [
    "LEARNER_ENV",
    "LESSONS",
    "ROOM_CONFIG",
    "SERVICE",
    "hub_config",
    "landing",
    "learners_python",
    "place_lessons",
    "post_stop",
    "pre_spawn",
    "prepare_state",
    "room_lesson_ids",
    "server_environment",
]
