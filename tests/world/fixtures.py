"""Build the test stand-ins for nginx, redis and mongo and push them to the sandbox registry.

No official image can be pulled on an offline machine, so the tests use small images
built from Debian packages and pushed to the sandbox's registry mirror as
``library/nginx``, ``library/redis`` and ``library/mongo`` (tag ``latest``). The engine
then pulls them as it would pull from Docker Hub.

- One Debian root (``debootstrap --variant=minbase`` plus nginx, redis and python3) is
  made once and cached under ``~/.cache/dockdojo/fixtures``; Node.js, the real mongosh
  (npm) and mongomock/pymongo (PyPI) are added to it.
- Each image is ``FROM scratch`` holding just the binaries a lesson uses and the shared
  libraries they link (found with the root's own dynamic loader).
- Each image carries the hash of its recipe in the label ``dockdojo.fixture.recipe``;
  an image whose recipe is unchanged is not rebuilt. After a push, the local tag is
  removed so that the tests really pull through the mirror.

Usage: python tests/world/fixtures.py --docker-host unix:///.../docker.sock \
           --registry 127.0.0.1:5000
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import docker

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "images"
CACHE = Path(os.environ.get("DOCKDOJO_FIXTURE_CACHE", Path.home() / ".cache/dockdojo/fixtures"))
SUITE = "bookworm"
PACKAGES = ["nginx-light", "redis-server", "redis-tools", "python3", "busybox-static"]
MONGOSH_VERSION = "2.12.0"
PY_REQUIREMENTS = ["mongomock==4.3.0", "pymongo==4.20.1"]
RECIPE_LABEL = "dockdojo.fixture.recipe"
NAMES = ("nginx", "redis", "mongo", "busybox")
PASSWD = {
    "nginx": (
        "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
        "root:x:0:\nwww-data:x:33:\nnogroup:x:65534:\n",
    ),
    "redis": (
        "root:x:0:0:root:/root:/bin/sh\nredis:x:999:999::/data:/bin/false\n",
        "root:x:0:\nredis:x:999:\n",
    ),
    "mongo": (
        "root:x:0:0:root:/root:/bin/sh\nmongodb:x:999:999::/data/db:/bin/false\n",
        "root:x:0:\nmongodb:x:999:\n",
    ),
    "busybox": (
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
        "root:x:0:\nnogroup:x:65534:\n",
    ),
}


def log(msg: str) -> None:
    print(f"[fixtures] {msg}", file=sys.stderr, flush=True)


def _hash(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, Path):
            for f in sorted(p for p in part.rglob("*") if p.is_file()) if part.is_dir() else [part]:
                h.update(str(f.relative_to(part.parent if part.is_file() else part)).encode())
                h.update(f.read_bytes())
        else:
            h.update(repr(part).encode())
    return h.hexdigest()[:16]


def root_recipe() -> str:
    node = shutil.which("node") or ""
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    return _hash(SUITE, PACKAGES, MONGOSH_VERSION, PY_REQUIREMENTS, node_version.strip())


def image_recipe(name: str) -> str:
    return _hash(root_recipe(), IMAGES / name, Path(__file__), PASSWD[name])


# the Debian root -------------------------------------------------------------------
def debian_mirror(apt: Path = Path("/etc/apt")) -> str:
    """The Debian mirror this machine's apt uses (``sources.list`` and ``*.list`` /
    ``*.sources`` in ``sources.list.d``); a machine without one cannot build the root."""
    files = [
        apt / "sources.list",
        *sorted((apt / "sources.list.d").glob("*.list")),
        *sorted((apt / "sources.list.d").glob("*.sources")),
    ]
    for source in files:
        if not source.is_file():
            continue
        text = source.read_text()
        for match in re.finditer(r"^URIs:\s*(\S+)|^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M):
            uri = match.group(1) or match.group(2)
            if "security" not in uri and "debian" in uri:
                return uri
    raise SystemExit(
        f"[fixtures] no Debian mirror is configured in {apt}/sources.list or "
        f"{apt}/sources.list.d/ (the fixture images are built from Debian packages).\n"
        "Add one, e.g. /etc/apt/sources.list.d/debian.sources with the lines\n"
        "  Types: deb\n  URIs: <your Debian mirror>\n  Suites: bookworm\n  Components: main\n"
        "then run apt-get update and make test again."
    )


def ensure_root() -> Path:
    root = CACHE / f"root-{root_recipe()}"
    if (root / ".complete").exists():
        return root
    work = CACHE / f"root-tmp-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    log(f"debootstrap {SUITE} (minbase) from {debian_mirror()}")
    run(["debootstrap", "--variant=minbase", SUITE, str(work), debian_mirror()])
    # No service may start inside the root while packages install.
    policy = work / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(
        ["chroot", str(work), "apt-get", "install", "-y", "--no-install-recommends", *PACKAGES],
        env=env,
    )
    node = shutil.which("node")
    if node is None:
        raise SystemExit("Node.js is needed for mongosh: apt-get install nodejs")
    shutil.copy2(node, work / "usr/local/bin/node")
    mongosh = ensure_mongosh()
    shutil.copytree(
        mongosh / "node_modules", work / "usr/local/lib/mongosh/node_modules", symlinks=True
    )
    site = work / "usr/local/lib/dockdojo-fixture/site"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--target",
            str(site),
            "--python-version",
            "3.11",
            "--only-binary=:all:",
            *PY_REQUIREMENTS,
        ]
    )
    (work / ".complete").write_text(root_recipe())
    for old in CACHE.glob("root-*"):
        if old != work:
            shutil.rmtree(old, ignore_errors=True)
    work.rename(root)
    log(f"Debian root ready in {time.monotonic() - started:.0f} s: {root}")
    return root


def ensure_mongosh() -> Path:
    """The real mongosh from npm, installed once into the cache."""
    where = CACHE.parent / f"mongosh-{MONGOSH_VERSION}"
    if (where / "node_modules/mongosh/bin/mongosh.js").exists():
        return where
    where.mkdir(parents=True, exist_ok=True)
    log(f"npm install mongosh@{MONGOSH_VERSION} (about a minute, cached afterwards)")
    run(
        [
            "npm",
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            str(where),
            f"mongosh@{MONGOSH_VERSION}",
        ]
    )
    return where


def run(argv: list[str], env: dict[str, str] | None = None) -> str:
    """Run ``argv``, its output captured; a failure ends the script with that output."""
    result = subprocess.run(argv, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(argv[:4])} ... failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return result.stdout


# staging an image: files plus the libraries they link -------------------------------
class Stage:
    def __init__(self, root: Path, dest: Path) -> None:
        self.root = root
        self.dest = dest
        self._seen: set[str] = set()
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)

    def add(self, path: str, with_libs: bool = True) -> None:
        """Copy ``path`` (absolute, inside the root) with its symlink chain and libraries."""
        real = self._copy_chain(path.lstrip("/"))
        if with_libs and (self.root / real).is_file() and _is_elf(self.root / real):
            for lib in self.libraries("/" + real):
                self.add(lib, with_libs=False)

    def add_tree(self, path: str, exclude: tuple[str, ...] = ()) -> None:
        """Copy a directory; add the libraries its ELF files link."""
        rel = self._copy_chain(path.lstrip("/"), copy_dirs=False)
        src, dst = self.root / rel, self.dest / rel
        shutil.copytree(
            src, dst, symlinks=True, dirs_exist_ok=True, ignore=shutil.ignore_patterns(*exclude)
        )
        for f in dst.rglob("*.so*"):
            if f.is_file() and not f.is_symlink() and _is_elf(f):
                for lib in self.libraries("/" + str(Path(rel) / f.relative_to(dst))):
                    self.add(lib, with_libs=False)

    def write(self, path: str, text: str, mode: int = 0o644) -> None:
        target = self.dest / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        target.chmod(mode)

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        target = self.dest / path.lstrip("/")
        target.mkdir(parents=True, exist_ok=True)
        target.chmod(mode)

    def libraries(self, path: str) -> list[str]:
        out = run(["chroot", str(self.root), "/lib64/ld-linux-x86-64.so.2", "--list", path])
        libs = re.findall(r"=>\s+(/\S+)\s+\(", out)
        libs += re.findall(r"^\s*(/\S+)\s+\(", out, re.M)
        return libs

    def _copy_chain(self, rel: str, copy_dirs: bool = True) -> str:
        """Copy ``rel``, recreating every symlink met on the way; return the real path."""
        parts = rel.split("/")
        current = ""
        for i, part in enumerate(parts):
            step = posixpath.join(current, part) if current else part
            src = self.root / step
            if src.is_symlink():
                target = os.readlink(src)
                dst = self.dest / step
                if not dst.is_symlink() and not dst.exists():
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    os.symlink(target, dst)
                base = (
                    target.lstrip("/")
                    if target.startswith("/")
                    else posixpath.join(current, target)
                )
                rest = "/".join([base, *parts[i + 1 :]])
                return self._copy_chain(posixpath.normpath(rest), copy_dirs)
            current = step
        if current not in self._seen:
            self._seen.add(current)
            src, dst = self.root / current, self.dest / current
            if src.is_dir():
                if copy_dirs:
                    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
                else:
                    dst.mkdir(parents=True, exist_ok=True)
            elif src.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
            else:
                raise SystemExit(f"{current} is not in the Debian root {self.root}")
        return current


def _is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"


def _base(stage: Stage, name: str) -> None:
    passwd, group = PASSWD[name]
    stage.write("/etc/passwd", passwd)
    stage.write("/etc/group", group)
    stage.add("/bin/sh")
    stage.mkdir("/tmp", 0o1777)
    stage.mkdir("/root", 0o700)


def stage_nginx(root: Path, into: Path) -> None:
    stage = Stage(root, into / "root")
    _base(stage, "nginx")
    stage.add("/usr/sbin/nginx")
    stage.add("/etc/nginx/mime.types", with_libs=False)
    stage.add("/usr/share/nginx/html/index.html", with_libs=False)
    stage.write("/etc/nginx/nginx.conf", (IMAGES / "nginx/nginx.conf").read_text())
    for folder in ("/var/log/nginx", "/var/lib/nginx", "/run"):
        stage.mkdir(folder)


def stage_redis(root: Path, into: Path) -> None:
    stage = Stage(root, into / "root")
    _base(stage, "redis")
    stage.add("/usr/bin/redis-server")
    stage.add("/usr/bin/redis-cli")
    stage.mkdir("/data", 0o777)


def stage_mongo(root: Path, into: Path) -> None:
    node = Stage(root, into / "node")
    node.add("/usr/local/bin/node")
    node.add_tree("/usr/local/lib/mongosh")
    node.write("/usr/bin/mongosh", (IMAGES / "mongo/mongosh").read_text(), 0o755)
    python = Stage(root, into / "python")
    _base(python, "mongo")
    python.add("/usr/bin/python3.11")
    python.add("/usr/bin/python3")
    python.add_tree(
        "/usr/lib/python3.11",
        exclude=("test", "idlelib", "tkinter", "ensurepip", "lib2to3", "turtledemo", "pydoc_data"),
    )
    python.add_tree("/usr/local/lib/dockdojo-fixture/site")
    python.mkdir("/data/db", 0o777)
    fixture = Stage(root, into / "fixture")
    fixture.write(
        "/usr/local/lib/dockdojo-fixture/mongod_fixture.py",
        (IMAGES / "mongo/mongod_fixture.py").read_text(),
    )


def stage_busybox(root: Path, into: Path) -> None:
    stage = Stage(root, into / "root")
    passwd, group = PASSWD["busybox"]
    stage.write("/etc/passwd", passwd)
    stage.write("/etc/group", group)
    stage.add("/bin/busybox", with_libs=False)  # static
    for applet in BUSYBOX_APPLETS:
        (stage.dest / "bin" / applet).symlink_to("busybox")
    stage.mkdir("/tmp", 0o1777)
    stage.mkdir("/root", 0o700)


BUSYBOX_APPLETS = ("sh", "echo", "ls", "cat", "env", "ps", "sleep", "true", "false", "wget")
STAGERS = {
    "nginx": stage_nginx,
    "redis": stage_redis,
    "mongo": stage_mongo,
    "busybox": stage_busybox,
}


# registry and engine ---------------------------------------------------------------
def pushed_recipe(registry: str, name: str) -> str | None:
    """The recipe label of ``library/NAME:latest`` in the registry, if it is there."""
    base = f"http://{registry}/v2/library/{name}"
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    try:
        req = urllib.request.Request(f"{base}/manifests/latest", headers={"Accept": accept})
        with urllib.request.urlopen(req, timeout=10) as resp:
            manifest = json.load(resp)
        with urllib.request.urlopen(
            f"{base}/blobs/{manifest['config']['digest']}", timeout=10
        ) as resp:
            config = json.load(resp)
    except (urllib.error.URLError, KeyError, ValueError):
        return None
    labels = (config.get("config") or {}).get("Labels") or {}
    return labels.get(RECIPE_LABEL)


def build_and_push(client: docker.DockerClient, registry: str, name: str, root: Path) -> None:
    recipe = image_recipe(name)
    if pushed_recipe(registry, name) == recipe:
        log(f"{name}: up to date in {registry} (recipe {recipe})")
        return
    started = time.monotonic()
    context = CACHE / f"context-{name}"
    shutil.rmtree(context, ignore_errors=True)
    STAGERS[name](root, context)
    shutil.copy2(IMAGES / name / "Dockerfile", context / "Dockerfile")
    tag = f"{registry}/library/{name}:latest"
    image, _ = client.images.build(
        path=str(context),
        tag=tag,
        rm=True,
        forcerm=True,
        labels={
            RECIPE_LABEL: recipe,
            "org.opencontainers.image.description": f"dockdojo test fixture standing in for {name}",
        },
    )
    for event in client.api.push(
        f"{registry}/library/{name}", tag="latest", stream=True, decode=True
    ):
        if "error" in event:
            raise SystemExit(f"push of {tag} failed: {event['error']}")
    client.images.remove(tag, force=True)
    shutil.rmtree(context, ignore_errors=True)
    size = image.attrs.get("Size", 0) / 1e6
    log(f"{name}: built and pushed {tag} ({size:.0f} MB) in {time.monotonic() - started:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docker-host", required=True, help="DOCKER_HOST of the sandbox")
    parser.add_argument("--registry", required=True, help="registry address, host:port")
    parser.add_argument("names", nargs="*", metavar="NAME", help="nginx, redis, mongo (all)")
    args = parser.parse_args()
    names = args.names or list(NAMES)
    unknown = set(names) - set(NAMES)
    if unknown:
        parser.error(f"unknown fixture image(s): {', '.join(sorted(unknown))}")
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        # One build at a time: two runs staging the same image would mix their files.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all(pushed_recipe(args.registry, n) == image_recipe(n) for n in names):
            log("all fixture images are up to date: " + ", ".join(names))
            return 0
        root = ensure_root()
        client = docker.DockerClient(base_url=args.docker_host, timeout=600)
        for name in names:
            build_and_push(client, args.registry, name, root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
