"""The Distribution registry program the mirror runs: where it is installed, its
configuration, and the root it needs."""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

from ..errors import MirrorError


def need_root(doing: str) -> None:
    """Raise :class:`MirrorError` unless this process runs as root."""
    if os.geteuid() != 0:
        raise MirrorError(
            f"Only root can {doing}: the mirror's storage and its private write socket "
            "belong to root alone.",
            "Run it as root (sudo dockdojo room mirror ...).",
        )


def registry_binary() -> str:
    """The Distribution registry's program, or a :class:`MirrorError` naming its package."""
    found = shutil.which("docker-registry") or shutil.which("registry")
    if found is None:
        raise MirrorError(
            "The room mirror needs the Distribution registry (docker-registry), and it is "
            "not installed.",
            "Install it: apt-get install -y docker-registry (Debian/Ubuntu).",
        )
    return found


def registry_config(
    storage: Path, listen: str | Path, *, readonly: bool, pull_through: str | None = None
) -> str:
    """A registry configuration: ``listen`` is ``HOST:PORT`` or a UNIX socket's path.

    No ``cache`` section, so no blob-descriptor cache can serve what another process on
    the same storage changed; upload purging is off (a read-only registry must not write).
    """

    def quoted(value: object) -> str:
        return json.dumps(str(value))  # a JSON string is a YAML string

    lines = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {quoted(storage)}",
        "  maintenance:",
        "    uploadpurging:",
        "      enabled: false",
        "    readonly:",
        f"      enabled: {'true' if readonly else 'false'}",
        "http:",
        *(
            ["  net: unix", f"  addr: {quoted(listen)}", "  relativeurls: true"]
            if isinstance(listen, Path)
            else [f"  addr: {quoted(listen)}"]
        ),
        f"  secret: {secrets.token_hex(16)}",
        "  headers:",
        "    X-Content-Type-Options: [nosniff]",
    ]
    if pull_through:
        lines += ["proxy:", f"  remoteurl: {quoted(pull_through)}"]
    return "\n".join(lines) + "\n"
