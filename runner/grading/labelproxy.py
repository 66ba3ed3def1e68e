"""A Docker API proxy that labels every container a graded submission creates.

``dockdojo grade`` runs each submission (a learner's notebook, executed by nbclient in a
fresh kernel) with ``DOCKER_HOST`` set to a :class:`LabelProxy`'s socket. The submission
talks to Docker any way it likes (the docker SDK, ``!docker`` on the CLI, dockdojo's
widgets); the proxy forwards everything to the real engine's socket unchanged, except that
``POST /containers/create`` gets the grader's labels (``dockdojo.learner``,
``dockdojo.lesson``, ``dockdojo.grade``...) added to its ``Labels``. The grader can then
find and remove exactly the containers that submission made, and never anyone else's.

With ``guard=True`` (the default) the proxy also refuses what a graded submission must not
do (privileged containers, host mounts, touching containers it did not create...; the
whole policy is :func:`guard_rule`). A refusal is an HTTP 403 whose JSON ``message`` the
docker CLI prints as ``Error response from daemon: ...`` and the SDK raises as an
``APIError``.

How requests travel
-------------------
Each client connection gets one connection to the engine, and mirrors it: when the engine
closes, the client's connection closes; when the client stops sending, the engine is told
so (a half-close). Requests are read one at a time (request line, headers, a body framed
by ``Content-Length`` or chunked) and forwarded in order, byte for byte unless the proxy
rewrites them. Responses are forwarded as they arrive, piece by piece, so streams
(``GET /events``, pull progress, ``logs?follow=1``) reach the client promptly. After a
``101`` (``Upgrade: tcp`` for attach and exec), a response without framing (a hijacked
stream), or a request that asks to close (``Connection: close``, HTTP/1.0), the proxy
pipes raw bytes both ways until the engine closes.

Requests are parsed strictly: anything the engine could read differently from the proxy
(bare line feeds, folded headers, both ``Content-Length`` and ``Transfer-Encoding``...) is
answered with a 400 and the connection is closed, so no request can slip past the proxy
unlabelled inside another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import posixpath
import re
import socket
import stat
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ..engine.models import LABEL_LEARNER, LABEL_LESSON
from ..errors import ProxyError

LABEL_GRADE = "dockdojo.grade"
"""The label naming one grading run; every container a graded submission makes has it."""

MAX_HEAD = 64 * 1024
"""Longest request or response head (request line and headers) the proxy accepts."""
MAX_INSPECTED_BODY = 4 * 1024 * 1024
"""Longest body the proxy reads whole to rewrite or check it (container create, exec...)."""

_PIECE = 64 * 1024
_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 15.0
_LOOKUP_TIMEOUT = 30.0
_FIRST_REQUEST_TIMEOUT = 30.0
_MAX_UNIX_PATH = 107  # sun_path holds 108 bytes, one of them the terminating NUL

log = logging.getLogger(__name__)

__all__ = [
    "LABEL_GRADE",
    "GuardRule",
    "LabelProxy",
    "ProxyError",
    "Refusal",
    "add_labels",
    "guard_rule",
    "parse_request",
]


# the policy ---------------------------------------------------------------------------
_REFUSED = "dockdojo's grader refused "


@dataclass(frozen=True)
class GuardRule:
    """What the guard asks of one request before it may reach the engine."""

    refuse: str | None = None
    """Refuse outright, with this message."""
    body_check: Callable[[Any], str | None] | None = None
    """Read the JSON body and hand it to this check; a message it returns refuses the request."""
    owner: tuple[str, str] | None = None
    """``("container", name_or_id)`` or ``("exec", exec_id)``: forward only when that
    container carries every label of this proxy (it was created through it)."""
    verb: str = ""
    """What the request does to that container, for the message: ``remove``, ``stop``..."""


_V = r"(?:/v[0-9.]+)?"
_CREATE = re.compile(_V + r"/containers/create")
_PRUNE = re.compile(_V + r"/containers/prune")
_CONTAINER_ACTION = re.compile(_V + r"/containers/(?P<ref>.+)/(?P<action>[^/]+)")
_CONTAINER = re.compile(_V + r"/containers/(?P<ref>.+)")
_ATTACH_WS = re.compile(_V + r"/containers/(?P<ref>.+)/attach/ws")
_EXEC = re.compile(_V + r"/exec/(?P<ref>[^/]+)/(?P<action>start|resize)")
_VOLUME_CREATE = re.compile(_V + r"/volumes/create")
_VERBS = {
    "exec": "run a command in",
    "attach": "attach to",
    "archive": "copy files into",
    "update": "change",
    "resize": "resize",
    "start": "start",
    "stop": "stop",
    "restart": "restart",
    "kill": "kill",
    "pause": "pause",
    "unpause": "unpause",
    "rename": "rename",
    "wait": "wait for",
}


def guard_rule(method: str, path: str) -> GuardRule:
    """The guard's whole policy: what a graded submission may not do, request by request.

    ``path`` is the decoded path without the query (``/v1.41/containers/web/stop``); the
    API version prefix is optional, as it is for the engine. In order:

    1. ``POST /containers/create``: the settings must not give the container power over
       the host: no ``--privileged``, ``--cap-add``, ``--device``, ``--pid/--ipc/--userns
       host``, ``--security-opt ...unconfined``, and no mount of a host path
       (``-v /path:...``, ``--mount type=bind``, or a volume with a ``device`` option).
       Host paths are refused whatever they are: the engine resolves them (symlinks
       included) only when the container starts, so no path can be vetted here.
       Named and anonymous volumes are fine. (Labels are added to every create, guard
       or not.)
    2. ``POST /volumes/create`` with a ``device`` driver option (a host path in disguise).
    3. ``POST /containers/prune``: it would remove other submissions' stopped containers.
    4. Anything but ``GET``/``HEAD`` on one container (``DELETE /containers/ID``, start,
       stop, kill, restart, rename, update, pause, attach, exec, archive upload...; not
       ``wait``, which only watches) and ``GET .../attach/ws``: only when the container
       carries this proxy's labels, i.e. this submission created it. Exec create must not
       be ``--privileged`` either.
    5. ``POST /exec/ID/start`` and ``/resize``: only for an exec in such a container.

    A container or exec the engine cannot find (404, or another 4xx such as an ambiguous
    id prefix) is let through: the engine answers the request itself with that error.
    Everything else (images, pulls, networks, logs, events, listing...) is allowed.
    """
    if method == "POST" and _CREATE.fullmatch(path):
        return GuardRule(body_check=_create_refusal)
    if method == "POST" and _VOLUME_CREATE.fullmatch(path):
        return GuardRule(body_check=_volume_refusal)
    if method == "POST" and _PRUNE.fullmatch(path):
        return GuardRule(
            refuse=_REFUSED + "to prune containers: that would also remove "
            "containers other submissions own. Remove your own containers by "
            "name instead: docker rm NAME."
        )
    if method in ("GET", "HEAD"):
        match = _ATTACH_WS.fullmatch(path) if method == "GET" else None
        if match:
            return GuardRule(owner=("container", match["ref"]), verb="attach to")
        return GuardRule()
    match = _EXEC.fullmatch(path)
    if match and method == "POST":
        return GuardRule(owner=("exec", match["ref"]), verb="run a command in")
    match = _CONTAINER_ACTION.fullmatch(path)
    if match and match["action"] == "wait":
        return GuardRule()  # waiting for a container to stop only watches it
    if match:
        action = match["action"]
        return GuardRule(
            owner=("container", match["ref"]),
            verb=_VERBS.get(action, action),
            body_check=_exec_refusal if action == "exec" else None,
        )
    match = _CONTAINER.fullmatch(path)
    if match and match["ref"] not in ("create", "prune", "json"):
        return GuardRule(
            owner=("container", match["ref"]),
            verb="remove" if method == "DELETE" else method.lower(),
        )
    return GuardRule()


_VOLUME_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class _Obj(list[tuple[str, Any]]):
    """A JSON object with every member kept, duplicates included, in order."""


def _members(candidates: Iterable[Any], key: str) -> list[Any]:
    """Every value any of ``candidates`` holds under ``key``, matched the way the engine's
    Go JSON decoder matches struct fields (case-insensitively), duplicates included."""
    wanted = key.casefold()
    return [
        value
        for obj in candidates
        if isinstance(obj, _Obj)
        for name, value in obj
        if name.casefold() == wanted
    ]


def _items(candidates: Iterable[Any]) -> list[Any]:
    return [
        item
        for value in candidates
        if isinstance(value, list) and not isinstance(value, _Obj)
        for item in value
    ]


def _create_refusal(body: Any) -> str | None:
    """Why ``POST /containers/create`` with this body is refused, or None."""
    host = _members([body], "HostConfig")
    what = "to create this container: "
    if any(value is True for value in _members(host, "Privileged")):
        return (
            _REFUSED + what + "graded work may not run privileged containers "
            "(--privileged). Run it without --privileged."
        )
    for bind in _items(_members(host, "Binds")):
        parts = bind.split(":") if isinstance(bind, str) else []
        if len(parts) >= 2 and not _VOLUME_NAME.fullmatch(parts[0]):
            return (
                _REFUSED + what + f"it would mount the host path {parts[0]} "
                f"(-v {parts[0]}:{parts[1]}). Graded work may not mount files or folders "
                f"of the host; use a named volume instead, e.g. -v mydata:{parts[1]}."
            )
    for mount in _items(_members(host, "Mounts")):
        kinds = {str(kind).casefold() for kind in _members([mount], "Type")}
        sources = [str(s) for s in _members([mount], "Source")] or ["?"]
        if "bind" in kinds:
            return (
                _REFUSED + what + f"it would mount the host path {sources[-1]} "
                "(--mount type=bind). Graded work may not mount files or folders of the "
                "host; use a named volume instead (--mount type=volume,source=NAME,...)."
            )
        options = _members(_members(_members([mount], "VolumeOptions"), "DriverConfig"), "Options")
        if _members(options, "device"):
            return (
                _REFUSED + what + "its volume mount has a device option, which mounts a "
                "host path or device. Use a plain named volume instead."
            )
    if any(value for value in _members(host, "Devices")):
        return (
            _REFUSED + what + "graded work may not give containers host devices "
            "(--device). Run it without --device."
        )
    caps = [str(cap) for cap in _items(_members(host, "CapAdd"))]
    if caps:
        return (
            _REFUSED + what + f"graded work may not add kernel capabilities "
            f"(--cap-add {' '.join(caps)}). Run it without --cap-add."
        )
    for option in _items(_members(host, "SecurityOpt")):
        if "unconfined" in str(option).casefold():
            return (
                _REFUSED + what + f"graded work may not switch off a container's "
                f"security profile (--security-opt {option}). Leave it out."
            )
    for key, flag in (("PidMode", "--pid"), ("IpcMode", "--ipc"), ("UsernsMode", "--userns")):
        if any(str(mode).casefold() == "host" for mode in _members(host, key)):
            return (
                _REFUSED + what + f"graded work may not share the host's namespaces "
                f"({flag}=host). Run it without {flag}=host."
            )
    return None


def _exec_refusal(body: Any) -> str | None:
    """Why ``POST /containers/ID/exec`` with this body is refused, or None."""
    if any(value is True for value in _members([body], "Privileged")):
        return (
            _REFUSED + "to run this command: graded work may not run privileged "
            "commands (docker exec --privileged). Run it without --privileged."
        )
    return None


def _volume_refusal(body: Any) -> str | None:
    """Why ``POST /volumes/create`` with this body is refused, or None."""
    if _members(_members([body], "DriverOpts"), "device"):
        return (
            _REFUSED + "to create this volume: its device option would mount a "
            "host path or device. Create a plain volume (docker volume create NAME)."
        )
    return None


def _json_pairs(data: bytes) -> Any:
    """A JSON body as :class:`_Obj` trees (an empty body reads as ``{}``)."""
    text = data.decode("utf-8", "surrogateescape")
    if not text.strip(" \t\r\n"):
        return _Obj()
    return json.loads(text, object_pairs_hook=_Obj)


# labelling ----------------------------------------------------------------------------
_WHITESPACE = " \t\r\n"


def add_labels(body: bytes, labels: Mapping[str, str]) -> bytes:
    """The JSON body of a container create with ``labels`` added to its ``Labels``.

    Only the ``Labels`` value is rewritten (or appended when missing or null); every other
    byte of the body stays as it was. The caller's own labels are kept; where a key is
    also one of ``labels``, ``labels`` wins, so no submission can pass as another. Every
    top-level member the engine would read as ``Labels`` (it matches names
    case-insensitively) gets them. Raises ``ValueError`` for a body that is not a JSON
    object or whose ``Labels`` is not an object.
    """
    text = body.decode("utf-8", "surrogateescape")
    if not text.strip(_WHITESPACE):
        text = "{}"
    decoder = json.JSONDecoder()

    def skip(i: int) -> int:
        while i < len(text) and text[i] in _WHITESPACE:
            i += 1
        return i

    def expect(i: int, char: str) -> int:
        if i >= len(text) or text[i] != char:
            raise ValueError(f"expected {char!r} at character {i} of the container settings")
        return i + 1

    found: list[tuple[int, int, Any]] = []
    members = 0
    i = expect(skip(0), "{")
    i = skip(i)
    if i < len(text) and text[i] == "}":
        close = i
    else:
        while True:
            if i >= len(text) or text[i] != '"':
                raise ValueError(f"expected a name at character {i} of the container settings")
            key, i = decoder.raw_decode(text, i)
            i = skip(expect(skip(i), ":"))
            value, end = decoder.raw_decode(text, i)
            if key.casefold() == "labels":
                found.append((i, end, value))
            members += 1
            i = skip(end)
            if i < len(text) and text[i] == ",":
                i = skip(i + 1)
                continue
            close = i
            expect(i, "}")
            break
    if skip(close + 1) != len(text):
        raise ValueError("the container settings have more after the JSON object")
    ours = dict(labels)
    if not found:
        insert = ("," if members else "") + '"Labels":' + _dump(ours)
        text = text[:close] + insert + text[close:]
    for start, end, value in reversed(found):
        if value is not None and not isinstance(value, dict):
            raise ValueError("Labels in the container settings is not an object")
        text = text[:start] + _dump({**(value or {}), **ours}) + text[end:]
    return text.encode("utf-8", "surrogateescape")


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# HTTP ---------------------------------------------------------------------------------
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_DIGITS = re.compile(r"[0-9]{1,18}")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,15})(;[^\r\n]*)?\r\n")
_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
    502: "Bad Gateway",
    505: "HTTP Version Not Supported",
}


class HttpError(Exception):
    """A request the proxy answers itself with ``status`` (and closes the connection)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json_response(status: int, message: str, *, close: bool) -> bytes:
    body = json.dumps({"message": message}).encode() + b"\n"
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n" + ("Connection: close\r\n" if close else "") + "\r\n"
    )
    return head.encode() + body


@dataclass(frozen=True)
class Head:
    """The start line and header fields of one HTTP message, as received."""

    start: str
    """Request line (``POST /v1.41/containers/create HTTP/1.1``) or status line."""
    lines: tuple[str, ...]
    """The header lines as sent, without line ends."""
    fields: tuple[tuple[str, str], ...]
    """``(name, value)`` per header line, values without surrounding blanks."""
    raw: bytes
    """Every byte received, up to and including the blank line."""

    def values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.fields if key.lower() == wanted]

    def tokens(self, name: str) -> list[str]:
        """The comma-separated tokens of every ``name`` field, lowercased."""
        return [
            token.strip().lower()
            for value in self.values(name)
            for token in value.split(",")
            if token.strip()
        ]


def _split_head(raw: bytes, *, strict: bool) -> Head:
    text = raw.decode("latin-1")
    if not text.endswith("\r\n\r\n"):
        raise HttpError(400, "The request head does not end with an empty line.")
    lines = text[:-4].split("\r\n")
    if strict and any("\r" in line or "\n" in line for line in lines):
        raise HttpError(
            400, "The request has a line that ends in a bare CR or LF; end every line with CRLF."
        )
    fields = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if strict and (not colon or not _TOKEN.fullmatch(name) or _BAD_VALUE.search(value)):
            raise HttpError(400, f"The request has a malformed header line: {line[:80]!r}.")
        fields.append((name.strip(), value.strip(" \t")))
    return Head(lines[0], tuple(lines[1:]), tuple(fields), raw)


@dataclass(frozen=True)
class Request:
    """One request's head, with how its body is framed and what it asks of the connection."""

    method: str
    """``GET``, ``POST``..."""
    target: str
    """The request target as sent: ``/v1.41/containers/create?name=web``."""
    version: str
    """``HTTP/1.1`` or ``HTTP/1.0``."""
    head: Head
    """The head as received."""
    chunked: bool
    """Whether the body is sent with chunked transfer coding."""
    length: int
    """Body length from ``Content-Length`` (0 when chunked or absent)."""

    @property
    def path(self) -> str:
        """The target's path as the engine routes it: decoded, ``//`` and ``.`` removed."""
        target = self.target
        if not target.startswith("/") and "://" in target:
            target = urlsplit(target, allow_fragments=False).path or "/"
        path = unquote(target.partition("?")[0], errors="surrogateescape")
        return posixpath.normpath(re.sub("/+", "/", path)) if path.startswith("/") else path

    @property
    def closes(self) -> bool:
        """Whether the connection ends after this request (HTTP/1.0, ``Connection: close``)."""
        tokens = self.head.tokens("Connection")
        if self.version == "HTTP/1.0":
            return "keep-alive" not in tokens
        return "close" in tokens

    @property
    def has_body(self) -> bool:
        return self.chunked or self.length > 0

    @property
    def expects_continue(self) -> bool:
        return "100-continue" in self.head.tokens("Expect") and self.has_body

    def rebuilt(self, body_length: int) -> bytes:
        """The head again, with ``Content-Length: body_length`` and no ``Transfer-Encoding``
        or ``Expect`` (the proxy has read the body already)."""
        drop = ("content-length", "transfer-encoding", "expect")
        kept = [
            line
            for line, (name, _) in zip(self.head.lines, self.head.fields, strict=True)
            if name.lower() not in drop
        ]
        text = "\r\n".join([self.head.start, *kept, f"Content-Length: {body_length}"])
        return (text + "\r\n\r\n").encode("latin-1")


def parse_request(raw: bytes) -> Request:
    """Parse a request head strictly; :class:`HttpError` when the engine might read it
    differently (and so might see a request the proxy did not)."""
    head = _split_head(raw, strict=True)
    parts = head.start.split(" ")
    if (
        len(parts) != 3
        or not _TOKEN.fullmatch(parts[0])
        or not parts[1]
        or _BAD_TARGET.search(parts[1])
    ):
        raise HttpError(400, f"The request line {head.start[:100]!r} is malformed.")
    method, target, version = parts
    if version not in ("HTTP/1.0", "HTTP/1.1"):
        raise HttpError(505, f"The proxy speaks HTTP/1.0 and HTTP/1.1, not {version[:20]!r}.")
    encodings = head.values("Transfer-Encoding")
    lengths = head.values("Content-Length")
    if encodings:
        if (
            version == "HTTP/1.0"
            or lengths
            or len(encodings) > 1
            or (encodings[0].lower() != "chunked")
        ):
            raise HttpError(
                400,
                "The request's Transfer-Encoding is not a plain 'chunked' "
                "(without Content-Length) in HTTP/1.1.",
            )
        return Request(method, target, version, head, chunked=True, length=0)
    if len(lengths) > 1 or (lengths and not _DIGITS.fullmatch(lengths[0])):
        raise HttpError(400, "The request's Content-Length is not one plain number.")
    return Request(
        method, target, version, head, chunked=False, length=int(lengths[0]) if lengths else 0
    )


@dataclass(frozen=True)
class Response:
    """One response head from the engine."""

    status: int
    """The status code."""
    version: str
    """``HTTP/1.1`` usually."""
    head: Head
    """The head as received."""

    @property
    def closes(self) -> bool:
        tokens = self.head.tokens("Connection")
        return "close" in tokens or (self.version == "HTTP/1.0" and "keep-alive" not in tokens)

    def framing(self, method: str) -> tuple[str, int]:
        """``("none" | "chunked" | "length" | "close", length)`` for the body that follows."""
        if method == "HEAD" or 100 <= self.status < 200 or self.status in (204, 304):
            return "none", 0
        encodings = self.head.tokens("Transfer-Encoding")
        if encodings:
            return ("chunked", 0) if encodings[-1] == "chunked" else ("close", 0)
        lengths = self.head.values("Content-Length")
        if lengths and lengths[0].isdigit():
            return "length", int(lengths[0])
        return "close", 0


def parse_response(raw: bytes) -> Response:
    """Parse a response head from the engine (trusted: read leniently)."""
    head = _split_head(raw, strict=False)
    parts = head.start.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise HttpError(
            502,
            f"The Docker Engine answered with {head.start[:100]!r}, "
            "which is not an HTTP status line.",
        )
    return Response(int(parts[1]), parts[0], head)


async def _exactly(reader: asyncio.StreamReader, count: int) -> AsyncIterator[bytes]:
    """``count`` bytes from ``reader``, in pieces as they arrive."""
    left = count
    while left:
        data = await reader.read(min(left, _PIECE))
        if not data:
            raise asyncio.IncompleteReadError(b"", left)
        left -= len(data)
        yield data


async def _body_pieces(
    reader: asyncio.StreamReader, *, chunked: bool, length: int, strict: bool
) -> AsyncGenerator[tuple[bytes, bytes], None]:
    """A body as ``(raw bytes, payload bytes)`` pieces, in the order they arrive.

    The raw pieces, joined, are the body exactly as sent (chunk lines and trailers
    included); the payload pieces are its content. With ``strict``, a chunk line or
    trailer the engine might read differently raises :class:`HttpError`.
    """
    if not chunked:
        async for data in _exactly(reader, length):
            yield data, data
        return
    while True:
        line = await reader.readuntil(b"\r\n")
        match = _CHUNK_SIZE.fullmatch(line)
        if match is None and strict:
            raise HttpError(400, f"The request has a malformed chunk line: {line[:40]!r}.")
        size_text = match[1] if match else line.split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise HttpError(502, f"A chunk line {line[:40]!r} is malformed.") from None
        yield line, b""
        if size == 0:
            break
        async for data in _exactly(reader, size):
            yield data, data
        end = await reader.readexactly(2)
        if end != b"\r\n":
            raise HttpError(400 if strict else 502, "A chunk is longer than its size line says.")
        yield end, b""
    while True:  # trailer fields, up to the empty line
        line = await reader.readuntil(b"\r\n")
        if line == b"\r\n":
            yield line, b""
            return
        name, colon, value = line[:-2].decode("latin-1").partition(":")
        if strict and (not colon or not _TOKEN.fullmatch(name) or _BAD_VALUE.search(value)):
            raise HttpError(400, f"The request has a malformed trailer line: {line[:80]!r}.")
        yield line, b""


async def _read_body(reader: asyncio.StreamReader, request: Request) -> tuple[bytes, bytes]:
    """The whole body as ``(raw, payload)``; 413 beyond :data:`MAX_INSPECTED_BODY`."""
    raw = bytearray()
    payload = bytearray()
    async with contextlib.aclosing(
        _body_pieces(reader, chunked=request.chunked, length=request.length, strict=True)
    ) as pieces:
        async for piece, data in pieces:
            raw += piece
            payload += data
            if len(raw) > MAX_INSPECTED_BODY:
                raise HttpError(
                    413,
                    f"The body of {request.method} {request.path} is longer "
                    f"than {MAX_INSPECTED_BODY} bytes, more than the proxy reads "
                    "to check it.",
                )
    return bytes(raw), bytes(payload)


# the proxy ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Refusal:
    """A request the guard refused."""

    method: str
    """The request's method."""
    path: str
    """The request's path, e.g. ``/v1.41/containers/create``."""
    message: str
    """What the submission was told (the JSON ``message`` of the 403)."""


@dataclass(frozen=True)
class _Canned:
    """A response the proxy writes itself, in its place among the engine's."""

    data: bytes
    """The whole response (or an interim ``100 Continue``)."""
    close: bool = False
    """Whether the connection ends after it."""


@dataclass(frozen=True)
class _Forwarded:
    """A request on its way to the engine; its response is forwarded in turn."""

    method: str
    """The request's method (a response to ``HEAD`` has no body)."""
    raw: bool
    """Whether the request closes the connection, so that raw piping follows it."""
    head_seen: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    """Resolved when the final response head has arrived: True when the connection has
    become a raw stream (101, a response without framing)."""


_Item = _Canned | _Forwarded | None


def _unix_path(upstream: str) -> str:
    path = upstream.removeprefix("unix://")
    if "://" in path:
        raise ProxyError(
            f"LabelProxy forwards to a unix socket, and {upstream} is not one.",
            "Give the path of the engine's socket, e.g. /var/run/docker.sock.",
        )
    return path


class LabelProxy:
    """A Docker API proxy on a unix socket that labels containers and guards the engine.

    ``upstream`` is the real engine's socket path (``unix://`` in front is fine);
    ``socket_path`` is where the proxy listens; ``labels`` go on every container created
    through it. With ``guard`` it also refuses what :func:`guard_rule` lists, and a
    container counts as this submission's own when it carries all of ``labels``.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with LabelProxy(engine_socket, tmp / "proxy.sock", labels) as proxy:
            env["DOCKER_HOST"] = proxy.docker_host
    """

    def __init__(
        self, upstream: str, socket_path: Path, labels: Mapping[str, str], *, guard: bool = True
    ) -> None:
        self.upstream = _unix_path(upstream)
        self.socket_path = Path(socket_path).absolute()
        if not labels or not all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in labels.items()
        ):
            raise ProxyError(
                "LabelProxy needs at least one label, with text keys and values.",
                f"Pass e.g. {{{LABEL_LEARNER!r}: 'ada', {LABEL_LESSON!r}: "
                f"'what-is-an-image', {LABEL_GRADE!r}: RUN_ID}}.",
            )
        self.labels: Mapping[str, str] = dict(labels)
        self.guard = guard
        self._refusals: list[Refusal] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._inode: tuple[int, int] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    # public -------------------------------------------------------------------------
    @property
    def docker_host(self) -> str:
        """The ``DOCKER_HOST`` value that reaches the engine through this proxy."""
        return f"unix://{self.socket_path}"

    @property
    def running(self) -> bool:
        """Whether the proxy's thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def connections(self) -> int:
        """How many client connections the proxy is serving now."""
        return len(self._tasks)

    @property
    def refusals(self) -> tuple[Refusal, ...]:
        """The requests the guard refused so far, oldest first."""
        with self._lock:
            return tuple(self._refusals)

    def start(self) -> LabelProxy:
        """Listen on :attr:`socket_path`, serving from a background thread."""
        if self._thread is not None:
            raise ProxyError(
                f"The proxy at {self.socket_path} is already running.",
                "Stop it first, or use another LabelProxy.",
            )
        if not Path(self.upstream).exists():
            raise ProxyError(
                f"There is no Docker Engine socket at {self.upstream}.",
                "Start the engine (or the sandbox: dockdojo sandbox start) and "
                "pass its socket path.",
            )
        self._prepare_socket_path()
        self._ready.clear()
        self._error = None
        thread = threading.Thread(
            target=self._run, daemon=True, name=f"dockdojo-labelproxy:{self.socket_path.name}"
        )
        self._thread = thread
        thread.start()
        if not self._ready.wait(_START_TIMEOUT) or self._error is not None:
            self.stop()
            error = self._error
            raise ProxyError(
                f"The proxy could not listen at {self.socket_path}"
                + (f" ({error})." if error else " in time."),
                "Check that the folder is writable and the path is free.",
            ) from error
        return self

    def stop(self) -> None:
        """Close the listening socket and every connection, end the thread, remove the
        socket file. Safe to call twice."""
        thread = self._thread
        if thread is None:
            return
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop has ended already
                loop.call_soon_threadsafe(event.set)
        thread.join(_STOP_TIMEOUT)
        if thread.is_alive():
            raise ProxyError(
                f"The proxy at {self.socket_path} did not stop within {_STOP_TIMEOUT:g} s.",
                "Its thread is a daemon thread: it ends with the process. Report this as a bug.",
            )
        self._thread = None
        self._loop = self._stop_event = None
        with contextlib.suppress(OSError):
            info = self.socket_path.lstat()
            if (info.st_dev, info.st_ino) == self._inode:
                self.socket_path.unlink()
        self._inode = None

    def __enter__(self) -> LabelProxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # setup ----------------------------------------------------------------------------
    def _prepare_socket_path(self) -> None:
        path = self.socket_path
        if len(os.fsencode(path)) > _MAX_UNIX_PATH:
            raise ProxyError(
                f"The proxy's socket path is {len(os.fsencode(path))} bytes long; "
                f"a unix socket path may have at most {_MAX_UNIX_PATH}: {path}",
                "Put the socket in a short folder, e.g. one from tempfile.mkdtemp(dir='/tmp').",
            )
        if not path.parent.is_dir():
            raise ProxyError(
                f"The folder {path.parent} for the proxy's socket does not exist.",
                "Create it first.",
            )
        try:
            info = path.lstat()
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(info.st_mode):
            raise ProxyError(
                f"{path} exists and is not a socket, so the proxy cannot listen there.",
                "Choose another path, or remove that file.",
            )
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(str(path))
            except OSError:
                path.unlink()  # a socket file nobody listens on any more
                return
        raise ProxyError(
            f"Something already listens at {path}.",
            "Stop it, or give the proxy another socket path.",
        )

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by start(); the thread must not die loudly
            self._error = exc
            log.exception("The label proxy at %s stopped with an error.", self.socket_path)
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        try:
            server = await asyncio.start_unix_server(
                self._serve, path=str(self.socket_path), limit=MAX_HEAD
            )
        except OSError as exc:
            self._error = exc
            return
        try:
            info = self.socket_path.lstat()
            self._inode = (info.st_dev, info.st_ino)
            self._ready.set()
            await self._stop_event.wait()
        finally:
            server.close()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            for writer in list(self._writers):
                writer.transport.abort()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.wait_closed()

    # connections ---------------------------------------------------------------------
    def _track(self, writer: asyncio.StreamWriter) -> asyncio.StreamWriter:
        self._writers.add(writer)
        return writer

    async def _close(self, writer: asyncio.StreamWriter | None) -> None:
        if writer is None:
            return
        writer.close()
        try:
            await writer.wait_closed()
        except Exception:  # the peer is gone either way
            pass
        finally:
            self._writers.discard(writer)

    async def _serve(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._track(client_writer)
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            assert self._stop_event is not None
            if self._stop_event.is_set():
                return
            try:
                upstream_reader, upstream_writer = await asyncio.open_unix_connection(
                    self.upstream, limit=MAX_HEAD
                )
            except OSError as exc:
                await self._unreachable(client_reader, client_writer, exc)
                return
            self._track(upstream_writer)
            await _Connection(
                self, client_reader, client_writer, upstream_reader, upstream_writer
            ).run()
        except (
            ConnectionError,
            OSError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            HttpError,
        ):
            pass  # a side hung up or the engine spoke garbage: the connection ends
        except asyncio.CancelledError:
            # stop(): end quietly (Python 3.11's asyncio logs a cancelled connection task
            # as an error).
            pass
        except Exception:
            log.exception(
                "The label proxy at %s dropped a connection after an error.", self.socket_path
            )
        finally:
            self._tasks.discard(task)
            client_writer.close()
            if upstream_writer is not None:
                upstream_writer.close()
            await self._close(client_writer)
            await self._close(upstream_writer)

    async def _unreachable(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, exc: OSError
    ) -> None:
        with contextlib.suppress(
            asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError
        ):
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _FIRST_REQUEST_TIMEOUT)
        writer.write(
            _json_response(
                502,
                (
                    "dockdojo's grading proxy could not reach the Docker Engine at "
                    f"{self.upstream} "
                    f"({exc.strerror or exc}). Check that the engine is running, then try again."
                ),
                close=True,
            )
        )
        await writer.drain()

    def _refused(self, request: Request, message: str) -> None:
        with self._lock:
            self._refusals.append(Refusal(request.method, request.path, message))
        log.info("Refused %s %s: %s", request.method, request.path, message)

    async def _owner_refusal(self, kind: str, ref: str, verb: str) -> str | None:
        """The refusal message when ``ref`` exists and is not this submission's, else None."""
        if kind == "exec":
            status, data = await self._engine_get(f"/exec/{quote(ref, safe='')}/json")
            if status != 200:
                return None
            container = str(data.get("ContainerID") or "")
            if not container:
                raise HttpError(
                    502,
                    f"dockdojo's grading proxy could not tell which container "
                    f"exec {ref} belongs to.",
                )
            ref = container
        status, data = await self._engine_get(f"/containers/{quote(ref, safe='/')}/json")
        if status != 200:
            return None
        labels = (data.get("Config") or {}).get("Labels") or {}
        missing = [(k, v) for k, v in self.labels.items() if labels.get(k) != v]
        if not missing:
            return None
        key, value = next(((k, v) for k, v in missing if k == LABEL_GRADE), missing[0])
        name = str(data.get("Name") or ref).lstrip("/")
        return (
            _REFUSED + f"to {verb} container {name}: this submission did not "
            f"create it (it lacks the label {key}={value}). Graded work may only change "
            "or remove the containers it created itself."
        )

    async def _engine_get(self, path: str) -> tuple[int, dict[str, Any]]:
        """``GET path`` on a connection of its own: (status, JSON body). A 502
        :class:`HttpError` when the engine cannot be asked or fails (5xx)."""
        writer: asyncio.StreamWriter | None = None
        try:
            async with asyncio.timeout(_LOOKUP_TIMEOUT):
                reader, writer = await asyncio.open_unix_connection(self.upstream)
                self._track(writer)
                writer.write(f"GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
                raw = await reader.read()  # HTTP/1.0: the engine closes after the response
            head, _, body = raw.partition(b"\r\n\r\n")
            status = parse_response(head + b"\r\n\r\n").status
            data = json.loads(body) if body.strip() else {}
            if not 200 <= status < 500 or not isinstance(data, dict):
                raise HttpError(
                    502, f"the engine answered {status}: {body[:200].decode(errors='replace')}"
                )
            return status, data
        except (OSError, TimeoutError, ValueError, HttpError) as exc:
            message = exc.message if isinstance(exc, HttpError) else str(exc) or type(exc).__name__
            raise HttpError(
                502,
                f"dockdojo's grading proxy could not check who owns what "
                f"{path} names ({message}). Try again.",
            ) from exc
        finally:
            await self._close(writer)


class _Connection:
    """One client connection and its own connection to the engine.

    Two loops run side by side: :meth:`_requests` reads the client's requests and forwards
    them, and queues what answers each one; :meth:`_responses` takes that queue in order and
    forwards the engine's responses (or writes the proxy's own). When the responses end,
    the connection ends.
    """

    def __init__(
        self,
        proxy: LabelProxy,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        upstream_reader: asyncio.StreamReader,
        upstream_writer: asyncio.StreamWriter,
    ) -> None:
        self.proxy = proxy
        self.client_reader = client_reader
        self.client_writer = client_writer
        self.upstream_reader = upstream_reader
        self.upstream_writer = upstream_writer
        self.queue: asyncio.Queue[_Item] = asyncio.Queue()

    async def run(self) -> None:
        requests = asyncio.create_task(self._requests())
        try:
            await self._responses()
        finally:
            requests.cancel()
            await asyncio.gather(requests, return_exceptions=True)

    # client -> engine -------------------------------------------------------------------
    async def _requests(self) -> None:
        try:
            while True:
                try:
                    raw = await self.client_reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:  # the client has finished sending
                    self._end_upstream()
                    return
                except asyncio.LimitOverrunError:
                    raise HttpError(
                        431, f"The request head is longer than {MAX_HEAD} bytes."
                    ) from None
                if not await self._forward(parse_request(raw)):
                    return
        except HttpError as exc:
            self.queue.put_nowait(
                _Canned(_json_response(exc.status, exc.message, close=True), close=True)
            )
        except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            # Whatever ended the requests, the engine hears no more of them.
            self._end_upstream()
            self.queue.put_nowait(None)

    async def _forward(self, request: Request) -> bool:
        """Forward one request (or refuse it); whether HTTP goes on on this connection."""
        proxy = self.proxy
        path = request.path
        label = request.method == "POST" and _CREATE.fullmatch(path) is not None
        rule = guard_rule(request.method, path) if proxy.guard else GuardRule()
        inspect = label or rule.body_check is not None
        raw_body = payload = b""
        if inspect:
            if request.expects_continue:
                self.queue.put_nowait(_Canned(b"HTTP/1.1 100 Continue\r\n\r\n"))
            raw_body, payload = await _read_body(self.client_reader, request)
        refusal = rule.refuse
        if refusal is None and rule.body_check is not None:
            try:
                refusal = rule.body_check(_json_pairs(payload))
            except (ValueError, RecursionError) as exc:
                raise HttpError(400, _unreadable(request, exc, label)) from None
        if refusal is None and rule.owner is not None:
            refusal = await proxy._owner_refusal(*rule.owner, rule.verb)
        if refusal is not None:
            proxy._refused(request, refusal)
            close = request.closes or (not inspect and request.expects_continue)
            if not inspect and not close:
                async with contextlib.aclosing(
                    _body_pieces(
                        self.client_reader,
                        chunked=request.chunked,
                        length=request.length,
                        strict=True,
                    )
                ) as pieces:
                    async for _ in pieces:
                        pass
            self.queue.put_nowait(_Canned(_json_response(403, refusal, close=close), close=close))
            return not close
        if label:
            try:
                body = add_labels(payload, proxy.labels)
            except (ValueError, RecursionError) as exc:
                raise HttpError(400, _unreadable(request, exc, label)) from None
            data = request.rebuilt(len(body)) + body
        elif inspect:
            data = (
                request.rebuilt(len(payload)) + payload
                if request.expects_continue
                else request.head.raw + raw_body
            )
        else:
            data = request.head.raw
        item = _Forwarded(request.method, raw=request.closes)
        self.queue.put_nowait(item)
        self.upstream_writer.write(data)
        await self.upstream_writer.drain()
        if not inspect:
            async with contextlib.aclosing(
                _body_pieces(
                    self.client_reader, chunked=request.chunked, length=request.length, strict=True
                )
            ) as pieces:
                async for piece, _ in pieces:
                    self.upstream_writer.write(piece)
                    await self.upstream_writer.drain()
        if request.closes or await item.head_seen:
            await self._pipe_to_upstream()
            return False
        return True

    async def _pipe_to_upstream(self) -> None:
        while data := await self.client_reader.read(_PIECE):
            self.upstream_writer.write(data)
            await self.upstream_writer.drain()
        self._end_upstream()

    def _end_upstream(self) -> None:
        """Tell the engine the client has finished sending (a half-close)."""
        with contextlib.suppress(OSError, RuntimeError):
            if self.upstream_writer.can_write_eof() and not self.upstream_writer.is_closing():
                self.upstream_writer.write_eof()

    # engine -> client -------------------------------------------------------------------
    async def _responses(self) -> None:
        while True:
            item = await self.queue.get()
            if item is None:
                return
            if isinstance(item, _Canned):
                self.client_writer.write(item.data)
                await self.client_writer.drain()
                if item.close:
                    return
                continue
            if item.raw:
                _resolve(item, True)
                await self._pipe_to_client()
                return
            if not await self._forward_response(item):
                return

    async def _forward_response(self, item: _Forwarded) -> bool:
        """Forward one response; whether the connection carries on with HTTP."""
        try:
            while True:
                try:
                    raw = await self.upstream_reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError as exc:  # the engine closed the connection
                    self.client_writer.write(exc.partial)
                    await self.client_writer.drain()
                    return False
                self.client_writer.write(raw)
                await self.client_writer.drain()
                response = parse_response(raw)
                if response.status == 101 or not 100 <= response.status < 200:
                    break
            kind, length = response.framing(item.method)
            if response.status == 101 or kind == "close":
                _resolve(item, True)
                await self._pipe_to_client()
                return False
        finally:
            _resolve(item, False)
        async with contextlib.aclosing(
            _body_pieces(
                self.upstream_reader, chunked=kind == "chunked", length=length, strict=False
            )
        ) as pieces:
            async for piece, _ in pieces:
                self.client_writer.write(piece)
                await self.client_writer.drain()
        return not response.closes

    async def _pipe_to_client(self) -> None:
        while data := await self.upstream_reader.read(_PIECE):
            self.client_writer.write(data)
            await self.client_writer.drain()


def _unreadable(request: Request, exc: Exception, label: bool) -> str:
    if label:
        return (
            "dockdojo's grading proxy could not read the container settings, so it could "
            f"not label the container ({exc}). Send them as one JSON object."
        )
    return (
        f"dockdojo's grading proxy could not read the body of {request.method} "
        f"{request.path} as JSON ({exc})."
    )


def _resolve(item: _Forwarded, raw: bool) -> None:
    if not item.head_seen.done():
        item.head_seen.set_result(raw)
