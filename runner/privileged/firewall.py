"""Each learner's published ports on an address of their own, open to them alone.

A rootless engine publishes a container's port on the host (rootlesskit's port driver
listens there for it), so on a shared server every user could reach every learner's
nginx on ``127.0.0.1``. In a room, each learner's engine publishes on a loopback
address of their own, ``127.77.H.L`` from their uid (:func:`address`; the engine's
``ip`` setting, and ``DOCKDOJO_HOST_IP`` for the widgets), and a rule of the host's
firewall lets only the learner's own uid and root (the instructor's view and the
grader, which check it) connect to that address. Everyone else's connection is refused,
whether it comes from their kernel, a terminal, or their server's port proxy.

A learner cannot publish on another address by naming it (``-p 127.0.0.1:8080:80``): the
engine's authorization plugin (:mod:`.authz`) refuses it with a sentence saying why.

An engine reaches the host only at the room mirror's port (:func:`confine_engine`).
slirp4netns, which carries the engine's outgoing connections, turns ``10.0.2.2`` into
the host's ``127.0.0.1``, and any host address is reachable through it; so every new
connection the engine's cgroup (``-m cgroup --path``: rootlesskit, slirp4netns, dockerd
and every container) opens to an address of this host is refused, but the one to
``127.0.0.1:MIRROR``. Answers on connections made to it (its published ports) pass.

The rules live in the ``DOCKDOJO-PORTS`` chain, jumped to from ``OUTPUT`` (where
loopback connections are decided); they are added when the engine starts and removed
when it ends.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from ..errors import HostError
from .run import locked, run, which

CHAIN = "DOCKDOJO-PORTS"
"""The firewall chain of the rooms' rules."""
PREFIX = (127, 77)
"""The first two bytes of the learners' addresses."""
LOCK = Path("/run/dockdojo/firewall.lock")
"""Held while rules change: the chain goes with its last rule, and must not go while
another engine adds its own."""


def address(uid: int) -> str:
    """The loopback address of the learner with ``uid``."""
    if not 0 < uid < 65536:
        raise HostError(
            f"uid {uid} is outside 1-65535, so it has no port address of its own.",
            "Give learners user ids below 65536 (useradd's default range).",
        )
    return f"{PREFIX[0]}.{PREFIX[1]}.{uid >> 8}.{uid & 255}"


def _iptables(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    program = which("iptables")
    if program is None:
        raise HostError(
            "iptables is missing, so learners' ports cannot be kept apart.",
            "Install it: apt-get install iptables",
        )
    return run(
        [program, "-w", "5", *args],
        hint="The room needs the host's firewall (run as root, with netfilter available).",
        timeout=30,
        check=check,
    )


def rules(addr: str | None = None) -> list[str]:
    """The chain's rules (``-A DOCKDOJO-PORTS ...``), those of ``addr`` only if given."""
    listed = _iptables("-S", CHAIN, check=False)
    if listed.returncode != 0:
        return []
    found = [line for line in listed.stdout.splitlines() if line.startswith("-A ")]
    if addr is not None:
        found = [line for line in found if f" -d {addr}/32 " in line + " "]
    return found


def guard(addr: str, uid: int) -> None:
    """Let only ``uid`` and root connect to ``addr`` (idempotent)."""
    with locked(LOCK):
        _unguard(addr)
        _guard(addr, uid)


def unguard(addr: str) -> None:
    """Remove ``addr``'s rules; the chain goes with the last of them."""
    with locked(LOCK):
        _unguard(addr)


def _engine_rules(cgroup: str, mirror_port: int) -> list[list[str]]:
    """The rules (``iptables -A`` arguments) that keep the engine in ``cgroup`` off the
    host but for the mirror."""
    mine = ["-m", "cgroup", "--path", cgroup, "-m", "addrtype", "--dst-type", "LOCAL"]
    new = ["-m", "conntrack", "--ctstate", "NEW"]
    return [
        [CHAIN, *mine, *new, "-p", "tcp", "-d", "127.0.0.1/32", "--dport", str(mirror_port),
         "-j", "RETURN"],
        [CHAIN, *mine, *new, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"],
        [CHAIN, *mine, *new, "-j", "REJECT"],
    ]  # fmt: skip


def confine_engine(cgroup: str, mirror_port: int) -> None:
    """Let the engine whose processes are in ``cgroup`` (a unified-hierarchy path, which
    must exist) open connections to this host only at ``127.0.0.1:mirror_port``
    (idempotent)."""
    with locked(LOCK):
        _release(cgroup)
        _chain()
        for rule in _engine_rules(cgroup, mirror_port):
            _iptables("-A", *rule)


def release_engine(cgroup: str) -> None:
    """Remove the rules of the engine in ``cgroup``; the chain goes with the last rule."""
    with locked(LOCK):
        _release(cgroup)
        _drop_empty_chain()


def _release(cgroup: str) -> None:
    _delete(lambda line: f' --path "{cgroup}" ' in line or f" --path {cgroup} " in line)


def _delete(matches: Callable[[str], bool]) -> None:
    """Delete the chain's rules whose ``-S`` line ``matches``, by number, last first: a
    rule naming a cgroup that is gone cannot be deleted by its text any more."""
    numbers = [n for n, line in enumerate(rules(), start=1) if matches(line + " ")]
    for number in reversed(numbers):
        _iptables("-D", CHAIN, str(number), check=False)


def _chain() -> None:
    if _iptables("-n", "-L", CHAIN, check=False).returncode != 0:
        _iptables("-N", CHAIN, check=False)  # another engine may make it at once
    if _iptables("-C", "OUTPUT", "-j", CHAIN, check=False).returncode != 0:
        _iptables("-I", "OUTPUT", "1", "-j", CHAIN)


def _drop_empty_chain() -> None:
    if not rules() and _iptables("-n", "-L", CHAIN, check=False).returncode == 0:
        _iptables("-D", "OUTPUT", "-j", CHAIN, check=False)
        _iptables("-X", CHAIN, check=False)


def _guard(addr: str, uid: int) -> None:
    _chain()
    for owner in (str(uid), "0"):
        _iptables(
            "-A", CHAIN, "-d", f"{addr}/32", "-m", "owner", "--uid-owner", owner, "-j", "RETURN"
        )
    _iptables(
        "-A", CHAIN, "-d", f"{addr}/32", "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"
    )
    _iptables("-A", CHAIN, "-d", f"{addr}/32", "-j", "REJECT")


def _unguard(addr: str) -> None:
    _delete(lambda line: f" -d {addr}/32 " in line)
    _drop_empty_chain()


__all__ = ["CHAIN", "address", "confine_engine", "guard", "release_engine", "rules", "unguard"]
