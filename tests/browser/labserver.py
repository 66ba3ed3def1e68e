"""What the browser tests share: where the project is, and the JupyterLab they talk to."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab server."""

    url: str
    """Base URL, e.g. ``http://127.0.0.1:8899``."""
    token: str
    """Its token."""
    folder: Path
    """The folder it serves (a copy of lessons/)."""

    def notebook_url(self, name: str) -> str:
        # reset: the workspace forgets the notebooks an earlier test left open
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"
