"""A fake of the docker SDK's low-level client, for unit tests of the engine layer.

It is not Docker: it keeps a list of containers and images in memory and answers only the
calls the tests here make (listing with label filters, removing, version; it has no
volumes or networks), the way the Engine API documents them. What it answers is checked
against a real engine by the tests in tests/engine. Install it with :func:`install`,
which makes every :class:`~dockdojo.runner.engine.Engine` of the test talk to one fake.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import docker.errors
import pytest
import requests

from dockdojo.runner.engine.connection import Connection


@dataclass
class FakeAPI:
    """The calls of ``docker.APIClient`` the engine layer makes, over in-memory rows."""

    containers_: list[dict[str, Any]] = field(default_factory=list)
    images_: list[dict[str, Any]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    """Ids of the containers and images removed, in order."""

    def add_container(
        self, name: str, labels: Mapping[str, str], *, image: str = "redis", running: bool = True
    ) -> str:
        cid = f"{len(self.containers_) + 1:064x}"
        self.containers_.append(
            {
                "Id": cid,
                "Names": [f"/{name}"],
                "Image": image,
                "ImageID": f"sha256:{image}",
                "State": "running" if running else "exited",
                "Status": "Up 1 second" if running else "Exited (0)",
                "Labels": dict(labels),
                "Ports": [],
            }
        )
        return cid

    def names(self) -> list[str]:
        return sorted(str(c["Names"][0]).lstrip("/") for c in self.containers_)

    # the API ------------------------------------------------------------------------
    def version(self, api_version: bool = True) -> dict[str, Any]:  # noqa: ARG002
        return {"ApiVersion": "1.43", "Version": "24.0.0", "Os": "linux", "Arch": "amd64"}

    def ping(self) -> bool:
        return True

    def info(self) -> dict[str, Any]:
        return {"OperatingSystem": "a fake", "SecurityOptions": ["name=rootless"]}

    def containers(
        self, all: bool = False, filters: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        rows = [c for c in self.containers_ if all or c["State"] == "running"]
        return [c for c in rows if _labelled(c, (filters or {}).get("label") or ())]

    def images(self, filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        return [i for i in self.images_ if _labelled(i, (filters or {}).get("label") or ())]

    def volumes(self, filters: Mapping[str, Any] | None = None) -> dict[str, Any]:  # noqa: ARG002
        """No volumes: the tests here make none (``{"Volumes": None}``, as the API says)."""
        return {"Volumes": None, "Warnings": None}

    def networks(self, filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:  # noqa: ARG002
        """No networks of the learner's: the tests here make none."""
        return []

    def inspect_image(self, ref: str) -> dict[str, Any]:
        for row in self.images_:
            if ref == row["Id"] or ref in row.get("RepoTags", ()):
                return row
        raise _not_found(f"No such image: {ref}")

    def inspect_container(self, ref: str) -> dict[str, Any]:
        raise _not_found(f"No such container: {ref}")

    def remove_container(self, ref: str, force: bool = False) -> None:  # noqa: ARG002
        for row in self.containers_:
            if ref in (row["Id"], str(row["Names"][0]).lstrip("/")):
                self.containers_.remove(row)
                self.removed.append(row["Id"])
                return
        raise _not_found(f"No such container: {ref}")

    def events(self, **_: Any) -> list[dict[str, Any]]:
        return []


def _not_found(message: str) -> docker.errors.NotFound:
    """What the SDK raises for the engine's 404."""
    response = requests.Response()
    response.status_code = 404
    return docker.errors.NotFound(message, response=response, explanation=message)


def _labelled(row: Mapping[str, Any], selector: Sequence[str]) -> bool:
    labels = row.get("Labels") or {}
    for wanted in selector:
        key, _, value = wanted.partition("=")
        if labels.get(key) != value:
            return False
    return True


@dataclass
class FakeClient:
    """What ``docker.DockerClient`` offers the engine layer: ``api`` and ``close``."""

    api: FakeAPI

    def close(self) -> None:
        """Nothing to close."""


def install(monkeypatch: pytest.MonkeyPatch, api: FakeAPI) -> FakeAPI:
    """Make every Engine of this test talk to ``api`` instead of a Docker Engine."""
    monkeypatch.setattr(Connection, "_connect", lambda _self, _timeout: FakeClient(api))
    return api
