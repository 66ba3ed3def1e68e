"""Readiness: what ``dockdojo doctor`` checks before class.

For a learner (at the door, or the evening before): the engine answers and what kind it
is, its Docker version, free disk for the lessons' images, every image of the chosen
lessons present or pullable from the engine's mirror, the host ports the lessons fix
free, and who the learner is. For a workshop server (``--room``): the packages and kernel
features rootless engines need, and the room's mirror.

Every check is a :class:`Finding`; one that fails says how to fix it.
"""

from __future__ import annotations

import json
import shutil
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .authoring import Lesson
from .context import learner_tag
from .engine import Engine, EngineInfo, ImageRef, parse_ref
from .errors import DockdojoError
from .text import human_bytes, plural

MIN_API = (1, 41)
"""Oldest engine API the lessons are tested with (Docker 20.10)."""
MIN_FREE_BYTES = 2_000_000_000
"""Free disk the engine should have for the lessons' images and containers."""
ROOM_PACKAGES = {
    "rootlesskit": "rootlesskit",
    "slirp4netns": "slirp4netns",
    "newuidmap": "uidmap",
    "docker-registry": "docker-registry",
    "dockerd": "docker.io",
}
"""Programs a room needs, and the Debian package of each."""


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report."""

    check: str
    """What was checked, in a word or two: ``engine``, ``disk``, ``image nginx``..."""
    ok: bool
    """Whether it is ready."""
    detail: str
    """What was seen."""
    fix: str = ""
    """For a failing check: what to do."""


def engine_findings(
    engine: Engine,
    lessons: Sequence[Lesson],
    *,
    mirror_view: Callable[[str], str] | None = None,
) -> list[Finding]:
    """Whether ``engine`` is ready for ``lessons``; the engine's own failure is a finding.
    ``mirror_view`` gives the address from which this process reaches a mirror the
    engine names (a room engine's ``10.0.2.2`` is the host's loopback)."""
    try:
        info = engine.ping()
    except DockdojoError as exc:
        return [Finding("engine", False, exc.what, exc.hint)]
    found = [
        Finding("engine", True, f"{engine_kind(info)} at {info.host}"),
        _version(info),
        _disk(info),
    ]
    found += _images(engine, info, lessons, mirror_view or (lambda url: url))
    found += _ports(lessons)
    found.append(_identity(engine, lessons))
    return found


def engine_kind(info: EngineInfo) -> str:
    """``Docker Desktop``, ``dockdojo's sandbox``, ``a room engine (rootless)``..."""
    if "docker desktop" in info.operating_system.lower():
        return "Docker Desktop"
    socket_path = info.host.removeprefix("unix://")
    state = Path(socket_path).parent
    if (
        info.host.startswith("unix://")
        and (state / "registry.yml").is_file()
        and (state / "dockerd.pid").is_file()
    ):
        return "dockdojo's sandbox engine"
    if info.rootless and socket_path.startswith("/run/user/"):
        return "a room engine (rootless, this learner's own)"
    if info.rootless:
        return "a rootless Docker Engine"
    return "a Docker Engine"


def _version(info: EngineInfo) -> Finding:
    try:
        api = tuple(int(p) for p in info.api_version.split(".")[:2])
    except ValueError:
        api = (0, 0)
    wanted = ".".join(map(str, MIN_API))
    if api >= MIN_API:
        return Finding("docker version", True, f"Docker {info.version} (API {info.api_version})")
    return Finding(
        "docker version",
        False,
        f"Docker {info.version} speaks API {info.api_version}, older than {wanted}.",
        "Update Docker Desktop or Docker Engine (20.10 or newer).",
    )


def _disk(info: EngineInfo) -> Finding:
    where = Path(info.root_dir)
    if not info.root_dir or not where.exists():
        return Finding("disk", True, "the engine's disk is not on this machine; not checked")
    free = shutil.disk_usage(where).free
    if free >= MIN_FREE_BYTES:
        return Finding("disk", True, f"{human_bytes(free)} free at {where}")
    return Finding(
        "disk",
        False,
        f"only {human_bytes(free)} free at {where}; the lessons "
        f"need about {human_bytes(MIN_FREE_BYTES)}.",
        "Free disk space (docker system prune removes unused images and "
        "containers), then run dockdojo doctor again.",
    )


def lesson_images(lessons: Iterable[Lesson]) -> list[str]:
    """Every image the lessons declare, in familiar form (``nginx:latest``), once each."""
    return list(dict.fromkeys(parse_ref(name).familiar for ls in lessons for name in ls.images))


def _images(
    engine: Engine, info: EngineInfo, lessons: Sequence[Lesson], view: Callable[[str], str]
) -> list[Finding]:
    out = []
    for name in lesson_images(lessons):
        if engine.image(name) is not None:
            out.append(Finding(f"image {name}", True, "on the engine"))
            continue
        mirror = next((m for m in info.mirrors if mirror_has(view(m), parse_ref(name))), None)
        if mirror is not None:
            out.append(Finding(f"image {name}", True, f"pullable from the mirror {mirror}"))
        elif info.mirrors:
            out.append(
                Finding(
                    f"image {name}",
                    False,
                    f"not on the engine, and the mirror "
                    f"({', '.join(info.mirrors)}) does not hold it.",
                    "Ask whoever runs the room to add it (dockdojo room mirror "
                    f"load), or pull it while online: docker pull {name}",
                )
            )
        else:
            out.append(
                Finding(
                    f"image {name}",
                    True,
                    "not on the engine yet; the lesson pulls it from Docker Hub (online)",
                )
            )
    return out


def mirror_has(mirror: str, ref: ImageRef, timeout: float = 3.0) -> bool:
    """Whether the registry ``mirror`` serves the Docker Hub image ``ref``."""
    if ref.domain != "docker.io":
        return False
    url = f"{mirror.rstrip('/')}/v2/{ref.path}/manifests/{ref.digest or ref.tag}"
    request = urllib.request.Request(
        url,
        method="HEAD",
        headers={
            "Accept": ", ".join(
                (
                    "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json",
                    "application/vnd.oci.image.manifest.v1+json",
                    "application/vnd.oci.image.index.v1+json",
                )
            )
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _ports(lessons: Sequence[Lesson]) -> list[Finding]:
    fixed: dict[int, str] = {}
    for lesson in lessons:
        for step in lesson.steps:
            for action in (*step.solution, *([step.action] if step.action else [])):
                for host in (action.args.get("ports") or {}).values():
                    if host not in (0, None, "") and str(host).isdigit():
                        fixed.setdefault(int(host), f"{lesson.id}: {step.id}")
    if not fixed:
        return [Finding("ports", True, "the lessons publish on random free ports")]
    out = []
    for port, where in sorted(fixed.items()):
        if _port_free(port):
            out.append(Finding(f"port {port}", True, f"free ({where})"))
        else:
            out.append(
                Finding(
                    f"port {port}",
                    False,
                    f"host port {port}, which {where} uses, is taken by another program.",
                    f"Stop what listens on {port} (ss -ltnp | grep :{port}).",
                )
            )
    return out


def _port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` now. As servers do (docker's port proxy
    among them), the probe may reuse a port whose last connection is still closing
    (TIME_WAIT, up to a minute after a page was opened): only a listener takes it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _identity(engine: Engine, lessons: Sequence[Lesson]) -> Finding:
    tags = ", ".join(
        f"{lesson.id}: {learner_tag(lesson.id, engine.learner)}" for lesson in lessons[:3]
    )
    return Finding(
        "learner", True, f"{engine.learner}" + (f" (exercise values {tags})" if tags else "")
    )


# the room ------------------------------------------------------------------------------
def room_findings(
    mirror_url: str, lessons: Sequence[Lesson], which: Callable[[str], str | None] = shutil.which
) -> list[Finding]:
    """Whether this server can host a room: packages, kernel features, the mirror."""
    out = []
    for program, package in ROOM_PACKAGES.items():
        where = which(program)
        out.append(
            Finding(
                f"program {program}",
                where is not None,
                where or "not installed",
                "" if where else f"apt-get install {package}",
            )
        )
    out.append(_user_namespaces())
    out.append(subordinate_ids())
    out.append(_tun())
    held = [name for name in lesson_images(lessons) if mirror_has(mirror_url, parse_ref(name))]
    missing = [n for n in lesson_images(lessons) if n not in held]
    out.append(
        Finding(
            "room mirror",
            not missing,
            f"{mirror_url} holds {plural(len(held), 'image')} of the lessons'"
            + (f"; missing: {', '.join(missing)}" if missing else ""),
            ""
            if not missing
            else "Start it (dockdojo room mirror start) and load "
            "the images (dockdojo room mirror load room.tar).",
        )
    )
    return out


def _user_namespaces() -> Finding:
    limit = Path("/proc/sys/user/max_user_namespaces")
    clone = Path("/proc/sys/kernel/unprivileged_userns_clone")
    count = int(limit.read_text()) if limit.exists() else 0
    allowed = not clone.exists() or clone.read_text().strip() == "1"
    ok = count > 0 and allowed
    return Finding(
        "user namespaces",
        ok,
        f"max_user_namespaces={count}" + ("" if allowed else ", unprivileged_userns_clone=0"),
        "" if ok else "sysctl -w user.max_user_namespaces=28633 kernel.unprivileged_userns_clone=1",
    )


def subordinate_ids(
    login_defs: Path = Path("/etc/login.defs"), subuid: Path = Path("/etc/subuid")
) -> Finding:
    """Whether ``useradd -m`` gives new learners the subordinate ids a rootless engine
    needs (``SUB_UID_COUNT`` and ``SUB_GID_COUNT`` in login.defs, 65536 by default)."""
    counts = {"SUB_UID_COUNT": 65536, "SUB_GID_COUNT": 65536}
    if login_defs.is_file():
        for line in login_defs.read_text().splitlines():
            words = line.split()
            if len(words) >= 2 and words[0] in counts and words[1].isdigit():
                counts[words[0]] = int(words[1])
    users = (
        len([ln for ln in subuid.read_text().splitlines() if ln.strip()]) if subuid.is_file() else 0
    )
    ok = all(counts.values())
    return Finding(
        "subordinate ids",
        ok,
        f"useradd gives each new learner {counts['SUB_UID_COUNT']} subordinate "
        f"ids ({subuid} holds ranges for {plural(users, 'user')})",
        ""
        if ok
        else f"Set SUB_UID_COUNT and SUB_GID_COUNT to 65536 in {login_defs},"
        " or give each learner ranges: usermod --add-subuids 100000-165535 "
        "--add-subgids 100000-165535 LEARNER.",
    )


def _tun() -> Finding:
    tun = Path("/dev/net/tun")
    if not tun.exists():
        return Finding("/dev/net/tun", False, "missing", "modprobe tun")
    usable = bool(tun.stat().st_mode & 0o006 == 0o006)
    return Finding(
        "/dev/net/tun",
        usable,
        "usable by learners"
        if usable
        else "not readable and writable by learners (slirp4netns needs it)",
        "" if usable else "chmod 666 /dev/net/tun (dockdojo room engine start does it)",
    )


def render(findings: Sequence[Finding], *, marks: tuple[str, str] = ("✓", "✗")) -> str:
    """The report as lines: mark, check, what was seen, and under a failure its fix."""
    width = max([len(f.check) for f in findings] + [6])
    lines = []
    for f in findings:
        lines.append(f"{marks[0] if f.ok else marks[1]} {f.check:<{width}}  {f.detail}")
        if not f.ok and f.fix:
            lines.append(f"  {'':<{width}}  fix: {f.fix}")
    failed = [f for f in findings if not f.ok]
    lines.append("ready" if not failed else f"not ready: {plural(len(failed), 'check')} failed")
    return "\n".join(lines) + "\n"


def to_json(findings: Sequence[Finding]) -> str:
    """The report for scripts: ``{"ready": bool, "findings": [...]}``."""
    return json.dumps(
        {
            "schema": "dockdojo.doctor/v1",
            "ready": all(f.ok for f in findings),
            "findings": [asdict(f) for f in findings],
        },
        indent=2,
    )


__all__ = [
    "Finding",
    "engine_findings",
    "engine_kind",
    "lesson_images",
    "mirror_has",
    "render",
    "room_findings",
    "subordinate_ids",
    "to_json",
]
