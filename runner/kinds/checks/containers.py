"""Checks of containers: running, stopped, absent, removed, and what their logs say."""

from __future__ import annotations

from typing import Any

from ...errors import DockdojoError
from ...text import plain_text, snippet
from ..base import Call, Seen
from .targets import MAX_TARGETS, _not_running, _records, _states, _targets, _what, by_history


def _container_removed(call: Call) -> Seen:
    name = str(call.args["name"])
    if call.ctx.snapshot.named(name) is not None:
        return Seen(False, f"The container {name} still exists.", {"name": name})
    history = call.ctx.engine.history()
    times = int(call.args.get("times", 1))
    count = sum(n == name for _, n in history.removals)
    never = (
        f"There is no container {name}, but none was ever removed here: it was never "
        f"created ({history.source} shows none removed)."
    )
    if count:
        never = (
            f"There is no container {name}; {history.source} shows {name} removed "
            f"{_times(count)}, and this step asks for {_times(times)}: it removes the "
            f"{name} made after the one removed before. Make it first."
        )
    return by_history(
        history,
        count >= times,
        {"name": name, "removals": count},
        done=f"The container {name} was removed" + (f" ({_times(count)})." if times > 1 else "."),
        unknown=f"There is no container {name}. Whether there was one and it was removed",
        never=never,
    )


def _times(count: int) -> str:
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


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


def _container_exited(call: Call) -> Seen:
    found = _targets(call)
    running = [c for c in found if c.running]
    evidence = {"containers": _records(found)}
    if not found:
        return Seen(False, _not_running(call, found) + ": run one, then stop it.", evidence)
    if running:
        verb = "is" if len(running) == 1 else "are"
        return Seen(False, f"{_states(running, state=False)} {verb} still running.", evidence)
    return Seen(True, f"{_states(found)}: stopped, and still there.", evidence)


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


def _logs_contain(call: Call) -> Seen:
    text = str(call.args["contains"])
    tail = int(call.args.get("tail", 200))
    found = _targets(call)
    if not found:
        return Seen(
            False, f"{_not_running(call, found)}, so there are no logs to read.", {"contains": text}
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
