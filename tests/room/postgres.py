"""A private PostgreSQL server for a test (Debian's ``postgresql`` package): its own
cluster in a temporary folder, run as the ``postgres`` user on a free port of 127.0.0.1,
stopped and deleted afterwards. The distribution's own cluster is never touched."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from common_kit import free_port

from dockdojo.runner.room.learners import lookup


def _bin(program: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{program}"))
    assert found, "PostgreSQL is not installed: apt-get install postgresql (tests/world)"
    return str(found[-1])


@dataclass
class Postgres:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://dockdojo@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        who = lookup("postgres")
        assert who is not None, "the postgres user is missing (apt-get install postgresql)"
        subprocess.run(
            [_bin("pg_ctl"), "-D", str(self.folder / "data"), *args],
            user=who.uid,
            group=who.gid,
            extra_groups=[],
            cwd=self.folder,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._ctl("-o", options, "-l", str(self.folder / "server.log"), "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    who = lookup("postgres")
    assert who is not None, "the postgres user is missing (apt-get install postgresql)"
    folder = Path(tempfile.mkdtemp(prefix="ddpg-", dir="/tmp"))
    shutil.chown(folder, who.uid, who.gid)
    server = Postgres(folder, free_port())
    subprocess.run(
        [_bin("initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "dockdojo"],
        user=who.uid,
        group=who.gid,
        extra_groups=[],
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=120,
    )
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
