"""The validators: every check kind of :data:`~dockdojo.runner.specs.CHECKS`, live.

A check reads the engine (images, containers, published ports, HTTP on a port link,
``redis-cli`` or ``mongosh`` run inside a container) and returns a :class:`CheckResult`
that says what it saw. Checks never raise because of the engine's state: an engine that
is down, a container deleted meanwhile, a refused connection or a failing ``mongosh``
all become ``passed=False`` with a sentence saying so.

Work is accepted however it was done (widgets, docker CLI, Docker Desktop): containers
are found by image and/or name, never by dockdojo labels (see :mod:`.snapshot`).

One call (:func:`run_checks`, and the helpers built on it) takes a single snapshot of
images and containers, shares it across its checks, and runs the checks concurrently,
each in its own worker thread with its own SDK client and a time limit.
"""

from __future__ import annotations

import functools
import http.client
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

import requests
from docker.errors import DockerException

from .engine import Engine
from .errors import DockdojoError, EngineUnavailable, InvalidReference
from .lesson import CheckSpec, Lesson, Step
from .models import ContainerInfo, ExecResult, PortLink
from .refs import normalize
from .report import CheckResult, LessonReport, StepReport
from .snapshot import Snapshot, prefer_lesson
from .specs import CHECKS, problems

DEFAULT_TIMEOUT = 10.0
"""Seconds one check may take before it fails as too slow."""
HTTP_TIMEOUT = 3.0
"""Seconds an HTTP request to a port link may take."""
EPHEMERAL_PORT_MIN = 32768
"""Lowest host port Docker hands out when asked for a random one (Linux's default)."""
BACKSTOP = 0.5
"""Seconds a worker is awaited beyond its check's time limit: HTTP and engine calls have
limits of their own, whose messages say more, so they should end it first."""
MAX_PARALLEL = 16
"""Checks run at the same time, at most."""
MAX_TARGETS = 5
"""Containers a command is tried in, at most, when several match."""
SNIPPET = 200
"""Characters of output or page text kept as evidence."""

FOUND_MARK = "dockdojo:found "
NONE_MARK = "dockdojo:none"

_ENGINE_FAILURES = (DockdojoError, DockerException, requests.RequestException, OSError,
                    http.client.HTTPException)

T = TypeVar("T")


class Seen(NamedTuple):
    """What one check saw, before points and timing are added."""

    passed: bool
    message: str
    evidence: dict[str, Any]


@dataclass
class _Context:
    """What the checks of one run share."""

    engine: Engine
    lesson: Lesson
    snapshot: Snapshot
    timeout: float
    results: dict[int, CheckResult] = field(default_factory=dict)
    """Results so far, by ``id()`` of their CheckSpec, for ``step_done``."""
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Call:
    """One check being evaluated in a worker thread."""

    ctx: _Context
    step: Step
    spec: CheckSpec
    deadline: float = 0.0
    visiting: tuple[str, ...] = ()

    @property
    def args(self) -> Mapping[str, Any]:
        return self.spec.args

    def left(self) -> float:
        """Seconds left for this check (at least a little, so calls can fail cleanly)."""
        return round(max(0.5, self.deadline - time.monotonic()), 1)


Checker = Callable[[_Call], Seen]


# public API -------------------------------------------------------------------------
def run_check(engine: Engine, lesson: Lesson, step: Step, spec: CheckSpec, *,
              timeout: float = DEFAULT_TIMEOUT, snapshot: Snapshot | None = None) -> CheckResult:
    """Run one check of ``step`` against the live engine."""
    return run_checks(engine, lesson, [(step, spec)], timeout=timeout, snapshot=snapshot)[0]


def run_step_checks(engine: Engine, lesson: Lesson, step: Step, *,
                    timeout: float = DEFAULT_TIMEOUT,
                    snapshot: Snapshot | None = None) -> list[CheckResult]:
    """Run every check of ``step``, in declaration order."""
    return run_checks(engine, lesson, [(step, c) for c in step.checks], timeout=timeout,
                      snapshot=snapshot)


def check_lesson(engine: Engine, lesson: Lesson, step_ids: Sequence[str] | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT) -> LessonReport:
    """Check the steps ``step_ids`` (default: all) of ``lesson`` against the engine.

    Raises :class:`DockdojoError` only for a step id the lesson does not have.
    """
    started = time.monotonic()
    steps = select_steps(lesson, step_ids)
    chosen = {s.id for s in steps}
    extra = [lesson.step(i) for i in dict.fromkeys(s.undone_by for s in steps if s.undone_by)
             if i not in chosen]
    items = [(s, c) for s in [*steps, *extra] for c in s.checks]
    results = run_checks(engine, lesson, items, timeout=timeout)
    by_step: dict[str, list[CheckResult]] = {}
    for (step, _), result in zip(items, results, strict=True):
        by_step.setdefault(step.id, []).append(result)
    reports = []
    for step in steps:
        mine = by_step.get(step.id, [])
        undoer = by_step.get(step.undone_by, []) if step.undone_by else []
        if undoer and all(r.passed for r in undoer):
            mine = [r if r.passed else _undone(r, step.undone_by) for r in mine]
        reports.append(StepReport(step.id, step.title, tuple(mine), seconds=max(
            (r.seconds for r in mine), default=0.0)))
    return LessonReport(lesson.id, lesson.title, tuple(reports), mode="check",
                        engine=engine.host, seconds=time.monotonic() - started)


def _undone(result: CheckResult, by: str) -> CheckResult:
    """A check a later step made fail on purpose: done, with what was seen and why."""
    return replace(result, passed=True, points=result.max_points,
                   message=f"Done earlier; step {by} has since undone it, as the guide asks "
                           f"(now: {result.message})",
                   evidence={**result.evidence, "undone_by": by})


def run_checks(engine: Engine, lesson: Lesson, items: Sequence[tuple[Step, CheckSpec]], *,
               timeout: float = DEFAULT_TIMEOUT,
               snapshot: Snapshot | None = None) -> list[CheckResult]:
    """Run checks concurrently over one shared snapshot; results in the order of ``items``.

    ``step_done`` checks are decided after the checks they depend on, which run in the
    same batch even when ``items`` does not list them.
    """
    started = time.monotonic()
    if snapshot is None:
        taken = _bounded(engine, [lambda: Snapshot.take(engine)], timeout)[0]
        if not isinstance(taken, Snapshot):
            error = _as_error(taken, f"Reading the engine's images and containers took more "
                                     f"than {timeout:g} s.")
            took = time.monotonic() - started
            return [_failed(step, spec, error.what, error.hint or spec.hint, took)
                    for step, spec in items]
        snapshot = taken
    ctx = _Context(engine, lesson, snapshot, timeout)
    plain = _with_dependencies(lesson, items)
    _run_plain(ctx, plain)
    out = []
    for step, spec in items:
        if spec.kind == "step_done":
            out.append(_evaluate(_Call(ctx, step, spec, time.monotonic() + timeout)))
        else:
            out.append(ctx.results[id(spec)])
    return out


def select_steps(lesson: Lesson, step_ids: Sequence[str] | None) -> list[Step]:
    """The lesson's steps named by ``step_ids`` (all when None), in lesson order."""
    if not step_ids:
        return list(lesson.steps)
    known = {s.id for s in lesson.steps}
    unknown = [s for s in step_ids if s not in known]
    if unknown:
        raise DockdojoError(
            f"Lesson {lesson.id} has no step {', '.join(repr(s) for s in unknown)}.",
            f"Its steps are: {', '.join(s.id for s in lesson.steps) or 'none'}.")
    wanted = set(step_ids)
    return [s for s in lesson.steps if s.id in wanted]


# running ----------------------------------------------------------------------------
def _with_dependencies(lesson: Lesson,
                       items: Iterable[tuple[Step, CheckSpec]]) -> list[tuple[Step, CheckSpec]]:
    """The non-``step_done`` checks of ``items`` plus those their ``step_done`` need."""
    steps = {s.id: s for s in lesson.steps}
    out: dict[int, tuple[Step, CheckSpec]] = {}
    todo = list(items)
    seen_steps: set[str] = set()
    while todo:
        step, spec = todo.pop(0)
        if spec.kind != "step_done":
            out.setdefault(id(spec), (step, spec))
            continue
        target = steps.get(str(spec.args.get("step", "")))
        if target is not None and target.id not in seen_steps:
            seen_steps.add(target.id)
            todo.extend((target, c) for c in target.checks)
    return list(out.values())


def _run_plain(ctx: _Context, items: list[tuple[Step, CheckSpec]]) -> None:
    for start in range(0, len(items), MAX_PARALLEL):
        batch = items[start:start + MAX_PARALLEL]
        jobs = [_job(ctx, step, spec) for step, spec in batch]
        begun = time.monotonic()
        outcomes = _bounded(ctx.engine, jobs, ctx.timeout + BACKSTOP)
        for (step, spec), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, CheckResult):
                ctx.results[id(spec)] = outcome
            elif isinstance(outcome, _TimedOut):
                ctx.results[id(spec)] = _failed(
                    step, spec, f"The {spec.kind} check did not finish within "
                    f"{ctx.timeout:g} s: the engine, or a command inside a container, is "
                    "slow or stuck.", spec.hint, time.monotonic() - begun,
                    {"timeout": ctx.timeout})
            else:
                raise outcome


def _job(ctx: _Context, step: Step, spec: CheckSpec) -> Callable[[], CheckResult]:
    return lambda: _evaluate(_Call(ctx, step, spec, time.monotonic() + ctx.timeout))


class _TimedOut:
    """A worker that was still busy when its time was up."""


def _bounded(engine: Engine, jobs: Sequence[Callable[[], T]],
             timeout: float) -> list[T | BaseException | _TimedOut]:
    """Run ``jobs`` at once, one daemon thread each; wait at most ``timeout`` for each.

    A worker closes its own SDK clients when it ends (the engine keeps one per thread).
    A worker that overruns is left to finish on its own and its result is dropped: a
    thread cannot be stopped, and a command read from ``docker exec`` has no time limit
    of its own in the SDK.
    """
    slots: list[T | BaseException | _TimedOut] = [_TimedOut() for _ in jobs]

    def work(index: int, job: Callable[[], T]) -> None:
        try:
            slots[index] = job()
        except BaseException as exc:  # handed to the caller, which re-raises or reports it
            slots[index] = exc
        finally:
            engine.close()

    threads = [threading.Thread(target=work, args=(i, job), daemon=True,
                                name=f"dockdojo-check-{i}") for i, job in enumerate(jobs)]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return list(slots)


def _as_error(outcome: object, slow: str) -> DockdojoError:
    if isinstance(outcome, DockdojoError):
        return outcome
    if isinstance(outcome, _TimedOut):
        return DockdojoError(slow, "The engine may be busy or stuck; try again, or restart "
                                   "Docker.")
    if isinstance(outcome, _ENGINE_FAILURES):
        return DockdojoError(f"The engine could not be read ({outcome}).",
                             "Check that Docker is running, then try again.")
    raise outcome if isinstance(outcome, BaseException) else TypeError(outcome)


def _evaluate(call: _Call) -> CheckResult:
    started = time.monotonic()
    spec, step = call.spec, call.step
    checker = CHECKERS.get(spec.kind)
    if checker is None:
        return _failed(step, spec, f"dockdojo has no check named {spec.kind!r} (it knows "
                       f"{', '.join(sorted(CHECKERS))}).", "Fix the lesson's check.", 0.0)
    wrong = problems(CHECKS[spec.kind], spec.args)
    if wrong:
        return _failed(step, spec, "The check is declared wrongly: " + "; ".join(wrong) + ".",
                       "Fix the lesson's check declaration.", 0.0)
    try:
        seen = checker(call)
    except EngineUnavailable as exc:
        return _failed(step, spec, exc.what, exc.hint, time.monotonic() - started)
    except DockdojoError as exc:
        return _failed(step, spec, exc.what, spec.hint, time.monotonic() - started)
    except _ENGINE_FAILURES as exc:
        return _failed(step, spec, f"The {spec.kind} check could not read the engine: "
                       f"{_short(str(exc) or type(exc).__name__)}", spec.hint,
                       time.monotonic() - started)
    return CheckResult(
        step=step.id, kind=spec.kind, passed=seen.passed, message=seen.message,
        hint=spec.hint, evidence=seen.evidence, points=spec.points if seen.passed else 0,
        max_points=spec.points, seconds=time.monotonic() - started, line=spec.line)


def _failed(step: Step, spec: CheckSpec, message: str, hint: str, seconds: float,
            evidence: Mapping[str, Any] | None = None) -> CheckResult:
    return CheckResult(step=step.id, kind=spec.kind, passed=False, message=message, hint=hint,
                       evidence=dict(evidence or {}), points=0, max_points=spec.points,
                       seconds=seconds, line=spec.line)


# the checks -------------------------------------------------------------------------
def _image_present(call: _Call) -> Seen:
    ref = str(call.args["image"])
    image = call.ctx.snapshot.image(ref)
    if image is not None:
        return Seen(True, f"{_familiar(ref)} is on the engine (image {image.short_id}).",
                    {"image": _familiar(ref), "id": image.short_id})
    local = call.ctx.snapshot.tags()
    return Seen(False, f"{_familiar(ref)} is not on the engine"
                + (f" (it has: {_few(local)})." if local else " (it has no images)."),
                {"image": _familiar(ref), "local_images": local[:10]})


def _image_absent(call: _Call) -> Seen:
    ref = str(call.args["image"])
    image = call.ctx.snapshot.image(ref)
    if image is None:
        return Seen(True, f"{_familiar(ref)} is not on the engine.", {"image": _familiar(ref)})
    users = call.ctx.snapshot.users(ref)
    used = (f", used by {_count(users, 'container')}: {_states(users)}" if users else "")
    return Seen(False, f"{_familiar(ref)} is still on the engine (image {image.short_id}"
                f"{used}).", {"image": _familiar(ref), "id": image.short_id,
                              "containers": _records(users)})


def _image_removed(call: _Call) -> Seen:
    absent = _image_absent(call)
    if not absent.passed:
        return absent
    ref = _familiar(str(call.args["image"]))
    arrivals = [name for _, name in call.ctx.engine.image_arrivals()
                if name and _familiar(name) == ref]
    if not arrivals:
        return Seen(False, f"{ref} is not on the engine, but the engine did not see it removed: "
                           "it was never pulled here (or the engine restarted since).",
                    {"image": ref, "removed": False})
    return Seen(True, f"{ref} was removed and is not on the engine.",
                {"image": ref, "removed": True})


def _container_removed(call: _Call) -> Seen:
    name = str(call.args["name"])
    if call.ctx.snapshot.named(name) is not None:
        return Seen(False, f"The container {name} still exists.", {"name": name})
    if not any(n == name for _, n in call.ctx.engine.container_removals()):
        return Seen(False, f"There is no container {name}, but the engine did not see one "
                           "removed: it was never created here (or the engine restarted since).",
                    {"name": name, "removed": False})
    return Seen(True, f"The container {name} was removed.", {"name": name, "removed": True})


def _container_running(call: _Call) -> Seen:
    found = _targets(call)
    running = [c for c in found if c.running]
    evidence = {"containers": _records(found)}
    if running:
        verb = "is" if len(running) == 1 else "are"
        return Seen(True, f"{_states(running, state=False)} {verb} running.", evidence)
    return Seen(False, _not_running(call, found) + ".", evidence)


def _container_stopped(call: _Call) -> Seen:
    found = _targets(call)
    running = [c for c in found if c.running]
    evidence = {"containers": _records(found)}
    if running:
        verb = "is" if len(running) == 1 else "are"
        return Seen(False, f"{_states(running, state=False)} {verb} still running.", evidence)
    if not found:
        return Seen(True, f"No {_what(call)} is running (there is none).", evidence)
    return Seen(True, f"No {_what(call)} is running ({_states(found)}).", evidence)


def _container_absent(call: _Call) -> Seen:
    name = str(call.args["name"])
    container = call.ctx.snapshot.named(name)
    if container is None:
        return Seen(True, f"There is no container named {name}.", {"name": name})
    return Seen(False, f"A container named {name} still exists (it is {container.state}).",
                {"containers": _records([container])})


def _port_published(call: _Call) -> Seen:
    port = _port(call.args.get("port", 80))
    links, seen = _links(call, port)
    if not links:
        return seen
    evidence = {"port": port, "links": [_link_record(c, p) for c, p in links]}
    if call.args.get("random"):
        randoms = [(c, p) for c, p in links if p.host_port >= EPHEMERAL_PORT_MIN]
        if not randoms:
            c, p = links[0]
            return Seen(False, f"{c.name} publishes {port} on host port {p.host_port}, which "
                        f"is not a random one (Docker picks random host ports from "
                        f"{EPHEMERAL_PORT_MIN} up, when the host port is 0 or empty).",
                        evidence)
        links = randoms
    c, p = links[0]
    return Seen(True, f"{c.name} publishes {port} on host port {p.host_port} ({p.url}).",
                evidence)


def _http_ok(call: _Call) -> Seen:
    port = _port(call.args.get("port", 80))
    status = int(call.args.get("status", 200))
    contains = call.args.get("contains")
    links, seen = _links(call, port)
    if not links:
        return seen
    tried: list[dict[str, Any]] = []
    message = ""
    for container, link in links[:MAX_TARGETS]:
        url = f"http://{_http_host(call.ctx.snapshot.host, link)}:{link.host_port}/"
        record: dict[str, Any] = {"url": url, "container": container.name}
        tried.append(record)
        try:
            got, body = _get(url, min(HTTP_TIMEOUT, call.left()))
        except (OSError, http.client.HTTPException) as exc:
            record["error"] = _short(str(exc) or type(exc).__name__)
            message = message or (f"{url} ({container.name}) could not be reached "
                                  f"({record['error']}).")
            continue
        record.update(status=got, snippet=_snippet(body))
        if got != status:
            message = message or f"{url} ({container.name}) answered {got}, not {status}."
        elif contains is not None and str(contains) not in body:
            message = message or (f"{url} ({container.name}) answered {got} but the page does "
                                  f"not contain {str(contains)!r}.")
        else:
            found = f" and contains {str(contains)!r}" if contains is not None else ""
            more = {"tried": tried} if len(tried) > 1 else {}
            return Seen(True, f"{url} ({container.name}) answered {got}{found}.",
                        {"port": port, **record, **more})
    return Seen(False, message, {"port": port, "tried": tried})


def _command_output(call: _Call) -> Seen:
    argv = [str(a) for a in call.args["command"]]
    expect, contains = call.args.get("expect"), call.args.get("contains")
    shown = " ".join(argv)
    running = _running_targets(call)
    if not running:
        return Seen(False, f"{_not_running(call, _targets(call))}, so `{shown}` could not run.",
                    {"command": argv, "containers": _records(_targets(call))})
    runs: list[dict[str, Any]] = []
    message = ""
    for container, result in _run_in(call, running[:MAX_TARGETS], argv,
                                     lambda r: _output_ok(r.output, expect, contains)):
        if isinstance(result, str):
            runs.append({"container": container.name, "error": result})
            message = message or f"`{shown}` could not run in {container.name}: {result}"
            continue
        out = result.output.strip()
        runs.append({"container": container.name, "exit_code": result.exit_code,
                     "output": _snippet(out)})
        if expect is not None and out != str(expect).strip():
            message = message or (f"`{shown}` in {container.name} printed {_snippet(out)!r}, "
                                  f"not {str(expect).strip()!r}.")
        elif contains is not None and str(contains) not in out:
            message = message or (f"`{shown}` in {container.name} printed {_snippet(out)!r}, "
                                  f"which does not contain {str(contains)!r}.")
        else:
            return Seen(True, f"`{shown}` in {container.name} printed {_snippet(out)!r}.",
                        {"command": argv, "runs": runs})
    return Seen(False, message, {"command": argv, "runs": runs})


def _output_ok(output: str, expect: object, contains: object) -> bool:
    out = output.strip()
    return ((expect is None or out == str(expect).strip())
            and (contains is None or str(contains) in out))


def mongo_script(collection: str, filter_: Mapping[str, Any], db: str = "test") -> str:
    """The mongosh program that prints the first document matching ``filter_``.

    Every value is embedded as JSON, which is a valid JavaScript literal, so nothing a
    lesson declares can change the program's shape.
    """
    target = f"db.getSiblingDB({json.dumps(db)}).getCollection({json.dumps(collection)})"
    return (f"const found = {target}.findOne({json.dumps(dict(filter_), default=str)}); "
            f"print(found === null ? {json.dumps(NONE_MARK)} : "
            f"{json.dumps(FOUND_MARK)} + EJSON.stringify(found));")


def _mongo_document(call: _Call) -> Seen:
    db = str(call.args.get("db", "test"))
    collection = str(call.args["collection"])
    filter_ = dict(call.args["filter"])
    where = f"{db}.{collection}"
    shown_filter = json.dumps(filter_, default=str)
    running = _running_targets(call)
    evidence: dict[str, Any] = {"db": db, "collection": collection, "filter": filter_}
    if not running:
        return Seen(False, f"{_not_running(call, _targets(call))}, so mongosh could not look "
                    f"for the document.", {**evidence, "containers": _records(_targets(call))})
    argv = ["mongosh", "--quiet", "--eval", mongo_script(collection, filter_, db)]
    runs: list[dict[str, Any]] = []
    message = ""
    for container, result in _run_in(call, running[:MAX_TARGETS], argv,
                                     lambda r: parse_mongo_output(r.output)[0] is not None):
        if isinstance(result, str):
            runs.append({"container": container.name, "error": result})
            message = message or f"mongosh could not run in {container.name}: {result}"
            continue
        document, said = parse_mongo_output(result.output)
        runs.append({"container": container.name, "exit_code": result.exit_code,
                     "output": _snippet(document or said)})
        if document is not None:
            return Seen(True, f"mongosh found a document in {where} matching {shown_filter} "
                        f"in {container.name}: {_snippet(document)}",
                        {**evidence, "document": _snippet(document), "runs": runs})
        if said is None:
            message = message or (f"mongosh found no document in {where} matching "
                                  f"{shown_filter} in {container.name}.")
        else:
            message = message or f"mongosh in {container.name} failed: {said}"
    return Seen(False, message, {**evidence, "runs": runs})


def parse_mongo_output(output: str) -> tuple[str | None, str | None]:
    """``(document, None)`` when found, ``(None, None)`` when none matched, else
    ``(None, what mongosh said)`` (an error, e.g. the server is not listening yet)."""
    for line in output.splitlines():
        if line.startswith(FOUND_MARK):
            return line[len(FOUND_MARK):].strip(), None
        if line.strip() == NONE_MARK:
            return None, None
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "Error" in ln or "error" in ln]
    return None, _short((errors or lines or ["it printed nothing"])[-1])


def _no_container_uses(call: _Call) -> Seen:
    ref = str(call.args["image"])
    users = call.ctx.snapshot.users(ref)
    evidence = {"image": _familiar(ref), "containers": _records(users)}
    if users:
        return Seen(False, f"{_count(users, 'container')} still "
                    f"{'uses' if len(users) == 1 else 'use'} {_familiar(ref)}: "
                    f"{_states(users)}.", evidence)
    return Seen(True, f"No container uses {_familiar(ref)}.", evidence)


def _step_done(call: _Call) -> Seen:
    target_id = str(call.args["step"])
    try:
        target = call.ctx.lesson.step(target_id)
    except KeyError:
        return Seen(False, f"Lesson {call.ctx.lesson.id} has no step {target_id!r} to check.",
                    {"step": target_id})
    if target_id in call.visiting:
        loop = " -> ".join((*call.visiting, target_id))
        return Seen(False, f"step_done checks loop ({loop}), so step {target_id} cannot be "
                    f"decided.", {"step": target_id})
    others = [c for c in target.checks if c is not call.spec]
    if not others:
        return Seen(False, f"Step {target_id} has no other checks to pass.",
                    {"step": target_id})
    chain = (*call.visiting, target_id)
    results = [_dependency(call, target, spec, chain) for spec in others]
    failed = [r for r in results if not r.passed]
    evidence = {"step": target_id, "passed": len(results) - len(failed), "total": len(results),
                "failed": [f"{r.kind}: {r.message}" for r in failed][:5]}
    if failed:
        return Seen(False, f"Step {target_id} is not done: {len(failed)} of {len(results)} "
                    f"checks fail ({failed[0].kind}: {failed[0].message})", evidence)
    return Seen(True, f"Every check of step {target_id} passes ({len(results)} of "
                f"{len(results)}).", evidence)


def _dependency(call: _Call, step: Step, spec: CheckSpec, chain: tuple[str, ...]) -> CheckResult:
    """The result of ``spec`` (of ``step``), which a ``step_done`` check depends on.

    ``chain`` lists the steps whose checks are being expanded, so loops end.
    """
    if spec.kind == "step_done":
        return _evaluate(_Call(call.ctx, step, spec, call.deadline, chain))
    with call.ctx.lock:
        known = call.ctx.results.get(id(spec))
    if known is None:
        known = _evaluate(_Call(call.ctx, step, spec, call.deadline))
        with call.ctx.lock:
            call.ctx.results[id(spec)] = known
    return known


CHECKERS: dict[str, Checker] = {
    "image_present": _image_present,
    "image_absent": _image_absent,
    "image_removed": _image_removed,
    "container_running": _container_running,
    "port_published": _port_published,
    "http_ok": _http_ok,
    "command_output": _command_output,
    "mongo_document": _mongo_document,
    "no_container_uses": _no_container_uses,
    "container_stopped": _container_stopped,
    "container_absent": _container_absent,
    "container_removed": _container_removed,
    "step_done": _step_done,
}
"""Every check kind of :data:`~dockdojo.runner.specs.CHECKS`, by name."""


# helpers ----------------------------------------------------------------------------
def _targets(call: _Call) -> list[ContainerInfo]:
    image, name = call.args.get("image"), call.args.get("name")
    found = call.ctx.snapshot.matching(image=str(image) if image is not None else None,
                                       name=str(name) if name is not None else None)
    return prefer_lesson(found, call.ctx.lesson.id, _steps_until(call.ctx.lesson, call.step))


def _steps_until(lesson: Lesson, step: Step) -> list[str]:
    """Ids of the lesson's steps up to and including ``step``."""
    ids = [s.id for s in lesson.steps]
    return ids[:ids.index(step.id) + 1] if step.id in ids else [step.id]


def _running_targets(call: _Call) -> list[ContainerInfo]:
    return [c for c in _targets(call) if c.running]


def _what(call: _Call) -> str:
    """``container from nginx:latest``, ``container named web`` or both."""
    image, name = call.args.get("image"), call.args.get("name")
    if name is not None and image is not None:
        return f"container named {name} from {_familiar(str(image))}"
    if name is not None:
        return f"container named {name}"
    return f"container from {_familiar(str(image))}"


def _not_running(call: _Call, found: Sequence[ContainerInfo]) -> str:
    """Why no target runs, as a sentence without its final period."""
    if not found:
        return f"There is no {_what(call)}"
    return f"No {_what(call)} is running ({_states(found)})"


def _links(call: _Call, port: str) -> tuple[list[tuple[ContainerInfo, PortLink]], Seen]:
    """Running targets' links for ``port``, or (empty, the failure to report)."""
    found = _targets(call)
    running = [c for c in found if c.running]
    if not running:
        return [], Seen(False, f"{_not_running(call, found)}, so no port is published.",
                        {"port": port, "containers": _records(found)})
    links = [(c, p) for c in running for p in c.ports if p.container_port == port]
    if links:
        return links, Seen(True, "", {})
    c = running[0]
    others = sorted({f"{p.container_port} on {p.host_port}" for p in c.ports})
    also = f" (it publishes {', '.join(others)})" if others else " (it publishes no port)"
    more = f" nor do {len(running) - 1} other matching containers" if len(running) > 1 else ""
    return [], Seen(False, f"{c.name} runs but does not publish {port} on the host{also}"
                    f"{more}.", {"port": port, "containers": _records(running)})


def _run_in(call: _Call, containers: Sequence[ContainerInfo], argv: list[str],
            accept: Callable[[ExecResult], bool]) -> list[tuple[ContainerInfo, ExecResult | str]]:
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
    for container, outcome in zip(rest, _bounded(call.ctx.engine, jobs, call.left()),
                                  strict=True):
        if isinstance(outcome, _TimedOut):
            out.append((container, f"{argv[0]} did not finish in time."))
        elif isinstance(outcome, BaseException):
            out.append((container, _as_error(outcome, "").what))
        else:
            out.append((container, outcome))
    return out


def _port(value: Any) -> str:
    text = str(value).strip()
    return text if "/" in text else f"{text}/tcp"


def _http_host(engine_host: str, link: PortLink) -> str:
    """Where a published port is reached: the engine's host for a remote engine, else
    the loopback (or the one address the port is bound to)."""
    parts = urlsplit(engine_host)
    if parts.scheme in ("tcp", "http", "https", "ssh") and parts.hostname:
        return parts.hostname
    if link.host_ip not in ("", "0.0.0.0", "::", "127.0.0.1"):
        return link.host_ip
    return "127.0.0.1"


def _get(url: str, timeout: float) -> tuple[int, str]:
    """GET ``url`` (no proxy, no redirects): status and up to 1 MB of text."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port,
                                      timeout=timeout)
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
    return [{"id": c.short_id, "name": c.name, "image": c.image, "state": c.state,
             "ports": [f"{p.host_port}->{p.container_port}" for p in c.ports]}
            for c in containers[:10]]


def _link_record(container: ContainerInfo, link: PortLink) -> dict[str, Any]:
    return {"container": container.name, "host_ip": link.host_ip,
            "host_port": link.host_port, "url": link.url}


def _states(containers: Sequence[ContainerInfo], *, state: bool = True) -> str:
    shown = [f"{c.name} ({c.state})" if state else f"{c.name} ({_familiar(c.image)})"
             for c in containers[:5]]
    more = f" and {len(containers) - 5} more" if len(containers) > 5 else ""
    return ", ".join(shown) + more


def _count(items: Sequence[object], noun: str) -> str:
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''}"


def _few(names: Sequence[str]) -> str:
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")


def _snippet(text: str | None) -> str:
    text = (text or "").strip()
    return text if len(text) <= SNIPPET else text[:SNIPPET - 3] + "..."


def _short(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else text
    return line if len(line) <= 160 else line[:157] + "..."


__all__ = [
    "CHECKERS",
    "DEFAULT_TIMEOUT",
    "EPHEMERAL_PORT_MIN",
    "CheckResult",
    "LessonReport",
    "Seen",
    "Snapshot",
    "StepReport",
    "check_lesson",
    "mongo_script",
    "parse_mongo_output",
    "run_check",
    "run_checks",
    "run_step_checks",
    "select_steps",
]
