"""Checks about the lesson itself: another step done."""

from __future__ import annotations

from ..base import Call, Seen


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
