"""Start one program confined (run as root: ``python -I confine.py SPEC -- PROGRAM
ARGS...``; this file imports nothing of dockdojo): a submission's kernel, or an engine.

In this order, before the program's first instruction:

1. join the cgroups named in the spec (memory, processes, CPU accounting, freezer), so the
   program and everything it ever starts are limited and can be ended as a whole;
2. a mount namespace of its own, and (unless ``network`` is false) a network namespace
   whose only loopback is down (a kernel talks to the grader over files in its work
   folder and to its engine over the engine's socket, both of which are files). In the
   mount namespace every file system is read-only except the folders in ``writable``
   (each bound on itself, nosuid and nodev, unless it is a mount point already, such as
   a kernel's size-limited work folder) and the pseudo file systems ``/proc``, ``/sys``,
   ``/dev``; each folder in ``tmpfs`` (an engine's ``/tmp``) gets a fresh empty tmpfs
   that ends with the namespace, with the folders of ``keep`` inside it bound back;
   folders named in ``hide`` (the submissions, the reports, the room's state) are
   covered by an empty read-only tmpfs; ``binds`` then puts writable folders where the
   program expects them (``/tmp``, the home); with ``proc`` (``invisible``), ``/proc`` is a
   fresh instance showing only the processes the program's user may trace (not the
   host's socket table through ``/proc/1/net``, nor other users' command lines).
   Whatever the program (or a container of an engine started so, or a process entering
   the engine's namespaces) writes therefore lands only in the writable folders and
   private tmpfs, which end with it or which their owner deletes when the program ends
   (a grading pool's batch);
3. resource limits (no core files; open files when ``nofile`` is given), no new
   privileges unless ``no_new_privs`` is false (an engine's rootlesskit needs the
   set-uid ``newuidmap``), no supplementary groups;
4. the user's uid and gid, the umask (077 unless given), ``cwd`` as the current folder,
   and an environment that is exactly ``env``.

Any failure ends this process before the program runs, with exit status 111 and the
reason on stderr.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import sys
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_NO_NEW_PRIVS = 38
_KEEP_WRITABLE = ("/proc", "/sys", "/dev")
"""Pseudo file systems left as they are (their files are the kernel's own business)."""

_libc = ctypes.CDLL(None, use_errno=True)


def _fail(doing: str) -> None:
    err = ctypes.get_errno()
    sys.stderr.write(f"dockdojo confine: {doing}: {os.strerror(err)}\n")
    sys.exit(111)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    enc = os.fsencode
    if (
        _libc.mount(
            enc(source) if source else None,
            enc(target),
            enc(fstype) if fstype else None,
            ctypes.c_ulong(flags),
            enc(data) if data else None,
        )
        != 0
    ):
        _fail(f"mount {target}")


def _mount_points() -> list[tuple[str, int]]:
    """Every mount point in this namespace with its per-mount flags, outermost first."""
    points = []
    with open("/proc/self/mountinfo") as info:
        for line in info:
            fields = line.split()
            point = fields[4].encode().decode("unicode_escape")
            options = fields[5].split(",")
            flags = 0
            for name, bit in (("nosuid", MS_NOSUID), ("nodev", MS_NODEV), ("noexec", 8)):
                if name in options:
                    flags |= bit
            points.append((point, flags))
    return sorted(set(points), key=lambda p: p[0].count("/"))


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def hidden(hide: list[str], keep: list[str]) -> list[str]:
    """The folders of ``hide`` that can be covered: none that is (or holds) a folder of
    ``keep``, and none inside another one covered already (it is gone with it)."""
    wanted = [h for h in hide if h != "/" and not any(_under(k, h) for k in keep)]
    return [h for h in wanted if not any(o != h and _under(h, o) for o in wanted)]


def _read_only_but(writable: list[str]) -> None:
    """Every mount read-only but ``writable`` (each its own mount, nosuid and nodev)."""
    for folder in writable:
        if not os.path.ismount(folder):  # its own mount, so that it alone stays writable
            _mount(folder, folder, None, MS_BIND | MS_REC)
            _mount(None, folder, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)
    for point, flags in _mount_points():
        kept = any(_under(point, keep) for keep in (*_KEEP_WRITABLE, *writable))
        if kept or not os.path.isdir(point):
            continue
        # a per-mount flag: the file system itself (and the host's view) stays writable
        _mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)


def _private_tmpfs(folder: str, options: str, keep: list[str]) -> None:
    """An empty tmpfs on ``folder``, with the folders of ``keep`` inside it bound back
    where they were (as they were: writable or not)."""
    inside = sorted((k for k in keep if k != folder and _under(k, folder)), key=len)
    held = {k: os.open(k, os.O_PATH | os.O_DIRECTORY) for k in inside if os.path.isdir(k)}
    _mount("dockdojo-private", folder, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for path, fd in held.items():
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
        os.close(fd)


def confine_files(spec: dict[str, Any]) -> None:
    writable = [str(w) for w in spec.get("writable", [spec.get("work")]) if w]
    before = os.readlink("/proc/self/ns/mnt")
    if _libc.unshare(CLONE_NEWNS | (CLONE_NEWNET if spec.get("network", True) else 0)) != 0:
        _fail("unshare")
    if os.readlink("/proc/self/ns/mnt") == before:  # never remount the host's own tree
        sys.stderr.write("dockdojo confine: no mount namespace of its own\n")
        sys.exit(111)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _read_only_but(writable)
    for folder, options in dict(spec.get("tmpfs", {})).items():
        if os.path.isdir(folder):
            _private_tmpfs(folder, options, [str(k) for k in spec.get("keep", [])])
    for folder in [str(h) for h in spec.get("hide", []) if os.path.isdir(str(h))]:
        _mount("dockdojo-hidden", folder, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k")
    for target, source in dict(spec.get("binds", {})).items():
        if os.path.isdir(target):
            _mount(source, target, None, MS_BIND | MS_REC)
            _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)
    if spec.get("proc"):  # a new instance: its own options, the host's /proc untouched
        proc_flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
        _mount("proc", "/proc", "proc", proc_flags, f"hidepid={spec['proc']}")


def main(argv: list[str]) -> None:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: confine.py SPEC -- PROGRAM [ARGS...]\n")
        sys.exit(2)
    spec = json.loads(argv[1])
    program = argv[3:]
    for procs in spec.get("cgroups", []):
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
    confine_files(spec)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if spec.get("nofile"):
        nofile = int(spec["nofile"])
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    if spec.get("no_new_privs", True) and _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        _fail("no new privileges")
    uid, gid = int(spec["uid"]), int(spec["gid"])
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() == 0 or os.geteuid() == 0:
        sys.stderr.write("dockdojo confine: still root\n")
        sys.exit(111)
    os.umask(int(spec.get("umask", 0o077)))
    if spec.get("log"):  # the kernel's own chatter, kept in its work folder (size-limited)
        log = os.open(spec["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
    os.chdir(spec["cwd"])
    os.execve(program[0], program, {str(k): str(v) for k, v in spec["env"].items()})


if __name__ == "__main__":
    main(sys.argv)
