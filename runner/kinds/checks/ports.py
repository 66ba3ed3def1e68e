"""Checks of published ports: a port published on the host, and HTTP on its port link."""

from __future__ import annotations

import http.client
from typing import Any
from urllib.parse import urlsplit

from ...engine import ContainerInfo, PortLink, port_key
from ...text import shorten, snippet
from ..base import Call, Seen
from .targets import MAX_TARGETS, _not_running, _records, _targets

HTTP_TIMEOUT = 3.0
"""Seconds an HTTP request to a port link may take."""


EPHEMERAL_PORT_MIN = 32768
"""Lowest host port Docker hands out when asked for a random one (Linux's default)."""


def _port_published(call: Call) -> Seen:
    port = port_key(call.args.get("port", 80))
    links, seen = _links(call, port)
    if not links:
        return seen
    evidence = {"port": port, "links": [_link_record(c, p) for c, p in links]}
    if call.args.get("random"):
        randoms = [(c, p) for c, p in links if p.host_port >= EPHEMERAL_PORT_MIN]
        if not randoms:
            c, p = links[0]
            return Seen(
                False,
                f"{c.name} publishes {port} on host port {p.host_port}, which "
                f"is not a random one (Docker picks random host ports from "
                f"{EPHEMERAL_PORT_MIN} up, when the host port is 0 or empty).",
                evidence,
            )
        links = randoms
    c, p = links[0]
    return Seen(True, f"{c.name} publishes {port} on host port {p.host_port} ({p.url}).", evidence)


STILL_STARTING = " The server in the container may still be starting: check again in a moment."


def _http_ok(call: Call) -> Seen:
    port = port_key(call.args.get("port", 80))
    status = int(call.args.get("status", 200))
    contains = call.args.get("contains")
    links, seen = _links(call, port)
    if not links:
        return seen
    tried: list[dict[str, Any]] = []
    message = ""
    for container, link in links[:MAX_TARGETS]:
        url = f"http://{port_link_host(call.ctx.snapshot.host, link)}:{link.host_port}/"
        record: dict[str, Any] = {"url": url, "container": container.name}
        tried.append(record)
        try:
            got, body = _get(url, min(HTTP_TIMEOUT, call.left()))
        except (OSError, http.client.HTTPException) as exc:
            record["error"] = shorten(str(exc) or type(exc).__name__)
            starting = isinstance(exc, ConnectionError | TimeoutError)
            message = message or (
                f"{url} ({container.name}) could not be reached ({record['error']})."
                + (STILL_STARTING if starting else "")
            )
            continue
        record.update(status=got, snippet=snippet(body))
        if got != status:
            message = message or f"{url} ({container.name}) answered {got}, not {status}."
        elif contains is not None and str(contains) not in body:
            message = message or (
                f"{url} ({container.name}) answered {got} but the page does "
                f"not contain {str(contains)!r}."
            )
        else:
            found = f" and contains {str(contains)!r}" if contains is not None else ""
            more = {"tried": tried} if len(tried) > 1 else {}
            return Seen(
                True,
                f"{url} ({container.name}) answered {got}{found}.",
                {"port": port, **record, **more},
            )
    return Seen(False, message, {"port": port, "tried": tried})


def _links(call: Call, port: str) -> tuple[list[tuple[ContainerInfo, PortLink]], Seen]:
    """Running targets' links for ``port``, or (empty, the failure to report)."""
    found = _targets(call)
    running = [c for c in found if c.running]
    if not running:
        return [], Seen(
            False,
            f"{_not_running(call, found)}, so no port is published.",
            {"port": port, "containers": _records(found)},
        )
    links = [(c, p) for c in running for p in c.ports if p.container_port == port]
    if links:
        return links, Seen(True, "", {})
    c = running[0]
    others = sorted({f"{p.container_port} on {p.host_port}" for p in c.ports})
    also = f" (it publishes {', '.join(others)})" if others else " (it publishes no port)"
    more = f" nor do {len(running) - 1} other matching containers" if len(running) > 1 else ""
    return [], Seen(
        False,
        f"{c.name} runs but does not publish {port} on the host{also}{more}.",
        {"port": port, "containers": _records(running)},
    )


def port_link_host(engine_host: str, link: PortLink) -> str:
    """Where a published port is reached: the engine's host for a remote engine, else
    the loopback (or the one address the port is bound to)."""
    parts = urlsplit(engine_host)
    if parts.scheme in ("tcp", "http", "https", "ssh") and parts.hostname:
        return parts.hostname
    return link.reach


def _get(url: str, timeout: float) -> tuple[int, str]:
    """GET ``url`` (no proxy, no redirects): status and up to 1 MB of text."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path or "/", headers={"User-Agent": "dockdojo-check"})
        response = conn.getresponse()
        body = response.read(1 << 20)
        return response.status, body.decode("utf-8", errors="replace")
    finally:
        conn.close()


def _link_record(container: ContainerInfo, link: PortLink) -> dict[str, Any]:
    return {
        "container": container.name,
        "host_ip": link.host_ip,
        "host_port": link.host_port,
        "url": link.url,
    }
