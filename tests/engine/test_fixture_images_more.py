"""The fixture images of the later lessons, pulled through the sandbox's mirror as a
learner's ``docker pull`` is, and shown to be the real programs:

- postgres (latest and 18): Debian's PostgreSQL 15 server. With POSTGRES_PASSWORD and
  POSTGRES_DB it makes the database, ``psql`` inside creates a table and a row, a
  password opens it over TCP (a wrong one does not), and a new container on the same
  named volume still has the row, the volume mounted where the guides mount it
  (``/var/lib/postgresql``) or at PGDATA; without a password it stops with the official
  image's error; a command (``env``) runs instead of the server, and options after the
  image name reach the server; ``docker exec -ti ... psql`` runs the guide's session in
  a terminal, its pager included.
- httpd (2.4 and latest): Debian's Apache serving ``/usr/local/apache2/htdocs/``: "It
  works!", then a bind-mounted folder, whose changes show on the next request; mounted
  read-only (``:ro``), a write from inside is refused.
- docker/welcome-to-docker: a web server on port 80 with the welcome page.

Each test removes the containers and volumes it made, also when it fails.
"""

from __future__ import annotations

import contextlib
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import psycopg
import pytest

from dockdojo.runner import Engine, ImageInfo

# every image is pulled first, as a learner does
pytestmark = [pytest.mark.engine, pytest.mark.usefixtures("pulled")]

Namer = Callable[[str], str]
PGDATA = "/var/lib/postgresql/data"
VOLUME = "/var/lib/postgresql"  # the image's volume, where the guides mount theirs
HTDOCS = "/usr/local/apache2/htdocs/"
READY = "database system is ready to accept connections"
NO_PASSWORD = "Error: Database is uninitialized and superuser password is not specified."


@dataclass
class Made:
    """Names of the containers and volumes a test made, removed when it ends."""

    containers: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def client(docker_host: str) -> Iterator[Any]:
    client = docker.DockerClient(base_url=docker_host, timeout=120)
    yield client
    client.close()


@pytest.fixture(scope="module")
def pulled(engine: Engine) -> dict[str, ImageInfo]:
    """Each image pulled by the name a learner types."""
    names = ("postgres", "postgres:18", "httpd:2.4", "httpd", "docker/welcome-to-docker")
    return {name: engine.pull(name) for name in names}


@pytest.fixture
def made(client: Any) -> Iterator[Made]:
    made = Made()
    yield made
    for name in made.containers:
        with contextlib.suppress(docker.errors.NotFound):
            client.containers.get(name).remove(force=True, v=True)
    for name in made.volumes:
        with contextlib.suppress(docker.errors.NotFound):
            client.volumes.get(name).remove(force=True)


def _run(client: Any, made: Made, name: str, image: str, **options: Any) -> Any:
    made.containers.append(name)
    return client.containers.run(image, name=name, detach=True, **options)


def _wait_for_log(container: Any, *lines: str, timeout: float = 60) -> str:
    """The container's log once ``lines`` appear in it, in that order."""
    deadline = time.monotonic() + timeout
    while True:
        log = container.logs().decode(errors="replace")
        at = 0
        for line in lines:
            at = log.find(line, at)
            if at < 0:
                break
        else:
            return log
        container.reload()
        if container.status == "exited" or time.monotonic() > deadline:
            raise AssertionError(f"{lines} not in the log of {container.name}:\n{log}")
        time.sleep(0.2)


def _port(container: Any, port: str = "80/tcp") -> int:
    container.reload()
    return int(container.ports[port][0]["HostPort"])


def _get(port: int, path: str = "/", timeout: float = 20) -> str:
    """The body at ``path``, once the server answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
                body: bytes = resp.read()
                return body.decode()
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _psql(container: Any, sql: str, database: str = "example") -> str:
    argv = ["psql", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", sql]
    code, out = container.exec_run(argv)
    text: str = out.decode(errors="replace")
    assert code == 0, text
    return text.strip()


# ---------------------------------------------------------------------------------------
def test_the_images_come_from_the_mirror_under_docker_hubs_names(
    client: Any, pulled: dict[str, ImageInfo]
) -> None:
    assert pulled["postgres"].name == "postgres:latest"
    assert pulled["postgres:18"].id == pulled["postgres"].id
    assert pulled["httpd:2.4"].name == "httpd:2.4"
    assert pulled["httpd:2.4"].id == pulled["httpd"].id
    assert pulled["docker/welcome-to-docker"].name == "docker/welcome-to-docker:latest"
    for info in pulled.values():
        assert info.digests, f"{info.name} was not pulled from a registry"
        labels = client.images.get(info.id).labels
        assert labels.get("dockdojo.fixture.recipe"), info.name
    config = client.images.get("postgres").attrs["Config"]
    assert config["Entrypoint"] == ["docker-entrypoint.sh"]
    assert list(config["Volumes"]) == [VOLUME]
    assert f"PGDATA={PGDATA}" in config["Env"]
    assert "5432/tcp" in config["ExposedPorts"]
    welcome = client.images.get("docker/welcome-to-docker").attrs["Config"]
    assert welcome["Entrypoint"] == ["/docker-entrypoint.sh"]
    assert welcome["ExposedPorts"] == {"80/tcp": {}}


@pytest.mark.parametrize(("image", "target"), [("postgres:18", VOLUME), ("postgres", PGDATA)])
def test_postgres_keeps_a_row_in_a_named_volume_across_containers(
    client: Any, made: Made, name: Namer, image: str, target: str
) -> None:
    volume = name("wc-pgdata")
    made.volumes.append(volume)
    client.volumes.create(volume)
    mount = {volume: {"bind": target, "mode": "rw"}}
    env = {"POSTGRES_PASSWORD": "moby-secret", "POSTGRES_DB": "example"}
    first = _run(
        client,
        made,
        name("wc-db"),
        image,
        environment=env,
        volumes=mount,
        ports={"5432/tcp": None},
    )
    log = _wait_for_log(first, "PostgreSQL init process complete", READY)
    assert "CREATE DATABASE" in log
    created = _psql(first, "CREATE TABLE pets (name text); INSERT INTO pets VALUES ('moby')")
    assert created.splitlines() == ["CREATE TABLE", "INSERT 0 1"]
    processes = [line.split() for line in first.exec_run(["ps"]).output.decode().splitlines()]
    assert ["1", "postgres", "postgres"] in processes  # the server runs as postgres (999)

    # over TCP the password is asked for (scram-sha-256), as from another machine
    port = _port(first, "5432/tcp")
    dsn = f"host=127.0.0.1 port={port} user=postgres dbname=example connect_timeout=10"
    with psycopg.connect(f"{dsn} password=moby-secret") as conn:
        assert conn.execute("SELECT name FROM pets").fetchall() == [("moby",)]
        assert conn.execute("SHOW password_encryption").fetchone() == ("scram-sha-256",)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(f"{dsn} password=wrong").close()

    first.remove(force=True, v=True)  # its anonymous volume too; the named one stays
    second = _run(client, made, name("wc-db"), image, volumes=mount)
    log = _wait_for_log(second, "Skipping initialization", READY)
    assert "init process complete" not in log
    assert _psql(second, "SELECT name FROM pets") == "moby"


def test_psql_in_a_terminal_runs_the_guides_session(client: Any, made: Made, name: Namer) -> None:
    """``docker exec -ti db psql -U postgres``: the prompt, a table, its rows through
    psql's pager (the terminal is 5 lines high), ``\\q``."""
    db = _run(client, made, name("wc-db"), "postgres:18", environment={"POSTGRES_PASSWORD": "s"})
    _wait_for_log(db, "init process complete", READY)
    api = client.api
    exec_id = api.exec_create(
        db.id, ["psql", "-U", "postgres"], stdin=True, tty=True, environment={"LINES": "5"}
    )["Id"]
    sock = api.exec_start(exec_id, socket=True, tty=True)
    raw = sock._sock
    raw.settimeout(20)
    screen = bytearray()

    def until(text: bytes) -> None:
        start = len(screen)
        while text not in screen[start:]:
            chunk = raw.recv(4096)
            assert chunk, f"no {text!r} in {screen.decode(errors='replace')}"
            screen.extend(chunk)

    try:
        until(b"postgres=# ")
        raw.sendall(
            b"CREATE TABLE tasks (id SERIAL PRIMARY KEY, description VARCHAR(100));\r"
            b"INSERT INTO tasks (description) VALUES ('Finish work'), ('Have fun');\r"
            b"SELECT * FROM tasks;\r"
        )
        until(b"--More--")
        raw.sendall(b"q")
        until(b"postgres=# ")
        raw.sendall(b"\\q\r")
        while chunk := raw.recv(4096):
            screen.extend(chunk)
    finally:
        raw.close()
        sock.close()
    text = screen.decode(errors="replace")
    assert "INSERT 0 2" in text
    assert "1 | Finish work" in text
    assert "2 | Have fun" in text
    assert api.exec_inspect(exec_id)["ExitCode"] == 0


def test_postgres_without_a_password_stops_with_the_official_error(
    client: Any, made: Made, name: Namer
) -> None:
    container = _run(client, made, name("wc-db"), "postgres")
    assert container.wait(timeout=60)["StatusCode"] == 1
    log = container.logs().decode()
    assert NO_PASSWORD in log
    assert 'For example, "-e POSTGRES_PASSWORD=password" on "docker run".' in log
    assert READY not in log


def test_postgres_runs_a_command_or_the_server_with_its_own_options(
    client: Any, made: Made, name: Namer
) -> None:
    env = _run(client, made, name("wc-db"), "postgres", command=["env"], environment={"foo": "bar"})
    assert env.wait(timeout=30)["StatusCode"] == 0
    assert "foo=bar" in env.logs().decode().splitlines()
    command = ["docker-entrypoint.sh", "-h", "localhost", "-p", "5432"]
    server = _run(
        client,
        made,
        name("wc-db"),
        "postgres",
        command=command,
        environment={"POSTGRES_PASSWORD": "s"},
    )
    log = _wait_for_log(server, "init process complete", READY)
    assert 'listening on IPv4 address "127.0.0.1", port 5432' in log
    assert _psql(server, "SELECT current_user", database="postgres") == "postgres"


def test_httpd_says_it_works_and_serves_a_bind_mounted_folder_as_it_changes(
    client: Any, made: Made, name: Namer, short_dir: Path
) -> None:
    stock = _run(client, made, name("wc-web"), "httpd:2.4", ports={"80/tcp": None})
    assert _get(_port(stock)) == "<html><body><h1>It works!</h1></body></html>\n"
    assert "Apache/2.4" in stock.exec_run(["httpd", "-v"]).output.decode()

    site = short_dir / "public_html"
    site.mkdir(mode=0o755)
    short_dir.chmod(0o755)
    page = site / "index.html"
    page.write_text("<h1>Hello from my folder</h1>\n")
    page.chmod(0o644)
    mounted = _run(
        client,
        made,
        name("wc-web"),
        "httpd:2.4",
        ports={"80/tcp": None},
        volumes={str(site): {"bind": HTDOCS, "mode": "rw"}},
    )
    port = _port(mounted)
    assert _get(port) == "<h1>Hello from my folder</h1>\n"
    page.write_text("<h1>Changed on the host</h1>\n")
    assert _get(port) == "<h1>Changed on the host</h1>\n"
    log = _wait_for_log(mounted, '"GET / HTTP/1.1" 200')
    assert "resuming normal operations" in log


def test_httpd_on_a_read_only_bind_mount_refuses_a_write_from_inside(
    client: Any, made: Made, name: Namer, short_dir: Path
) -> None:
    short_dir.chmod(0o755)
    (short_dir / "index.html").write_text("<h1>read-only</h1>\n")
    (short_dir / "index.html").chmod(0o644)
    web = _run(
        client,
        made,
        name("wc-web"),
        "httpd:2.4",
        ports={"80/tcp": None},
        volumes={str(short_dir): {"bind": HTDOCS, "mode": "ro"}},
    )
    assert _get(_port(web)) == "<h1>read-only</h1>\n"
    code, out = web.exec_run(["sh", "-c", f"echo changed > {HTDOCS}index.html"])
    assert code != 0
    assert "Read-only file system" in out.decode()
    assert (short_dir / "index.html").read_text() == "<h1>read-only</h1>\n"


def test_welcome_to_docker_answers_on_port_80_with_its_page(
    client: Any, made: Made, name: Namer
) -> None:
    welcome = _run(
        client, made, name("wc-welcome"), "docker/welcome-to-docker", ports={"80/tcp": None}
    )
    page = _get(_port(welcome))
    assert "Congratulations!!!" in page
    assert "You ran your first container." in page
