"""Each learner's published ports on an address of their own, open to them alone.

A rootless engine publishes a container's port on the host (rootlesskit's port driver
listens there for it), so on a shared server every user could reach every learner's
nginx on ``127.0.0.1``. In a room, each learner's engine publishes on a loopback
address of their own, ``127.77.H.L`` from their uid (:func:`address`; the engine's
``ip`` setting, and ``DOCKDOJO_HOST_IP`` for the widgets), and a rule of the host's
firewall lets only the learner's own uid and root (the instructor's view and the
grader, which check it) connect to that address. Everyone else's connection is refused,
whether it comes from their kernel, a terminal, or their server's port proxy.

The rules live in the ``DOCKDOJO-PORTS`` chain, jumped to from ``OUTPUT`` (where
loopback connections are decided); they are added when the engine starts and removed
when it ends. A learner may still publish on another address by naming it
(``-p 127.0.0.1:8080:80``): that port is then theirs to share.
"""

from __future__ import annotations

import subprocess
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


def _guard(addr: str, uid: int) -> None:
    if _iptables("-n", "-L", CHAIN, check=False).returncode != 0:
        _iptables("-N", CHAIN, check=False)  # another engine may make it at once
    if _iptables("-C", "OUTPUT", "-j", CHAIN, check=False).returncode != 0:
        _iptables("-I", "OUTPUT", "1", "-j", CHAIN)
    for owner in (str(uid), "0"):
        _iptables(
            "-A", CHAIN, "-d", f"{addr}/32", "-m", "owner", "--uid-owner", owner, "-j", "RETURN"
        )
    _iptables(
        "-A", CHAIN, "-d", f"{addr}/32", "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"
    )
    _iptables("-A", CHAIN, "-d", f"{addr}/32", "-j", "REJECT")


def _unguard(addr: str) -> None:
    for line in rules(addr):
        _iptables("-D", *line.split()[1:], check=False)
    if not rules() and _iptables("-n", "-L", CHAIN, check=False).returncode == 0:
        _iptables("-D", "OUTPUT", "-j", CHAIN, check=False)
        _iptables("-X", CHAIN, check=False)


__all__ = ["CHAIN", "address", "guard", "rules", "unguard"]
