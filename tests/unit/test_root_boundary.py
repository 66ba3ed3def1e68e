"""Only ``runner/privileged/`` runs commands as root or acts on other users, cgroups,
mounts, firewall rules and other users' processes: every other module of runner/ and
widgets/ is read with ``ast`` and may not

- call ``os.kill``/``killpg``, change owners (``os.chown``, ``shutil.chown``...) or
  identities (``os.setuid``, ``setresgid``, ``setgroups``...), however imported;
- call the package's own runner of root commands (``privileged.run.run``);
- start a process (``subprocess``, ``os.system``, ``os.exec*``, ``os.spawn*``) in a
  module that names a root command (``useradd``, ``mount``, ``iptables``, ``kill``...),
  or start one as another user (``user=``, ``group=``, ``extra_groups=``);
- name ``/sys/fs/cgroup`` or a cgroup's ``cgroup.procs``, or load libc with ``ctypes``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRIVILEGED = ROOT / "runner" / "privileged"

ROOT_COMMANDS = frozenset(
    {
        "useradd",
        "userdel",
        "usermod",
        "groupadd",
        "groupdel",
        "gpasswd",
        "mount",
        "umount",
        "iptables",
        "ip6tables",
        "nft",
        "nsenter",
        "unshare",
        "kill",
        "pkill",
        "killall",
        "chown",
        "chgrp",
        "setpriv",
        "su",
        "sudo",
        "runuser",
        "loginctl",
    }
)
"""Programs only the privileged package may run."""
ACTS = frozenset(
    {
        "os.kill",
        "os.killpg",
        "os.chown",
        "os.lchown",
        "os.fchown",
        "shutil.chown",
        "os.setuid",
        "os.setgid",
        "os.seteuid",
        "os.setegid",
        "os.setreuid",
        "os.setregid",
        "os.setresuid",
        "os.setresgid",
        "os.setgroups",
        "os.initgroups",
        "ctypes.CDLL",
        "ctypes.cdll",
    }
)
"""Calls (module.function) only the privileged package may make."""
STARTS = ("subprocess.", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.popen")
"""Calls that start a process."""
RUNNER = "privileged.run.run"
"""The package's own runner of root commands: outside it, ask for what is to be done."""
AS_ANOTHER_USER = frozenset({"user", "group", "extra_groups", "preexec_fn"})
FORBIDDEN_PATHS = ("/sys/fs/cgroup", "cgroup.procs")


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Local name -> dotted name, from the module's imports (``import os as o``,
    ``from os import kill``)."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = node.module if not node.level else f"{'.' * node.level}{node.module}"
            for alias in node.names:
                names[alias.asname or alias.name] = f"{module}.{alias.name}"
    return names


def _dotted(node: ast.expr, aliases: dict[str, str]) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _program(text: str) -> str:
    """The program a string would run: its first word, without a folder."""
    words = text.split(maxsplit=1)
    return words[0].rsplit("/", 1)[-1] if words else ""


def violations(source: str, name: str = "<snippet>") -> list[str]:
    """What in ``source`` only the privileged package may do, as ``name:line: what``."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    strings = [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    commands = sorted({_program(text) for _, text in strings} & ROOT_COMMANDS)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = _dotted(node.func, aliases)
        if called in ACTS:
            found.append(f"{name}:{node.lineno}: calls {called}")
        if called.endswith(RUNNER):
            found.append(f"{name}:{node.lineno}: runs a root command itself ({called})")
        if called.startswith(STARTS) or called.endswith(RUNNER):
            if commands:
                found.append(f"{name}:{node.lineno}: {called} beside root commands {commands}")
            users = sorted(k.arg for k in node.keywords if k.arg in AS_ANOTHER_USER)
            if users:
                found.append(f"{name}:{node.lineno}: {called} as another user ({users})")
    for line, text in strings:
        if any(p in text for p in FORBIDDEN_PATHS):
            found.append(f"{name}:{line}: names {text[:60]!r}")
    return found


def _modules() -> list[Path]:
    return [
        p
        for folder in (ROOT / "runner", ROOT / "widgets")
        for p in sorted(folder.rglob("*.py"))
        if PRIVILEGED not in p.parents
    ]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_the_privileged_package_acts_as_root(path: Path) -> None:
    found = violations(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not found, "ask dockdojo.runner.privileged instead:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "snippet",
    [
        'import subprocess\nsubprocess.run(["userdel", "-r", name])',
        'import subprocess as sp\nsp.Popen(["/usr/sbin/useradd", "-m", name])',
        'import subprocess\nPROGRAM = "iptables"\nsubprocess.run([which(PROGRAM), "-L"])',
        'from subprocess import run\nrun(["umount", "-l", point], check=False)',
        'import os\nos.system("mount -t tmpfs x /mnt")',
        'import subprocess\nsubprocess.run(["nsenter", "-t", "1", "sh"])',
        'import subprocess\nsubprocess.run(["kill", "-9", "1"])',
        'from ..privileged.run import run\nrun(["userdel", "-r", name], hint="")',
        'from dockdojo.runner.privileged import run\nrun.run(["du", "-s", path], hint="")',
        "import os\nos.kill(pid, 9)",
        "from os import kill as end\nend(pid, 9)",
        "import os\nos.chown(path, 1000, 1000)",
        "import shutil\nshutil.chown(path, user='ada')",
        "import os\nos.setresuid(1000, 1000, 1000)",
        'import subprocess\nsubprocess.run(["python3"], user=1000, group=1000)',
        'from pathlib import Path\nPath("/sys/fs/cgroup/dockdojo/ada/pids.max").write_text("5")',
        'open(folder / "cgroup.procs", "w").write("1")',
        'import ctypes\nlibc = ctypes.CDLL(None)\nlibc.mount(b"x", b"/mnt", None, 0, None)',
    ],
)
def test_a_planted_violation_is_caught(snippet: str) -> None:
    assert violations(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        'import subprocess\nsubprocess.run(["du", "-s", folder])',
        'import subprocess\nsubprocess.run([python, "-m", "venv", folder])',
        "import os\nos.chmod(folder, 0o755)",
        'message = f"Create it (useradd -m {name})"',
        "import signal\nsignal.signal(signal.SIGTERM, handler)",
    ],
)
def test_what_any_module_may_do_is_not_flagged(snippet: str) -> None:
    assert not violations(snippet), snippet


def test_the_privileged_package_itself_is_what_the_rule_flags() -> None:
    """The rule is not empty: the package it exempts does these very things."""
    flagged = [
        p.name
        for p in sorted(PRIVILEGED.glob("*.py"))
        if violations(p.read_text(encoding="utf-8"), p.name)
    ]
    assert {"users.py", "processes.py", "confine.py", "cgroups.py"} <= set(flagged)
