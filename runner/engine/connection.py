"""How dockdojo reaches one Docker Engine: where it is, and one SDK client per thread.

The engine is found the way Docker's own tools find it: ``DOCKER_HOST``, then the
current CLI context, then the default socket. Every SDK call goes through
:meth:`Connection.call`, which hands a failure to :func:`~.translate.translate` with what
was being done, so each error says what happened and what to do. The SDK's client is
not thread-safe: each thread gets its own, for each time limit.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import Any

import docker
import requests
from docker.constants import MINIMUM_DOCKER_API_VERSION
from docker.context import ContextAPI
from docker.errors import DockerException
from docker.utils import kwargs_from_env

from ..errors import EngineError, EngineUnavailable
from .translate import START_DOCKER, Op, translate, unavailable

PING_TIMEOUT = 5.0
"""Seconds an engine has to answer a ping."""
DEFAULT_TIMEOUT = 60.0
"""Seconds any other call may take, unless it says otherwise."""

Json = dict[str, Any]
"""One JSON object of the engine's API, as the SDK decodes it."""


def describe_host(base_url: str | None = None) -> str:
    """Where an engine is looked for, as ``docker context`` would say it."""
    if base_url:
        return base_url
    env = kwargs_from_env()
    if "base_url" in env:
        return str(env["base_url"])
    try:
        host = ContextAPI.kwargs_from_context().get("base_url")
    except DockerException:
        host = None
    return str(host or "unix:///var/run/docker.sock")


class Connection:
    """One engine's address, and this thread's SDK clients for it."""

    def __init__(self, base_url: str | None, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.base_url = base_url
        """The engine's address; None: found as Docker's tools find it."""
        self.timeout = timeout
        """Seconds a call may take when it names no time limit of its own."""
        self._api_version: str | None = None
        self._local = threading.local()
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return describe_host(self.base_url)

    def client(self, timeout: float | None = None) -> docker.DockerClient:
        """This thread's SDK client for ``timeout`` (created on first use)."""
        key = self.timeout if timeout is None else timeout
        clients: dict[float, docker.DockerClient] = self._local.__dict__.setdefault("clients", {})
        found = clients.get(key)
        if found is None:
            found = self._connect(key)
            clients[key] = found
        return found

    def api(self, timeout: float | None = None) -> docker.APIClient:
        """This thread's low-level SDK client for ``timeout``."""
        return self.client(timeout).api

    def _connect(self, timeout: float) -> docker.DockerClient:
        host = self.host
        if host.startswith("unix://"):
            listening(host)  # checked here because the SDK leaks a socket when a connect fails
        if self._api_version is None:
            probe = self._new_client(min(timeout, PING_TIMEOUT), MINIMUM_DOCKER_API_VERSION)
            try:
                version = str(probe.api.version(api_version=False)["ApiVersion"])
            except (DockerException, requests.RequestException, KeyError) as exc:
                raise unavailable(exc, self.host) from exc
            finally:
                probe.close()
            with self._lock:
                self._api_version = version
        try:
            return self._new_client(timeout, self._api_version)
        except DockerException as exc:
            raise unavailable(exc, self.host) from exc

    def _new_client(self, timeout: float, version: str) -> docker.DockerClient:
        if self.base_url:
            return docker.DockerClient(base_url=self.base_url, version=version, timeout=timeout)
        return docker.from_env(version=version, timeout=timeout)

    def close(self) -> None:
        """Close this thread's connections (other threads close theirs on exit)."""
        for opened in self._local.__dict__.pop("clients", {}).values():
            opened.close()

    def call(self, fn: Callable[[], object], op: Op) -> object:
        """Run one SDK call; any failure becomes the :class:`DockdojoError` that
        :func:`~.translate.translate` makes of it for ``op``."""
        try:
            return fn()
        except (DockerException, requests.RequestException, OSError) as exc:
            if isinstance(exc, requests.ConnectionError):
                self.close()
                self._api_version = None  # the engine may come back as another version
            raise translate(exc, op, self.host) from exc

    def json(self, fn: Callable[[], object], op: Op) -> Json:
        """One SDK call whose answer is a JSON object."""
        result = self.call(fn, op)
        if not isinstance(result, dict):
            raise _unexpected(op)
        return result

    def rows(self, fn: Callable[[], object], op: Op) -> list[Json]:
        """One SDK call whose answer is a list of JSON objects."""
        result = self.call(fn, op)
        if not isinstance(result, list) or not all(isinstance(r, dict) for r in result):
            raise _unexpected(op)
        return result


def _unexpected(op: Op) -> EngineError:
    return EngineError(
        f"The Docker Engine gave an unexpected answer while {op.doing}.",
        "Check that DOCKER_HOST points at a Docker Engine.",
    )


def listening(host: str) -> None:
    """Raise :class:`EngineUnavailable` when nothing listens on the socket of ``host``."""
    path = host.removeprefix("unix://")
    if not os.path.exists(path):
        raise EngineUnavailable(
            f"No Docker Engine answered at {host} (there is no socket file there).",
            START_DOCKER,
        )
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(PING_TIMEOUT)
        try:
            probe.connect(path)
        except ConnectionRefusedError:
            raise EngineUnavailable(
                f"No Docker Engine answered at {host} (its socket file is there, but "
                "nothing listens on it: the engine stopped).",
                START_DOCKER,
            ) from None
        except OSError:
            pass  # let the SDK say what is wrong (permission, ...)


__all__ = ["DEFAULT_TIMEOUT", "PING_TIMEOUT", "Connection", "Json", "describe_host", "listening"]
