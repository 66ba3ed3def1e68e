"""Whether this server can run learner engines: Linux, root, the programs rootless Docker
needs (each named with its Debian package), user namespaces and ``/dev/net/tun``.

It installs nothing; the one change it makes is to let learners open ``/dev/net/tun``
(mode 666, as Debian's udev sets it elsewhere), which slirp4netns needs.
"""

from __future__ import annotations

import os
import platform
import stat
from dataclasses import dataclass
from pathlib import Path

from ..errors import RoomError
from ..privileged.run import PATH, which

ROOTLESS_SCRIPT_PATHS = (
    Path("/usr/share/docker.io/contrib/dockerd-rootless.sh"),  # Debian and Ubuntu docker.io
    Path("/usr/bin/dockerd-rootless.sh"),  # Docker's own docker-ce-rootless-extras
)
PROGRAMS = {
    "rootlesskit": "rootlesskit",
    "slirp4netns": "slirp4netns",
    "newuidmap": "uidmap",
    "newgidmap": "uidmap",
    "dockerd": "docker.io",
    "containerd": "docker.io",
    "containerd-shim-runc-v2": "docker.io",
    "runc": "docker.io",
    "useradd": "passwd",
    "iptables": "iptables",
    "du": "coreutils",
}
"""Programs a learner engine needs, and the Debian package of each."""
TUN = Path("/dev/net/tun")


@dataclass(frozen=True)
class Programs:
    """Where the programs a learner engine runs are."""

    rootlesskit: str
    """``rootlesskit``: the user, mount and network namespaces; the port driver."""
    script: str
    """``dockerd-rootless.sh``, run as rootlesskit's child; it execs ``dockerd``."""


def need_root(doing: str) -> None:
    """Raise :class:`RoomError` unless this is Linux and we are root."""
    if platform.system() != "Linux":
        raise RoomError(
            f"Learner engines need a Linux server; this is {platform.system()}.",
            "Run dockdojo room on the workshop's Linux server; a learner's own laptop "
            "uses Docker Desktop or dockdojo sandbox.",
        )
    if os.geteuid() != 0:
        raise RoomError(
            f"{doing} needs root: it runs each engine as its learner's Unix user and "
            "confines it in a cgroup.",
            "Run it as root, e.g. sudo dockdojo room engine ...",
        )


def check_can_run() -> Programs:
    """The programs learner engines need, or :class:`RoomError` saying what is missing
    and which Debian packages to install."""
    need_root("Starting a learner engine")
    missing = {name: package for name, package in PROGRAMS.items() if which(name) is None}
    script = next((p for p in ROOTLESS_SCRIPT_PATHS if p.is_file()), None)
    if script is None:
        missing["dockerd-rootless.sh"] = "docker.io"
    if missing:
        packages = " ".join(sorted(set(missing.values())))
        raise RoomError(
            "Learner engines cannot start: not installed: "
            + ", ".join(f"{name} (package {package})" for name, package in missing.items())
            + ".",
            f"Install them: apt-get install -y {packages}",
        )
    _check_user_namespaces()
    _open_tun()
    rootlesskit = which("rootlesskit")
    assert rootlesskit is not None
    assert script is not None
    return Programs(rootlesskit=rootlesskit, script=str(script))


def _check_user_namespaces() -> None:
    limit = Path("/proc/sys/user/max_user_namespaces")
    clone = Path("/proc/sys/kernel/unprivileged_userns_clone")
    count = int(limit.read_text()) if limit.exists() else 0
    if count == 0 or (clone.exists() and clone.read_text().strip() != "1"):
        raise RoomError(
            "This kernel does not let users create user namespaces, which rootless Docker needs.",
            "Allow them: sysctl -w user.max_user_namespaces=28633 "
            "(and kernel.unprivileged_userns_clone=1 where that setting exists).",
        )


def _open_tun() -> None:
    """Let learners open /dev/net/tun (slirp4netns makes each engine's network with it)."""
    if not TUN.exists():
        raise RoomError(
            f"{TUN} is missing, so slirp4netns cannot give learner engines a network.",
            "Load the tun module: modprobe tun (and add tun to /etc/modules).",
        )
    mode = stat.S_IMODE(TUN.stat().st_mode)
    if mode & 0o666 != 0o666:
        TUN.chmod(mode | 0o666)


__all__ = ["PATH", "PROGRAMS", "Programs", "check_can_run", "need_root"]
