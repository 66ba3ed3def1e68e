"""Checks that run a command inside a container: its output (``redis-cli``), or a
document found with ``mongosh``. Commands are argv lists, never shell strings, and run
only where :mod:`.trust` believes their output, with the environment it gives."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from ...engine import ContainerInfo, ExecResult
from ...errors import DockdojoError
from ...text import shorten, snippet
from ..base import Call, Seen, TimedOut, as_error, bounded
from .targets import MAX_TARGETS, _not_running, _records, _running_targets, _targets
from .trust import command_env

FOUND_MARK = "dockdojo:found "


NONE_MARK = "dockdojo:none"


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
        if isinstance(result, Distrusted):
            runs.append({"container": container.name, "untrusted": result.why})
            message = message or result.why
            continue
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
        if isinstance(result, Distrusted):
            runs.append({"container": container.name, "untrusted": result.why})
            message = message or result.why
            continue
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


class Distrusted(NamedTuple):
    """A command whose output would prove nothing in that container (:mod:`.trust`)."""

    why: str
    """Why, and what to do, as sentences."""


Outcome = ExecResult | Distrusted | str
"""A command's result, why it is not believed, or why it could not run."""


def _run_in(
    call: Call,
    containers: Sequence[ContainerInfo],
    argv: list[str],
    accept: Callable[[ExecResult], bool],
) -> list[tuple[ContainerInfo, Outcome]]:
    """``argv`` run in the likeliest container, then, unless ``accept`` takes its result,
    in the others at once: each result, or why it could not run or is not believed, in
    container order. Each runs only where :func:`.trust.command_env` trusts it, with the
    environment it gives."""
    shown = " ".join(argv) if argv[0] != "mongosh" else "mongosh"

    def one(container: ContainerInfo) -> Outcome:
        try:
            env = command_env(call, container, argv[0], shown)
            if isinstance(env, str):
                return Distrusted(env)
            return call.ctx.engine.exec(container.name, argv, timeout=call.left(), env=env)
        except DockdojoError as exc:
            return exc.what

    if not containers:
        return []
    first = [(containers[0], one(containers[0]))]
    if len(containers) == 1 or (isinstance(first[0][1], ExecResult) and accept(first[0][1])):
        return first
    rest = containers[1:]
    jobs = [functools.partial(one, c) for c in rest]
    out: list[tuple[ContainerInfo, Outcome]] = first
    for container, outcome in zip(rest, bounded(call.ctx.engine, jobs, call.left()), strict=True):
        if isinstance(outcome, TimedOut):
            out.append((container, f"{argv[0]} did not finish in time."))
        elif isinstance(outcome, BaseException):
            out.append((container, as_error(outcome, "").what))
        else:
            out.append((container, outcome))
    return out
