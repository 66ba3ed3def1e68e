"""The node fixture's own staging (loaded by tests/world/fixtures.py): npm, and an npm
cache filled with exactly the packages of the nginx-node-redis sample's lock file.

Rooms have no registry, so the sample's ``RUN npm ci`` must find everything in the
image: the packages are fetched once, when the fixture is built (through the machine's
npm registry), into a cache folder under the fixtures cache named by the lock file's
hash; the image's environment turns npm's offline mode on and points it at that cache.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
NPM_VERSION = "10.9.2"
"""npm as the image carries it (node:21 shipped npm 10); the cache is filled with it."""
CACHE_IN_IMAGE = "/usr/local/share/npm-cache"
PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n",
    "root:x:0:\nnode:x:1000:\n",
)


def _run(argv: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, cwd=cwd)
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(argv[:4])} ... failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )


def ensure_npm(cache: Path) -> Path:
    """npm ``NPM_VERSION`` from the registry, installed once: its package folder."""
    where = cache / f"npm-{NPM_VERSION}"
    package = where / "node_modules/npm"
    if (package / "bin/npm-cli.js").exists():
        return package
    npm = ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(where)]
    _run([*npm, f"npm@{NPM_VERSION}"])
    return package


def ensure_packages(cache: Path, npm: Path) -> Path:
    """An npm cache holding the sample's packages (and their metadata, which npm asks
    for when it upgrades the sample's old lock file), filled once by a real ``npm ci``."""
    lock = NPM_VERSION.encode() + (HERE / "package-lock.json").read_bytes()
    lock += (HERE / "package.json").read_bytes()
    where = cache / f"npm-cache-{hashlib.sha256(lock).hexdigest()[:12]}"
    if (where / ".complete").exists():
        return where / "cache"
    shutil.rmtree(where, ignore_errors=True)
    app = where / "app"
    app.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(HERE / name, app / name)
    node_cli = ["node", str(npm / "bin/npm-cli.js")]
    _run([*node_cli, "ci", "--no-audit", "--no-fund", "--cache", str(where / "cache")], cwd=app)
    shutil.rmtree(app)
    (where / ".complete").write_text(NPM_VERSION)
    return where / "cache"


def stage(dest: Path, cache: Path) -> None:
    """Add npm and the filled cache to the staged root ``dest`` (which has node)."""
    npm = ensure_npm(cache)
    shutil.copytree(npm, dest / "usr/local/lib/node_modules/npm", symlinks=True)
    for tool in ("npm", "npx"):
        (dest / "usr/local/bin" / tool).symlink_to(f"../lib/node_modules/npm/bin/{tool}-cli.js")
    shutil.copytree(ensure_packages(cache, npm), dest / CACHE_IN_IMAGE.lstrip("/"))
    for folder in ("home/node", "usr/src"):
        (dest / folder).mkdir(parents=True, exist_ok=True)
