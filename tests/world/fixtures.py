"""Build the test stand-ins for Docker Hub's images and push them to the sandbox registry.

No official image can be pulled on an offline machine, so the tests use small images
built from Debian packages and pushed to the sandbox's registry mirror under the names
Docker Hub gives them: ``library/NAME`` for an official image (nginx, redis, mongo,
busybox, postgres, httpd, node), ``OWNER/NAME`` for any other
(``docker/welcome-to-docker``), with the tags the guides use. The engine then pulls them
as it would pull from Docker Hub (``docker pull docker/welcome-to-docker`` asks the
mirror for that same path).

- One Debian root (``debootstrap --variant=minbase`` plus nginx, redis, python3,
  PostgreSQL 15 and Apache) is made once and cached under ``~/.cache/dockdojo/fixtures``;
  Node.js, the real mongosh (npm) and mongomock/pymongo (PyPI) are added to it; the node
  image adds npm and the sample app's packages (``images/node/stage.py``).
- Each image is ``FROM scratch`` holding just the binaries a lesson uses and the shared
  libraries they link (found with the root's own dynamic loader); postgres takes the
  whole file lists of Debian's server and client packages (its share/ and lib/ trees).
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
import runpy
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import docker

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "images"
CACHE = Path(os.environ.get("DOCKDOJO_FIXTURE_CACHE", Path.home() / ".cache/dockdojo/fixtures"))
SUITE = "bookworm"
PACKAGES = [
    "nginx-light",
    "redis-server",
    "redis-tools",
    "python3",
    "busybox-static",
    "postgresql-15",
    "apache2-bin",
    "media-types",
]
MONGOSH_VERSION = "2.12.0"
PY_REQUIREMENTS = ["mongomock==4.3.0", "pymongo==4.20.1"]
RECIPE_LABEL = "dockdojo.fixture.recipe"
NODE = runpy.run_path(str(IMAGES / "node/stage.py"))  # the node image's own staging


@dataclass(frozen=True)
class Fixture:
    """Where an image goes in the registry, and what else its recipe reads."""

    repository: str  # its path in the registry: library/nginx, docker/welcome-to-docker
    tags: tuple[str, ...] = ("latest",)
    uses: tuple[str, ...] = ()  # other folders of images/ it takes files from


FIXTURES = {
    "nginx": Fixture("library/nginx", ("latest", "1.25")),
    "redis": Fixture("library/redis"),
    "mongo": Fixture("library/mongo"),
    "busybox": Fixture("library/busybox"),
    "postgres": Fixture("library/postgres", ("latest", "18")),
    "httpd": Fixture("library/httpd", ("2.4", "latest")),
    "welcome-to-docker": Fixture("docker/welcome-to-docker", uses=("nginx",)),
    "node": Fixture("library/node", ("21", "latest")),
}
NAMES = tuple(FIXTURES)
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
    "postgres": (
        "root:x:0:0:root:/root:/bin/sh\n"
        "postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/sh\n",
        "root:x:0:\npostgres:x:999:\n",
    ),
    "httpd": (
        "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33:www-data:/var/www:/bin/false\n",
        "root:x:0:\nwww-data:x:33:\n",
    ),
}
PASSWD["welcome-to-docker"] = PASSWD["nginx"]
PASSWD["node"] = NODE["PASSWD"]


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
    folders = [IMAGES / n for n in (name, *FIXTURES[name].uses)]
    return _hash(root_recipe(), *folders, Path(__file__), PASSWD[name])


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
    # PostgreSQL's packages would make a "main" cluster; the postgres image makes its own.
    createcluster = work / "etc/postgresql-common/createcluster.d"
    createcluster.mkdir(parents=True)
    (createcluster / "dockdojo.conf").write_text("create_main_cluster = false\n")
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
    npm = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(where)]
    run([*npm, f"mongosh@{MONGOSH_VERSION}"])
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

    def add_package(self, package: str, exclude: tuple[str, ...] = ()) -> None:
        """Copy the files of a Debian package (its dpkg file list) but those under the
        folders in ``exclude``, with the libraries its ELF files link."""
        info = self.root / "var/lib/dpkg/info"
        listing = info / f"{package}.list"
        if not listing.exists():
            listing = info / f"{package}:amd64.list"
        for path in listing.read_text().splitlines():
            if any(path == e or path.startswith(e.rstrip("/") + "/") for e in exclude):
                continue
            source = self.root / path.lstrip("/")
            if source.is_symlink() or source.is_file():
                self.add(path)

    def write(self, path: str, text: str, mode: int = 0o644) -> None:
        """Write a file, replacing what was staged there (never writing through a link)."""
        target = self.dest / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
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
    stage.add("/bin/rm")  # the guide's sample removes conf.d/default.conf in a RUN
    stage.add("/etc/nginx/mime.types", with_libs=False)
    stage.add("/usr/share/nginx/html/index.html", with_libs=False)
    for conf in ("nginx.conf", "conf.d/default.conf"):
        stage.write(f"/etc/nginx/{conf}", (IMAGES / "nginx" / conf).read_text())
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


def _busybox_base(stage: Stage, name: str, applets: tuple[str, ...]) -> None:
    """Users, /tmp, /root and Debian's static busybox with a link in /bin per applet."""
    passwd, group = PASSWD[name]
    stage.write("/etc/passwd", passwd)
    stage.write("/etc/group", group)
    stage.add("/bin/busybox", with_libs=False)  # static
    for applet in applets:
        (stage.dest / "bin" / applet).symlink_to("busybox")
    stage.mkdir("/tmp", 0o1777)
    stage.mkdir("/root", 0o700)


def stage_busybox(root: Path, into: Path) -> None:
    _busybox_base(Stage(root, into / "root"), "busybox", BUSYBOX_APPLETS)


def stage_postgres(root: Path, into: Path) -> None:
    """PostgreSQL 15's server and client packages whole (but documentation, translations
    and the LLVM JIT, which would bring a 100 MB library), time zones, the C.UTF-8 locale,
    terminal descriptions for psql, and the entrypoint."""
    stage = Stage(root, into / "root")
    _busybox_base(stage, "postgres", SHELL_APPLETS)
    skip = (
        "/usr/share/doc",
        "/usr/share/man",
        "/usr/share/locale",
        "/usr/share/lintian",
        "/usr/share/postgresql/15/man",
        "/usr/lib/postgresql/15/lib/bitcode",
        "/usr/lib/postgresql/15/lib/llvmjit.so",
        "/usr/lib/postgresql/15/lib/llvmjit_types.bc",
    )
    for package in ("postgresql-15", "postgresql-client-15"):
        stage.add_package(package, exclude=skip)
    sample = "/usr/share/postgresql/15/postgresql.conf.sample"
    text = (root / sample.lstrip("/")).read_text()
    stage.write(sample, text.replace("#listen_addresses = 'localhost'", "listen_addresses = '*'"))
    stage.add_tree("/usr/share/zoneinfo", exclude=("right",))
    stage.add("/etc/localtime", with_libs=False)
    stage.add_tree("/usr/lib/locale/C.utf8")
    stage.add("/usr/bin/locale")  # initdb lists the locales with it
    stage.add_tree("/lib/terminfo")
    entrypoint = (IMAGES / "postgres/docker-entrypoint.sh").read_text()
    stage.write("/usr/local/bin/docker-entrypoint.sh", entrypoint, 0o755)
    stage.write("/usr/bin/pager", '#!/bin/sh\nexec more "$@"\n', 0o755)  # psql's pager
    stage.mkdir("/docker-entrypoint-initdb.d")
    stage.mkdir("/var/lib/postgresql/data", 0o700)


def stage_httpd(root: Path, into: Path) -> None:
    """apache2 and the modules httpd.conf loads, under the official image's folders."""
    stage = Stage(root, into / "root")
    # dash is the shell: busybox's would run its own httpd applet for `httpd`
    _busybox_base(stage, "httpd", tuple(a for a in SHELL_APPLETS if a != "sh"))
    stage.add("/bin/sh")
    stage.add("/usr/sbin/apache2")
    stage.add("/usr/lib/x86_64-linux-gnu/libgcc_s.so.1")  # glibc loads it for pthread_exit
    conf = (IMAGES / "httpd/httpd.conf").read_text()
    for module in re.findall(r"modules/(mod_\w+\.so)", conf):
        stage.add(f"/usr/lib/apache2/modules/{module}")
    prefix = "/usr/local/apache2"
    stage.write(f"{prefix}/conf/httpd.conf", conf)
    stage.write(f"{prefix}/conf/mime.types", (root / "etc/mime.types").read_text())
    stage.write(f"{prefix}/htdocs/index.html", (IMAGES / "httpd/index.html").read_text())
    stage.write(f"{prefix}/bin/httpd", (IMAGES / "httpd/httpd").read_text(), 0o755)
    foreground = (IMAGES / "httpd/httpd-foreground").read_text()
    stage.write("/usr/local/bin/httpd-foreground", foreground, 0o755)
    stage.mkdir(f"{prefix}/logs")
    (stage.dest / prefix.lstrip("/") / "modules").symlink_to("/usr/lib/apache2/modules")


def stage_welcome_to_docker(root: Path, into: Path) -> None:
    """The nginx fixture's files serving the welcome page instead of nginx's own."""
    stage_nginx(root, into)
    for name, target, mode in (
        ("index.html", "usr/share/nginx/html/index.html", 0o644),
        ("docker-entrypoint.sh", "docker-entrypoint.sh", 0o755),
    ):
        path = into / "root" / target
        path.unlink(missing_ok=True)
        path.write_text((IMAGES / "welcome-to-docker" / name).read_text())
        path.chmod(mode)


def stage_node(root: Path, into: Path) -> None:
    """Node.js, npm, and the sample's packages in npm's cache (images/node/stage.py)."""
    stage = Stage(root, into / "root")
    _busybox_base(stage, "node", SHELL_APPLETS)
    stage.add("/usr/local/bin/node")
    NODE["stage"](stage.dest, CACHE)


BUSYBOX_APPLETS = ("sh", "echo", "ls", "cat", "env", "ps", "sleep", "true", "false", "wget")
SHELL_APPLETS = (
    *BUSYBOX_APPLETS,
    *("id", "chown", "chmod", "su", "mkdir", "rm", "cp", "mv", "mktemp", "touch"),
    *("grep", "sed", "head", "tail", "find", "du", "df", "kill", "hostname", "vi", "more"),
)
STAGERS = {
    "nginx": stage_nginx,
    "redis": stage_redis,
    "mongo": stage_mongo,
    "busybox": stage_busybox,
    "postgres": stage_postgres,
    "httpd": stage_httpd,
    "welcome-to-docker": stage_welcome_to_docker,
    "node": stage_node,
}


# registry and engine ---------------------------------------------------------------
def pushed_recipe(registry: str, repository: str, tag: str = "latest") -> str | None:
    """The recipe label of ``REPOSITORY:TAG`` in the registry, if it is there."""
    base = f"http://{registry}/v2/{repository}"
    accept = "application/vnd.docker.distribution.manifest.v2+json"
    try:
        req = urllib.request.Request(f"{base}/manifests/{tag}", headers={"Accept": accept})
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


def up_to_date(registry: str, name: str) -> bool:
    """Every tag of the image is in the registry with the current recipe."""
    fixture, recipe = FIXTURES[name], image_recipe(name)
    return all(pushed_recipe(registry, fixture.repository, t) == recipe for t in fixture.tags)


def build_and_push(client: docker.DockerClient, registry: str, name: str, root: Path) -> None:
    recipe = image_recipe(name)
    if up_to_date(registry, name):
        log(f"{name}: up to date in {registry} (recipe {recipe})")
        return
    started = time.monotonic()
    context = CACHE / f"context-{name}"
    shutil.rmtree(context, ignore_errors=True)
    STAGERS[name](root, context)
    shutil.copy2(IMAGES / name / "Dockerfile", context / "Dockerfile")
    repository = f"{registry}/{FIXTURES[name].repository}"
    image, _ = client.images.build(
        path=str(context),
        tag=f"{repository}:{FIXTURES[name].tags[0]}",
        rm=True,
        forcerm=True,
        labels={RECIPE_LABEL: recipe, "org.opencontainers.image.description": f"fixture: {name}"},
    )
    for tag in FIXTURES[name].tags:
        image.tag(repository, tag)
        for event in client.api.push(repository, tag=tag, stream=True, decode=True):
            if "error" in event:
                raise SystemExit(f"push of {repository}:{tag} failed: {event['error']}")
    for tag in FIXTURES[name].tags:
        client.images.remove(f"{repository}:{tag}", force=True)
    shutil.rmtree(context, ignore_errors=True)
    size = image.attrs.get("Size", 0) / 1e6
    took = time.monotonic() - started
    log(f"{name}: built and pushed {repository} ({size:.0f} MB) in {took:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docker-host", required=True, help="DOCKER_HOST of the sandbox")
    parser.add_argument("--registry", required=True, help="registry address, host:port")
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"{', '.join(NAMES)} (all)")
    args = parser.parse_args()
    names = args.names or list(NAMES)
    unknown = set(names) - set(NAMES)
    if unknown:
        parser.error(f"unknown fixture image(s): {', '.join(sorted(unknown))}")
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / ".lock").open("w") as lock:
        # One build at a time: two runs staging the same image would mix their files.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all(up_to_date(args.registry, n) for n in names):
            log("all fixture images are up to date: " + ", ".join(names))
            return 0
        root = ensure_root()
        client = docker.DockerClient(base_url=args.docker_host, timeout=600)
        for name in names:
            build_and_push(client, args.registry, name, root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
