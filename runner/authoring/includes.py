"""Reading what a lesson is made of, safely: its own file and the files it includes.

A page comes from an author's pull request or from another site, so nothing in it may
make the builder read outside the site, wait forever or fill the memory:

- :func:`read_text` reads a regular file only (never a folder, device or pipe), at most
  a given size, as UTF-8 without a leading byte-order mark;
- :func:`control_characters` finds NUL and other control characters, which a lesson
  never needs (and which would be taken for the builder's own markers);
- :class:`Includes` finds ``{{< include "NAME" >}}`` where Hugo does (``_includes/``
  beside the page, then ``content/includes/`` of the site) and refuses a name that leads
  out of its folder (``..``, an absolute path, a link), includes nested deeper than
  :data:`MAX_DEPTH`, and more than :data:`MAX_INCLUDED` bytes or :data:`MAX_INCLUDES`
  includes for one page.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from pathlib import Path

MAX_PAGE = 512 << 10
"""The largest lesson file, in bytes: guide pages are a few dozen KiB, and markdown-it
takes about 15 seconds here for 512 KiB of the slowest text known (a line of ``![``)."""
MAX_DEPTH = 8
"""How deeply includes may nest (an include inside an include... of a page)."""
MAX_INCLUDED = 512 << 10
"""How many bytes the includes of one page may add, all together (so a page and its
includes hold at most 1 MiB)."""
MAX_INCLUDES = 200
"""How many includes one page may make, all together (nested ones count)."""
SITE_CONFIGS = ("hugo.yaml", "hugo.yml", "hugo.toml", "hugo.json", "config.yaml", "config.toml")
"""Files that mark a Hugo site's root folder."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


class Unreadable(Exception):
    """A file that is not read: ``str()`` says why, as the end of a sentence."""


class TooLarge(Unreadable):
    """A file larger than the bytes it may have."""


class NotAFile(Unreadable):
    """A folder, a device or a pipe where a Markdown file was expected."""


def read_text(path: Path, limit: int) -> str:
    """The text of the regular file ``path`` (links followed), at most ``limit`` bytes,
    with a leading byte-order mark removed. Raises :class:`Unreadable`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a pipe must not block the open
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc})") from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        kind = "a folder" if stat.S_ISDIR(mode) else "a device or a pipe"
        raise NotAFile(f"is {kind}, not a Markdown file")
    with os.fdopen(fd, "rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"is larger than {_size(limit)}; a lesson's text is smaller")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise Unreadable(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8"
        ) from exc
    return text.removeprefix("\ufeff")


def control_characters(text: str) -> list[tuple[int, str]]:
    """(line, sentence) for each line (the first 5) with a NUL or other control character."""
    found: list[tuple[int, str]] = []
    for match in _CONTROL.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        if found and found[-1][0] == line:
            continue
        char = match.group()
        name = "a NUL byte" if char == "\0" else f"the control character U+{ord(char):04X}"
        found.append(
            (line, f"{name} is not text a lesson may hold; remove it (write \\0 to show one)")
        )
        if len(found) == 5:
            break
    return found


def site_root(page: Path) -> Path:
    """The root of the site ``page`` is in: the nearest folder above it that holds a Hugo
    configuration file, or holds the ``content/`` folder the page is in; for a page
    outside any site, its own folder."""
    folder = Path(os.path.abspath(page)).parent
    for above in (folder, *folder.parents):
        if any((above / name).is_file() for name in SITE_CONFIGS):
            return above
        if above.name == "content" and above.parent != above:
            return above.parent
    return folder


def page_home(page: Path) -> Path:
    """The folder a page must really be in: the ``content/`` folder it is in, else its
    site's root (:func:`site_root`)."""
    folder = Path(os.path.abspath(page)).parent
    for above in (folder, *folder.parents):
        if above.name == "content":
            return above
    return site_root(page)


def include_folders(page: Path) -> list[Path]:
    """Where ``{{< include NAME >}}`` is looked up for ``page``, in order."""
    beside = Path(os.path.abspath(page)).parent / "_includes"
    return [beside, site_root(page) / "content" / "includes"]


class Refused(Exception):
    """An include the builder will not read: ``str()`` says why and what to do."""


class Stopped(Refused):
    """An include after a bound was reached: already said once, not said again."""


class Includes:
    """The includes of one page: where each is found, and the bounds over all of them."""

    def __init__(self, page: Path) -> None:
        self.root = Path(os.path.realpath(site_root(page)))
        self.folders = include_folders(page)
        self.count = 0
        self.size = 0
        self.stopped = False
        """Whether a bound was reached: no include is read after that."""

    def searched(self) -> str:
        """The folders searched, as messages name them."""
        return " or ".join(f"{_shown(f)}/" for f in self.folders)

    def find(self, name: str, trail: list[Path]) -> tuple[Path, str] | None:
        """The real path and text of the include ``name``, made inside ``trail`` (the real
        paths of the includes it is in); None when no folder has it.

        Raises :class:`Refused` for a name that leads outside its folder, a file that is not
        a regular file, and includes beyond the bounds; :class:`Unreadable` for a file that
        is not UTF-8 or cannot be read.
        """
        if self.stopped:
            raise Stopped("is not read: an earlier include of this page reached a bound")
        if not name.strip() or _CONTROL.search(name) or Path(name).is_absolute():
            raise Refused(
                "is not a name inside the include folders: name a file relative to "
                f"{self.searched()}"
            )
        if os.path.normpath(name).split(os.sep)[0] == "..":
            raise Refused(
                f"leads outside the include folders; name a file inside {self.searched()}"
            )
        for folder in self.folders:
            path = self._inside(folder, name)
            if path is not None:
                return path, self._read(path, trail)
        return None

    def _inside(self, folder: Path, name: str) -> Path | None:
        """The real path of ``folder/name`` when it exists; :class:`Refused` when it, or
        the folder itself, leads outside the site's folders."""
        if not os.path.lexists(folder / name):
            return None
        real_folder = Path(os.path.realpath(folder))
        if os.path.islink(folder) or not _within(real_folder, self.root):
            raise Refused(  # even inside the site: it could open the repository's .git/
                f"is in {_shown(folder)}/, which is a link to {real_folder}; make the "
                "include folder a real folder"
            )
        try:
            path = Path(os.path.realpath(folder / name, strict=True))
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise Refused(
                    "is a symbolic link that leads back to itself; point it at a Markdown file"
                ) from None
            path = Path(os.path.realpath(folder / name))  # dangling: read_text says so
        if not _within(path, real_folder):
            raise Refused(
                f"leads outside {_shown(folder)}/ (to {path}); include only files inside it"
            )
        return path

    def _read(self, path: Path, trail: list[Path]) -> str:
        if len(trail) >= MAX_DEPTH:
            self.stopped = True
            raise Refused(
                f"would nest includes more than {MAX_DEPTH} deep; include the shared text "
                "at fewer levels"
            )
        self.count += 1
        if self.count > MAX_INCLUDES:
            self.stopped = True
            raise Refused(
                f"is one include too many: a page may make {MAX_INCLUDES} includes, nested "
                "ones counted; include less, or split the page"
            )
        try:
            text = read_text(path, MAX_INCLUDED - self.size)
        except TooLarge:
            self.stopped = True
            raise Refused(
                f"would make this page's includes larger than {_size(MAX_INCLUDED)} "
                "together; include less, or split the page"
            ) from None
        except NotAFile as exc:
            raise Refused(f"{exc}; include a Markdown file") from None
        self.size += len(text.encode("utf-8"))
        return text


def _shown(folder: Path) -> str:
    """A folder as messages name it: relative to the current folder when inside it, its
    links not followed (so a linked folder is named as the page sees it)."""
    relative = os.path.relpath(folder, Path.cwd())
    return str(folder) if relative.startswith("..") else relative


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _size(limit: int) -> str:
    if limit % 1024:
        return f"{limit} bytes"
    return f"{limit >> 20} MiB" if not limit % (1 << 20) else f"{limit >> 10} KiB"


__all__ = [
    "MAX_DEPTH",
    "MAX_INCLUDED",
    "MAX_INCLUDES",
    "MAX_PAGE",
    "Includes",
    "NotAFile",
    "Refused",
    "Stopped",
    "TooLarge",
    "Unreadable",
    "control_characters",
    "include_folders",
    "page_home",
    "read_text",
    "site_root",
]
