"""Checks of images: present, absent, removed, and no container using one."""

from __future__ import annotations

from ...text import few, plural
from ..base import Call, Seen
from .targets import _familiar, _records, _states, by_history
from .trust import forged_image


def _image_present(call: Call) -> Seen:
    ref = str(call.args["image"])
    image = call.ctx.snapshot.image(ref)
    forged = forged_image(call, ref, image) if image is not None else None
    if image is not None and forged is not None:
        return Seen(
            False,
            forged,
            {"image": _familiar(ref), "id": image.short_id, "pulled_as": image.digests},
        )
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
    return by_history(
        history,
        any(name and _familiar(name) == ref for _, name in history.arrivals),
        {"image": ref},
        done=f"{ref} was removed and is not on the engine.",
        unknown=f"{ref} is not on the engine. Whether it was here and removed",
        never=f"{ref} is not on the engine, but it was never pulled here "
        f"({history.source} shows no pull of it).",
    )


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
