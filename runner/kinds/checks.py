"""Every check kind: one function and one entry of :data:`CHECKS` each.

A check reads the engine (images, containers, published ports, HTTP on a port link,
``redis-cli`` or ``mongosh`` run inside a container) and says what it saw (:class:`Seen`).
Checks never raise because of the engine's state: an engine that is down, a container
deleted meanwhile, a refused connection or a failing ``mongosh`` all become a failed
check with a sentence saying so (:mod:`.checking` turns exceptions into results).

Work is accepted however it was done (widgets, docker CLI, Docker Desktop): containers
are found by image and/or name, never by dockdojo labels alone (see
:func:`~dockdojo.runner.engine.prefer_lesson`).

To add a check kind, write its function here and add its entry to :data:`CHECKS`.
"""

from __future__ import annotations

import functools
import http.client
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..authoring.declarations import Param
from ..engine import ContainerInfo, ExecResult, PortLink, normalize, prefer_lesson
from ..errors import DockdojoError, InvalidReference
from ..text import few, plain_text, plural, shorten, snippet
from .base import Call, CheckKind, Seen, TimedOut, as_error, bounded, table

HTTP_TIMEOUT = 3.0
"""Seconds an HTTP request to a port link may take."""
EPHEMERAL_PORT_MIN = 32768
"""Lowest host port Docker hands out when asked for a random one (Linux's default)."""
MAX_TARGETS = 5
"""Containers a command is tried in, at most, when several match."""
SNIPPET = 200
"""Characters of output or page text kept as evidence."""

FOUND_MARK = "dockdojo:found "
NONE_MARK = "dockdojo:none"


def _image_present(call: Call) -> Seen:
    ref = str(call.args["image"])
    image = call.ctx.snapshot.image(ref)
    if image is not None:
        return Seen(
            True,
            f"{_familiar(ref)} is on the engine (image {image.short_id}).",
            {"image": _familiar(ref), "id": image.short_id},
        )
    local = call.ctx.snapshot.tags()
    return Seen(
        False,
        f"{_familiar(ref)} is not on the engine"
        + (f" (it has: {few(local)})." if local else " (it has no images)."),
        {"image": _familiar(ref), "local_images": local[:10]},
    )


def _image_absent(call: Call) -> Seen:
    ref = str(call.args["image"])
    image = call.ctx.snapshot.image(ref)
    if image is None:
        return Seen(True, f"{_familiar(ref)} is not on the engine.", {"image": _familiar(ref)})
    users = call.ctx.snapshot.users(ref)
    used = f", used by {plural(len(users), 'container')}: {_states(users)}" if users else ""
    return Seen(
        False,
        f"{_familiar(ref)} is still on the engine (image {image.short_id}{used}).",
        {"image": _familiar(ref), "id": image.short_id, "containers": _records(users)},
    )


def _image_removed(call: Call) -> Seen:
    absent = _image_absent(call)
    if not absent.passed:
        return absent
    ref = _familiar(str(call.args["image"]))
    history = call.ctx.engine.history()
    if any(name and _familiar(name) == ref for _, name in history.arrivals):
        return Seen(
            True, f"{ref} was removed and is not on the engine.", {"image": ref, "removed": True}
        )
    if not history.complete:
        return Seen(
            True,
            f"{ref} is not on the engine. Whether it was here and removed cannot be told: "
            f"{history.source} may be incomplete ({history.why}).",
            {"image": ref, "removed": None, "history": "incomplete"},
        )
    return Seen(
        False,
        f"{ref} is not on the engine, but it was never pulled here "
        f"({history.source} shows no pull of it).",
        {"image": ref, "removed": False},
    )


def _container_removed(call: Call) -> Seen:
    name = str(call.args["name"])
    if call.ctx.snapshot.named(name) is not None:
        return Seen(False, f"The container {name} still exists.", {"name": name})
    history = call.ctx.engine.history()
    if any(n == name for _, n in history.removals):
        return Seen(True, f"The container {name} was removed.", {"name": name, "removed": True})
    if not history.complete:
        return Seen(
            True,
            f"There is no container {name}. Whether there was one and it was removed cannot "
            f"be told: {history.source} may be incomplete ({history.why}).",
            {"name": name, "removed": None, "history": "incomplete"},
        )
    return Seen(
        False,
        f"There is no container {name}, but none was ever removed here: it was never "
        f"created ({history.source} shows none removed).",
        {"name": name, "removed": False},
    )


def _container_running(call: Call) -> Seen:
    found = _targets(call)
    running = [c for c in found if c.running]
    evidence = {"containers": _records(found)}
    if running:
        verb = "is" if len(running) == 1 else "are"
        return Seen(True, f"{_states(running, state=False)} {verb} running.", evidence)
    return Seen(False, _not_running(call, found) + ".", evidence)


def _container_stopped(call: Call) -> Seen:
    found = _targets(call)
    running = [c for c in found if c.running]
    evidence = {"containers": _records(found)}
    if running:
        verb = "is" if len(running) == 1 else "are"
        return Seen(False, f"{_states(running, state=False)} {verb} still running.", evidence)
    if not found:
        return Seen(True, f"No {_what(call)} is running (there is none).", evidence)
    return Seen(True, f"No {_what(call)} is running ({_states(found)}).", evidence)


def _container_absent(call: Call) -> Seen:
    name = str(call.args["name"])
    container = call.ctx.snapshot.named(name)
    if container is None:
        return Seen(True, f"There is no container named {name}.", {"name": name})
    return Seen(
        False,
        f"A container named {name} still exists (it is {container.state}).",
        {"containers": _records([container])},
    )


def _port_published(call: Call) -> Seen:
    port = _port(call.args.get("port", 80))
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
    port = _port(call.args.get("port", 80))
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


def _command_output(call: Call) -> Seen:
    argv = [str(a) for a in call.args["command"]]
    expect, contains = call.args.get("expect"), call.args.get("contains")
    shown = " ".join(argv)
    running = _running_targets(call)
    if not running:
        return Seen(
            False,
            f"{_not_running(call, _targets(call))}, so `{shown}` could not run.",
            {"command": argv, "containers": _records(_targets(call))},
        )
    runs: list[dict[str, Any]] = []
    message = ""
    for container, result in _run_in(
        call, running[:MAX_TARGETS], argv, lambda r: _output_ok(r.output, expect, contains)
    ):
        if isinstance(result, str):
            runs.append({"container": container.name, "error": result})
            message = message or f"`{shown}` could not run in {container.name}: {result}"
            continue
        out = result.output.strip()
        runs.append(
            {
                "container": container.name,
                "exit_code": result.exit_code,
                "output": snippet(out),
                **({"truncated": True} if result.truncated else {}),
            }
        )
        if expect is not None and out != str(expect).strip():
            message = message or (
                f"`{shown}` in {container.name} printed {snippet(out)!r}, "
                f"not {str(expect).strip()!r}."
            )
        elif contains is not None and str(contains) not in out:
            message = message or (
                f"`{shown}` in {container.name} printed {snippet(out)!r}, "
                f"which does not contain {str(contains)!r}."
            )
        else:
            return Seen(
                True,
                f"`{shown}` in {container.name} printed {snippet(out)!r}.",
                {"command": argv, "runs": runs},
            )
    return Seen(False, message, {"command": argv, "runs": runs})


def _output_ok(output: str, expect: object, contains: object) -> bool:
    out = output.strip()
    return (expect is None or out == str(expect).strip()) and (
        contains is None or str(contains) in out
    )


def mongo_script(collection: str, filter_: Mapping[str, Any], db: str = "test") -> str:
    """The mongosh program that prints the first document matching ``filter_``.

    Every value is embedded as JSON, which is a valid JavaScript literal, so nothing a
    lesson declares can change the program's shape.
    """
    target = f"db.getSiblingDB({json.dumps(db)}).getCollection({json.dumps(collection)})"
    return (
        f"const found = {target}.findOne({json.dumps(dict(filter_), default=str)}); "
        f"print(found === null ? {json.dumps(NONE_MARK)} : "
        f"{json.dumps(FOUND_MARK)} + EJSON.stringify(found));"
    )


def _mongo_document(call: Call) -> Seen:
    db = str(call.args.get("db", "test"))
    collection = str(call.args["collection"])
    filter_ = dict(call.args["filter"])
    where = f"{db}.{collection}"
    shown_filter = json.dumps(filter_, default=str)
    running = _running_targets(call)
    evidence: dict[str, Any] = {"db": db, "collection": collection, "filter": filter_}
    if not running:
        return Seen(
            False,
            f"{_not_running(call, _targets(call))}, so mongosh could not look for the document.",
            {**evidence, "containers": _records(_targets(call))},
        )
    argv = ["mongosh", "--quiet", "--eval", mongo_script(collection, filter_, db)]
    runs: list[dict[str, Any]] = []
    message = ""
    for container, result in _run_in(
        call, running[:MAX_TARGETS], argv, lambda r: parse_mongo_output(r.output)[0] is not None
    ):
        if isinstance(result, str):
            runs.append({"container": container.name, "error": result})
            message = message or f"mongosh could not run in {container.name}: {result}"
            continue
        document, said = parse_mongo_output(result.output)
        runs.append(
            {
                "container": container.name,
                "exit_code": result.exit_code,
                "output": snippet(document or said),
                **({"truncated": True} if result.truncated else {}),
            }
        )
        if document is not None:
            return Seen(
                True,
                f"mongosh found a document in {where} matching {shown_filter} "
                f"in {container.name}: {snippet(document)}",
                {**evidence, "document": snippet(document), "runs": runs},
            )
        if said is None:
            message = message or (
                f"mongosh found no document in {where} matching {shown_filter} in {container.name}."
            )
        else:
            message = message or f"mongosh in {container.name} failed: {said}"
    return Seen(False, message, {**evidence, "runs": runs})


def parse_mongo_output(output: str) -> tuple[str | None, str | None]:
    """``(document, None)`` when found, ``(None, None)`` when none matched, else
    ``(None, what mongosh said)`` (an error, e.g. the server is not listening yet)."""
    for line in output.splitlines():
        if line.startswith(FOUND_MARK):
            return line[len(FOUND_MARK) :].strip(), None
        if line.strip() == NONE_MARK:
            return None, None
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "Error" in ln or "error" in ln]
    return None, shorten((errors or lines or ["it printed nothing"])[-1])


def _no_container_uses(call: Call) -> Seen:
    ref = str(call.args["image"])
    users = call.ctx.snapshot.users(ref)
    evidence = {"image": _familiar(ref), "containers": _records(users)}
    if users:
        return Seen(
            False,
            f"{plural(len(users), 'container')} still "
            f"{'uses' if len(users) == 1 else 'use'} {_familiar(ref)}: "
            f"{_states(users)}.",
            evidence,
        )
    return Seen(True, f"No container uses {_familiar(ref)}.", evidence)


def _logs_contain(call: Call) -> Seen:
    text = str(call.args["contains"])
    tail = int(call.args.get("tail", 200))
    found = _targets(call)
    if not found:
        return Seen(
            False, f"There is no {_what(call)}, so there are no logs to read.", {"contains": text}
        )
    read: list[dict[str, Any]] = []
    for container in found[:MAX_TARGETS]:
        try:
            logs = call.ctx.engine.logs(container.name, tail=tail)
        except DockdojoError as exc:
            read.append({"container": container.name, "error": exc.what})
            continue
        lines = [line for line in plain_text(logs).splitlines() if text in line]
        read.append({"container": container.name, "matched": len(lines)})
        if lines:
            return Seen(
                True,
                f"The logs of {container.name} say {snippet(lines[-1])!r}.",
                {"contains": text, "line": snippet(lines[-1]), "read": read},
            )
    names = ", ".join(r["container"] for r in read)
    return Seen(
        False,
        f"The last {tail} log lines of {names} do not contain {text!r}.",
        {"contains": text, "read": read},
    )


def _step_done(call: Call) -> Seen:
    target_id = str(call.args["step"])
    try:
        target = call.ctx.lesson.step(target_id)
    except KeyError:
        return Seen(
            False,
            f"Lesson {call.ctx.lesson.id} has no step {target_id!r} to check.",
            {"step": target_id},
        )
    if target_id in call.visiting:
        loop = " -> ".join((*call.visiting, target_id))
        return Seen(
            False,
            f"step_done checks loop ({loop}), so step {target_id} cannot be decided.",
            {"step": target_id},
        )
    others = [c for c in target.checks if c is not call.spec]
    if not others:
        return Seen(False, f"Step {target_id} has no other checks to pass.", {"step": target_id})
    chain = (*call.visiting, target_id)
    results = [call.result_of(target, spec, chain) for spec in others]
    failed = [r for r in results if not r.passed]
    evidence = {
        "step": target_id,
        "passed": len(results) - len(failed),
        "total": len(results),
        "failed": [f"{r.kind}: {r.message}" for r in failed][:5],
    }
    if failed:
        return Seen(
            False,
            f"Step {target_id} is not done: {len(failed)} of {len(results)} "
            f"checks fail ({failed[0].kind}: {failed[0].message})",
            evidence,
        )
    return Seen(
        True,
        f"Every check of step {target_id} passes ({len(results)} of {len(results)}).",
        evidence,
    )


def _targets(call: Call) -> list[ContainerInfo]:
    image, name = call.args.get("image"), call.args.get("name")
    found = call.ctx.snapshot.matching(
        image=str(image) if image is not None else None,
        name=str(name) if name is not None else None,
    )
    return prefer_lesson(found, call.ctx.lesson.id, call.ctx.lesson.steps_until(call.step.id))


def _running_targets(call: Call) -> list[ContainerInfo]:
    return [c for c in _targets(call) if c.running]


def _what(call: Call) -> str:
    """``container from nginx:latest``, ``container named web`` or both."""
    image, name = call.args.get("image"), call.args.get("name")
    if name is not None and image is not None:
        return f"container named {name} from {_familiar(str(image))}"
    if name is not None:
        return f"container named {name}"
    return f"container from {_familiar(str(image))}"


def _not_running(call: Call, found: Sequence[ContainerInfo]) -> str:
    """Why no target runs, as a sentence without its final period."""
    if not found:
        return f"There is no {_what(call)}"
    return f"No {_what(call)} is running ({_states(found)})"


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


def _run_in(
    call: Call,
    containers: Sequence[ContainerInfo],
    argv: list[str],
    accept: Callable[[ExecResult], bool],
) -> list[tuple[ContainerInfo, ExecResult | str]]:
    """``argv`` run in the likeliest container, then, unless ``accept`` takes its result,
    in the others at once: each result, or why it could not run, in container order."""

    def one(container: ContainerInfo) -> ExecResult | str:
        try:
            return call.ctx.engine.exec(container.name, argv, timeout=call.left())
        except DockdojoError as exc:
            return exc.what

    if not containers:
        return []
    first = [(containers[0], one(containers[0]))]
    if len(containers) == 1 or (not isinstance(first[0][1], str) and accept(first[0][1])):
        return first
    rest = containers[1:]
    jobs = [functools.partial(one, c) for c in rest]
    out: list[tuple[ContainerInfo, ExecResult | str]] = first
    for container, outcome in zip(rest, bounded(call.ctx.engine, jobs, call.left()), strict=True):
        if isinstance(outcome, TimedOut):
            out.append((container, f"{argv[0]} did not finish in time."))
        elif isinstance(outcome, BaseException):
            out.append((container, as_error(outcome, "").what))
        else:
            out.append((container, outcome))
    return out


def _port(value: Any) -> str:
    text = str(value).strip()
    return text if "/" in text else f"{text}/tcp"


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


def _familiar(ref: str) -> str:
    try:
        return normalize(ref)
    except InvalidReference:
        return ref


def _records(containers: Sequence[ContainerInfo]) -> list[dict[str, Any]]:
    return [
        {
            "id": c.short_id,
            "name": c.name,
            "image": c.image,
            "state": c.state,
            "ports": [f"{p.host_port}->{p.container_port}" for p in c.ports],
        }
        for c in containers[:10]
    ]


def _link_record(container: ContainerInfo, link: PortLink) -> dict[str, Any]:
    return {
        "container": container.name,
        "host_ip": link.host_ip,
        "host_port": link.host_port,
        "url": link.url,
    }


def _states(containers: Sequence[ContainerInfo], *, state: bool = True) -> str:
    return few(
        [
            f"{c.name} ({c.state})" if state else f"{c.name} ({_familiar(c.image)})"
            for c in containers
        ],
        limit=5,
    )


# the table ----------------------------------------------------------------------------
_TARGET = (
    Param("image", "str", doc="a container created from this image"),
    Param("name", "str", doc="the container with this name"),
)
_PORT = Param("port", "port", doc="container port, default 80")

CHECKS: dict[str, CheckKind] = table(
    [
        CheckKind(
            "image_present",
            "The image is on the engine.",
            _image_present,
            (Param("image", "str", True),),
        ),
        CheckKind(
            "image_absent",
            "The image is not on the engine.",
            _image_absent,
            (Param("image", "str", True),),
        ),
        CheckKind(
            "image_removed",
            "The image was removed: it is gone now, and the engine saw it "
            "arrive earlier (so never pulling it does not count).",
            _image_removed,
            (Param("image", "str", True),),
        ),
        CheckKind(
            "container_running",
            "A container (from the image, or with the name) is running.",
            _container_running,
            _TARGET,
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "port_published",
            "A running container publishes the port on the host.",
            _port_published,
            (
                *_TARGET,
                _PORT,
                Param("random", "bool", doc="the host port must be a random (ephemeral) one"),
            ),
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "http_ok",
            "The container's port link answers HTTP.",
            _http_ok,
            (
                *_TARGET,
                _PORT,
                Param("status", "int", doc="expected status, default 200"),
                Param("contains", "str", doc="text the page must contain"),
            ),
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "command_output",
            "A command run inside the container prints what is expected.",
            _command_output,
            (
                *_TARGET,
                Param("command", "argv", True, "e.g. [redis-cli, GET, test]"),
                Param("expect", "str", doc="the whole output, trimmed"),
                Param("contains", "str", doc="text the output must contain"),
            ),
            one_of=(("image", "name"), ("expect", "contains")),
        ),
        CheckKind(
            "mongo_document",
            "A document matching the filter exists (checked with mongosh).",
            _mongo_document,
            (
                *_TARGET,
                Param("collection", "str", True),
                Param("filter", "map", True),
                Param("db", "str", doc="database, default test"),
            ),
            one_of=(("image", "name"),),
            costly=True,
        ),
        CheckKind(
            "no_container_uses",
            "No container, running or stopped, uses the image.",
            _no_container_uses,
            (Param("image", "str", True),),
        ),
        CheckKind(
            "container_stopped",
            "No matching container is running (stopped or removed).",
            _container_stopped,
            _TARGET,
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "container_absent",
            "No container with the name exists.",
            _container_absent,
            (Param("name", "str", True),),
        ),
        CheckKind(
            "container_removed",
            "A container with the name existed and was removed (the "
            "engine saw it go; never creating it does not count).",
            _container_removed,
            (Param("name", "str", True),),
        ),
        CheckKind(
            "logs_contain",
            "A container's log (stdout and stderr) has a line containing the text.",
            _logs_contain,
            (
                *_TARGET,
                Param("contains", "str", True, "text a log line must contain"),
                Param("tail", "int", doc="how many of the last lines to read, default 200"),
            ),
            one_of=(("image", "name"),),
        ),
        CheckKind(
            "step_done",
            "Every other check of the named step passes.",
            _step_done,
            (Param("step", "str", True, "id of a step in this lesson"),),
        ),
    ]
)
"""Every check kind, in the order lesson authors see them listed."""


__all__ = ["CHECKS", "EPHEMERAL_PORT_MIN", "mongo_script", "parse_mongo_output", "port_link_host"]
