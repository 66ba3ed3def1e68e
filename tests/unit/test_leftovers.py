"""Finding and deleting what a user left: the mount table read, subordinate ids read,
and the real find(1) over a folder of files given owners by root."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockdojo.runner.privileged import leftovers

MOUNTINFO = [
    "22 1 254:0 / / rw,relatime - ext4 /dev/vda rw",
    "23 22 0:5 / /proc rw - proc proc rw",
    "24 22 254:0 /var/lib /srv/bound rw - ext4 /dev/vda rw",
    "25 22 0:30 / /dev/shm rw,nosuid - tmpfs tmpfs rw",
    "26 22 0:31 / /mnt/cd ro - ext4 /dev/vdb ro",
    "27 22 0:32 / /mnt/nfs rw - nfs4 server:/x rw",
    "28 22 0:33 / /mnt/with\\040space rw - xfs /dev/vdc rw",
]


def test_one_writable_mount_per_local_file_system() -> None:
    assert leftovers.local_mounts(MOUNTINFO) == [
        Path("/"),
        Path("/dev/shm"),
        Path("/mnt/with space"),
    ]


def test_subordinate_range(tmp_path: Path) -> None:
    table = tmp_path / "subuid"
    table.write_text("ada:100000:65536\nbob:165536:0\nbroken:x:1\n")
    assert leftovers.subordinate_range("ada", table) == (100000, 165535)
    assert leftovers.subordinate_range("bob", table) is None
    assert leftovers.subordinate_range("broken", table) is None
    assert leftovers.subordinate_range("eve", table) is None
    assert leftovers.subordinate_range("ada", tmp_path / "missing") is None


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Path]:
    """A folder whose files get other owners; deleted at the end, whatever is in it (a
    file of a uid left behind would stop a later grading pool handed that uid)."""
    root = tmp_path / "host"
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="gives files owners: needs root")
def test_finds_and_deletes_exactly_the_owners_files(host: Path) -> None:
    root = host
    (root / "keep").mkdir(parents=True)
    owned = {
        root / "file": 61001,
        root / "sub-id": 262144 + 5,
        root / "folder[1]": 61001,
    }
    for path, uid in owned.items():
        if path.name.startswith("folder"):
            path.mkdir()
            (path / "inside").write_text("x")  # root's, inside the user's folder
        else:
            path.write_text("x")
        os.chown(path, uid, uid)
    deep = root / "deep" / "a" / "b"  # found by the search of deep, one of those side by side
    deep.parent.mkdir(parents=True)
    deep.write_text("x")
    os.chown(deep, 262144 + 7, 262144 + 7)
    owned[deep] = 262144 + 7
    (root / "folder[1]" / "theirs").write_text("x")  # inside a folder found: not listed
    os.chown(root / "folder[1]" / "theirs", 61001, 61001)
    os.mkfifo(root / "fifo")
    os.chown(root / "fifo", 61001, 61001)
    (root / "link").symlink_to("/etc/shadow")
    os.lchown(root / "link", 61001, 61001)
    others = {root / "other": 61002, root / "below": 262143, root / "keep" / "skipped": 61001}
    for path, uid in others.items():
        path.write_text("x")
        os.chown(path, uid, uid)
    ranges = [(61001, 61001), (262144, 262144 + 65535)]
    skip = [root / "keep"]

    found = set(leftovers.find_owned(ranges, [root], skip=skip))
    assert found == {*owned, root / "fifo", root / "link"}
    assert (root / "folder[1]" / "inside") not in found  # a folder stands for its contents

    deleted = leftovers.sweep(ranges, [root], skip=skip)
    assert set(deleted) == found
    assert all(p.exists() for p in others)
    assert not leftovers.find_owned(ranges, [root], skip=skip)


def test_a_range_that_is_no_range_is_refused() -> None:
    with pytest.raises(ValueError, match="not a range"):
        leftovers.find_owned([(0, 10)], [Path("/nonexistent")])
