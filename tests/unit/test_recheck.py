"""A learner's Check asks the room's instructor view to check them (``request_recheck``): it
sends only the lesson and the step, with the server's own hub token, in the background,
and never fails the Check. The view here is a plain HTTP server on the loopback that
records what it gets."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from dockdojo.runner import request_recheck


@pytest.fixture
def view() -> Iterator[tuple[str, list[tuple[str, dict]]]]:
    got: list[tuple[str, dict]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((self.headers["Authorization"], json.loads(body)))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/services/dockdojo/api/recheck", got
    finally:
        server.shutdown()
        server.server_close()


def test_outside_a_room_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKDOJO_RECHECK_URL", raising=False)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t")
    assert request_recheck("what-is-an-image", "run-nginx") is None


def test_a_check_sends_the_lesson_and_step_with_the_servers_token(
    monkeypatch: pytest.MonkeyPatch, view: tuple[str, list[tuple[str, dict]]]
) -> None:
    url, got = view
    monkeypatch.setenv("DOCKDOJO_RECHECK_URL", url)
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "server-token")
    sent = request_recheck("what-is-an-image", "run-nginx")
    assert sent is not None
    sent.join(10)
    assert got == [("token server-token", {"lesson": "what-is-an-image", "step": "run-nginx"})]


def test_a_view_that_is_away_does_not_fail_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKDOJO_RECHECK_URL", "http://127.0.0.1:9/services/dockdojo/api/recheck")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "server-token")
    sent = request_recheck("what-is-an-image", None)
    assert sent is not None
    sent.join(10)
    assert not sent.is_alive()
