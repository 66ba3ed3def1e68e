"""Search offline: the catalogs of the engine's registry mirrors (``/v2/_catalog``).

Docker Hub's search needs the internet; a mirror (the sandbox's, a workshop room's) can
still say which images it holds.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Sequence

from ..errors import DockdojoError
from .models import SearchResult


def search(mirrors: Sequence[str], term: str, *, limit: int, timeout: float) -> list[SearchResult]:
    """Images whose name contains ``term`` in any of ``mirrors``' catalogs.

    Raises :class:`DockdojoError` when there is no mirror to ask.
    """
    found: list[SearchResult] = []
    for mirror in mirrors:
        try:
            with urllib.request.urlopen(
                f"{mirror.rstrip('/')}/v2/_catalog?n=1000", timeout=timeout
            ) as resp:
                names = json.load(resp).get("repositories") or []
        except (OSError, ValueError):
            continue
        for name in names:
            short = str(name).removeprefix("library/")
            if term in short and all(r.name != short for r in found):
                found.append(SearchResult(short, "", False, mirror))
    if not found and not mirrors:
        raise DockdojoError(
            "Search is unavailable: Docker Hub cannot be reached and the engine has no "
            "registry mirror to ask.",
            "Pulling by name still works: type the exact name (e.g. nginx) and select Pull.",
        )
    return found[:limit]


__all__ = ["search"]
