"""Sharing folders with containers in a room: each learner's engine is rootless and runs
as the learner, so a learner shares only folders they may read. Their own folder is
served (read-write, and read-only through the server); another user's private folder
is refused with a dockdojo message, by dockdojo before the engine when the learner's
kernel asks (Run's Volumes), and by the engine's refusal, translated, when it is asked
directly (the docker CLI's request)."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lesson_kit import check, lesson, step
from room.seats import Room, Seat, add_user, leftovers, new_room, remove_user

from dockdojo.runner import DockdojoError, Engine, RunSettings, parse_mount
from dockdojo.runner.engine.running import Mount
from dockdojo.runner.kinds import run_check
from dockdojo.runner.privileged import firewall

pytestmark = pytest.mark.engine

LESSON = "sharing-local-files"
HTDOCS = "/usr/local/apache2/htdocs"


@pytest.fixture(scope="module")
def room(mirror_port: int) -> Iterator[Room]:
    with new_room(mirror_port) as room:
        yield room


@pytest.fixture(scope="module")
def pair(room: Room) -> Iterator[list[Seat]]:
    """Two learners (shr-...) with their engines, httpd pulled on the first's."""
    people = [add_user(f"shr-{uuid.uuid4().hex[:6]}") for _ in range(2)]
    taken = [Seat(who, room.engine(who)) for who in people]
    try:
        for seat in taken:
            assert seat.engine.start().running
        with _engine(taken[0]) as engine:
            engine.pull("httpd:2.4")
        yield taken
    finally:
        try:
            for seat in taken:
                seat.engine.stop()
            left = {s.who.name: leftovers(s.engine, s.who) for s in taken}
        finally:
            for seat in taken:
                remove_user(seat.who)
        assert not any(left.values()), f"left behind after stop: {left}"


def _engine(seat: Seat) -> Engine:
    return Engine(
        seat.docker_host,
        lesson=LESSON,
        learner=seat.who.name,
        host_ip=firewall.address(seat.who.uid),  # as the room hands it to the widgets
    )


def _own_folder(seat: Seat, name: str, page: str) -> Path:
    """A folder in the learner's home with an index.html, made as their session makes it."""
    folder = seat.who.home / "dockdojo-lessons" / name
    folder.mkdir(parents=True)
    (folder / "index.html").write_text(page)
    for path in (folder.parent, folder, folder / "index.html"):
        os.chown(path, seat.who.uid, seat.who.gid)
    folder.parent.chmod(0o700)  # the lessons folder is the learner's alone
    return folder


def _as_learner(seat: Seat, text: str) -> str:
    """``parse_mount(text)`` in a process of the learner's uid (as their kernel runs it):
    what it raises, as its message, or ``shared``."""
    reader, writer = multiprocessing.Pipe(duplex=False)

    def child() -> None:
        os.setgroups([])
        os.setresgid(seat.who.gid, seat.who.gid, seat.who.gid)
        os.setresuid(seat.who.uid, seat.who.uid, seat.who.uid)
        try:
            parse_mount(text, base=seat.who.home)
            writer.send("shared")
        except DockdojoError as error:
            writer.send(f"{error.what}\n{error.hint}")

    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(30)
    assert process.exitcode == 0
    said = reader.recv()
    assert isinstance(said, str)
    return said


def _bind_file(engine: Engine, **args: Any) -> tuple[bool, str]:
    spec = check("bind_file", path=f"{HTDOCS}/index.html", port=80, **args)
    own = lesson(LESSON, step("s", spec))
    result = run_check(engine, own, own.steps[0], spec)
    return result.passed, result.message


def test_a_learner_shares_their_own_folder_read_write_and_read_only(pair: list[Seat]) -> None:
    ada = pair[0]
    folder = _own_folder(ada, "public_html", f"<h1>Hello from {ada.who.name}</h1>\n")
    assert _as_learner(ada, f"./dockdojo-lessons/public_html:{HTDOCS}") == "shared"
    with _engine(ada) as engine:
        for ro, name in ((False, "my_site"), (True, "my_site_ro")):
            mount = parse_mount(f"{folder}:{HTDOCS}" + (":ro" if ro else ""))
            engine.run("httpd:2.4", name=name, ports={80: 0}, settings=RunSettings(mounts=(mount,)))
            passed, message = _bind_file(engine, name=name, contains=f"Hello from {ada.who.name}")
            assert passed, message
            assert f"from the host folder {folder}" in message
            # a rootless engine cannot read a read-only mount's files itself: its server can
            assert ("read through its server" in message) is ro
        # the Files tab says so plainly for the read-only one, instead of "no such file"
        with pytest.raises(DockdojoError) as unreadable:
            engine.explore("my_site_ro").folder(HTDOCS)
        assert "it has a folder shared read-only (:ro)" in unreadable.value.what
        assert engine.explore("my_site").read_file(f"{HTDOCS}/index.html").text == (
            f"<h1>Hello from {ada.who.name}</h1>\n"
        )
        for name in ("my_site", "my_site_ro"):
            engine.remove_container(name)


def test_another_users_private_folder_cannot_be_shared(pair: list[Seat]) -> None:
    ada, bob = pair
    bobs = _own_folder(bob, "private", "bob's own\n")
    bob.who.home.chmod(0o700)
    roots = Path("/srv") / f"shr-private-{uuid.uuid4().hex[:6]}"  # root's, 0700, reachable
    roots.mkdir(mode=0o700)
    (roots / "index.html").write_text("root only\n")
    try:
        # the learner's kernel (Run's Volumes): dockdojo refuses before the engine
        for folder in (bobs, roots):
            said = _as_learner(ada, f"{folder}:{HTDOCS}")
            assert f"You may not read '{folder}', so it cannot be shared" in said
            assert "a container sees only what you may read" in said
            assert "Share a folder of your own" in said
        # the engine asked directly (as the docker CLI asks): its refusal, translated
        shared = RunSettings(mounts=(Mount(str(bobs), HTDOCS, False, "bind"),))
        with _engine(ada) as engine, pytest.raises(DockdojoError) as refused:
            engine.run("httpd:2.4", name="shr-peek", ports={80: 0}, settings=shared)
        assert f"The folder {bobs} cannot be shared with the container" in refused.value.what
        assert "you may not open it (permission denied)" in refused.value.what
        assert "another user's private folder stays theirs" in refused.value.hint
        with _engine(ada) as engine, contextlib.suppress(DockdojoError):
            engine.remove_container("shr-peek")  # none was made; nothing of bob's was read
        assert (bobs / "index.html").read_text() == "bob's own\n"
    finally:
        shutil.rmtree(roots)
