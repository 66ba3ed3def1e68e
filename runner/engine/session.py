"""Interactive sessions inside a container: the Exec tab's terminal, as an object.

A session is one ``docker exec -it`` over the engine's exec socket: a pseudo-terminal
whose program (``sh``, ``redis-cli``, ``mongosh``) keeps its prompt and state from one
line to the next. By default the program is asked for plain output (``TERM=dumb``,
``NO_COLOR=1``): ``redis-cli`` then prints no hints and ``mongosh`` no syntax
highlighting, so the text reads the same in a notebook, a log or a grader. Control
sequences a program sends anyway are removed from :attr:`ExecSession.text`; the raw
bytes stay available for a real terminal emulator.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import select
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from docker.errors import DockerException

from ..errors import DockdojoError, EngineError, ExecTimeout
from ..text import plain_text

if TYPE_CHECKING:
    import docker

PLAIN_ENV = {"TERM": "dumb", "NO_COLOR": "1"}


class ExecSession:
    """One interactive program in a running container, fed line by line.

    Built on the SDK's low-level client; :meth:`Engine.session
    <dockdojo.runner.engine.Engine.session>` checks the container runs and opens one.
    """

    def __init__(
        self,
        api: docker.APIClient,
        container: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        plain: bool = True,
        size: tuple[int, int] = (40, 120),
        on_output: Callable[[str], None] | None = None,
    ) -> None:
        self.container = container
        self.argv = tuple(argv)
        self.on_output = on_output
        self._api = api
        self._raw: list[str] = []
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        environment = {**(PLAIN_ENV if plain else {"TERM": "xterm-256color"}), **dict(env or {})}
        exec_id = self._api.exec_create(
            self.container, list(self.argv), stdin=True, tty=True, environment=environment
        )["Id"]
        self.exec_id: str = str(exec_id)
        # The SDK hands over the hijacked connection as a SocketIO around the socket.
        self._stream: Any = self._api.exec_start(self.exec_id, socket=True, tty=True)
        self._sock: socket.socket = getattr(self._stream, "_sock", self._stream)
        self._closed = False
        # Resizing is cosmetic; a program that already exited shows in `alive`.
        with contextlib.suppress(DockerException):
            self._api.exec_resize(self.exec_id, height=size[0], width=size[1])

    # output -----------------------------------------------------------------------
    @property
    def raw(self) -> str:
        """Everything the program wrote so far, control sequences included."""
        return "".join(self._raw)

    @property
    def text(self) -> str:
        """Everything the program wrote so far, as plain text."""
        return plain_text(self.raw)

    def read(self, timeout: float = 0.3) -> str:
        """Collect output until none arrives for ``timeout`` seconds; return the new text."""
        start = len(self.text)
        while self._pump(timeout):
            pass
        return self.text[start:]

    def expect(self, pattern: str | re.Pattern[str], timeout: float = 10.0) -> str:
        """Read until the output since this call matches ``pattern``; return that output."""
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        start = len(self.raw)
        deadline = time.monotonic() + timeout
        while True:
            new = plain_text(self.raw[start:])
            if regex.search(new):
                return new
            left = deadline - time.monotonic()
            if left <= 0 or (not self._pump(min(left, 0.5)) and not self.alive):
                raise ExecTimeout(
                    f"{' '.join(self.argv)} in {self.container} did not print "
                    f"{regex.pattern!r} within {timeout:g} s. It printed: {new[-300:]!r}",
                    "Check the command you typed; the program may be waiting for more input.",
                )

    def _pump(self, timeout: float) -> bool:
        """Read one chunk if it arrives within ``timeout``; False when none came."""
        if self._closed:
            return False
        try:
            ready, _, _ = select.select([self._sock], [], [], timeout)
        except (OSError, ValueError):  # closed by another thread meanwhile
            self._closed = True
            return False
        if not ready:
            return False
        try:
            data = self._sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._closed = True
            return False
        chunk = self._decoder.decode(data)
        self._raw.append(chunk)
        if self.on_output is not None:
            self.on_output(chunk)
        return True

    # input ------------------------------------------------------------------------
    def send(self, data: str) -> None:
        """Type ``data`` as it is (control characters included, e.g. ``\\x03`` for Ctrl-C)."""
        if self._closed:
            raise DockdojoError(
                f"The session running {' '.join(self.argv)} in {self.container} has ended.",
                "Open a new session.",
            )
        try:
            self._sock.sendall(data.encode())
        except OSError as exc:
            self._closed = True
            raise EngineError(
                f"The session in {self.container} was cut off ({exc}).",
                "The container may have stopped; open a new session.",
            ) from exc

    def send_line(self, line: str) -> None:
        """Type ``line`` and press Enter."""
        self.send(line + "\r")

    def run(self, line: str, prompt: str | re.Pattern[str], timeout: float = 10.0) -> str:
        """Type ``line``, wait for the next ``prompt``, return what was printed in between."""
        self.send_line(line)
        out = self.expect(prompt, timeout)
        regex = re.compile(prompt) if isinstance(prompt, str) else prompt
        body = out.split("\n", 1)[1] if "\n" in out else ""
        starts = [m.start() for m in regex.finditer(body)]
        end = body.rfind("\n", 0, starts[-1]) if starts else len(body)
        return body[: max(end, 0)]

    # lifecycle --------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        """Whether the session has ended (hung up, or the program's output closed)."""
        return self._closed

    @property
    def alive(self) -> bool:
        if self._closed:
            return False
        return bool(self._api.exec_inspect(self.exec_id).get("Running"))

    @property
    def exit_code(self) -> int | None:
        """The program's exit status once it has ended, else None."""
        data = self._api.exec_inspect(self.exec_id)
        return None if data.get("Running") else data.get("ExitCode")

    def close(self, grace: float = 1.0) -> None:
        """End the program as a terminal user would (Ctrl-C, then Ctrl-D) and hang up.

        The engine has no call to kill an exec'd process, so a program that ignores both
        keeps running in the container until the container stops.
        """
        if not self._closed:
            # Ctrl-C flushes the terminal's input, so Ctrl-D must follow it separately.
            for key in ("\x03", "\x04"):
                with contextlib.suppress(DockdojoError):
                    self.send(key)
                self._pump(0.1)
            deadline = time.monotonic() + grace
            while not self._closed and time.monotonic() < deadline and self.alive:
                self._pump(0.1)
            self._closed = True
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
        # Both must be closed: the socket stays open while its SocketIO is.
        self._stream.close()
        self._sock.close()

    def __enter__(self) -> ExecSession:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
