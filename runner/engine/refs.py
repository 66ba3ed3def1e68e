"""Image references, parsed and normalized the way Docker does it.

``nginx``, ``nginx:latest``, ``library/nginx`` and ``docker.io/library/nginx:latest`` all
name one image. The grammar is the Distribution project's reference grammar
(``distribution/reference/regexp.go``); anything it rejects is rejected here before it
reaches the engine, with a message that says what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InvalidReference

DEFAULT_DOMAIN = "docker.io"
OFFICIAL_NAMESPACE = "library"
DEFAULT_TAG = "latest"

_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(
    rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?\Z"
)
_TAG = re.compile(r"[\w][\w.-]{0,127}\Z")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}\Z")
_MAX_NAME = 255
_HELP = "An image reference looks like nginx, nginx:1.27 or registry.example.com/team/app:tag."


@dataclass(frozen=True)
class ImageRef:
    """A parsed, normalized image reference."""

    domain: str
    """Registry host, ``docker.io`` for Docker Hub."""
    path: str
    """Repository path in that registry, ``library/nginx`` for an official image."""
    tag: str | None
    """Tag; ``latest`` when the reference names neither tag nor digest."""
    digest: str | None = None
    """Content digest (``sha256:...``) when the reference pins one."""

    @property
    def repository(self) -> str:
        """Repository as ``docker images`` shows it: ``nginx``, ``me/app``, ``host:5000/app``."""
        if self.domain == DEFAULT_DOMAIN:
            prefix = OFFICIAL_NAMESPACE + "/"
            return self.path[len(prefix) :] if self.path.startswith(prefix) else self.path
        return f"{self.domain}/{self.path}"

    @property
    def familiar(self) -> str:
        """Short form, as people write it: ``nginx:latest``."""
        return self.repository + self._suffix()

    @property
    def canonical(self) -> str:
        """Fully qualified form: ``docker.io/library/nginx:latest``."""
        return f"{self.domain}/{self.path}{self._suffix()}"

    def _suffix(self) -> str:
        out = f":{self.tag}" if self.tag else ""
        return out + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.familiar


def parse_ref(text: str) -> ImageRef:
    """Parse ``text`` into a normalized :class:`ImageRef` or raise :class:`InvalidReference`."""
    raw = text
    text = text.strip()
    if not text:
        raise InvalidReference("The image name is empty.", _HELP)
    if any(ch.isspace() for ch in text):
        raise InvalidReference(
            f"{raw!r} is not a valid image reference: it contains spaces.", _HELP
        )
    name, digest = _split_digest(raw, text)
    name, tag = _split_tag(raw, name)
    if not name:
        raise InvalidReference(f"{raw!r} has no repository name.", _HELP)
    domain, path = _split_domain(name)
    if not _DOMAIN.match(domain):
        raise InvalidReference(f"{raw!r} has an invalid registry host {domain!r}.", _HELP)
    for component in path.split("/"):
        _check_component(raw, component)
    if len(f"{domain}/{path}") > _MAX_NAME:
        raise InvalidReference(f"{raw!r} is longer than {_MAX_NAME} characters.", _HELP)
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return ImageRef(domain=domain, path=path, tag=tag, digest=digest)


def normalize(text: str) -> str:
    """``docker.io/library/nginx`` -> ``nginx:latest``: one spelling per image."""
    return parse_ref(text).familiar


def same_image(a: str, b: str) -> bool:
    """Whether two references name the same image (``nginx`` and ``nginx:latest`` do)."""
    return parse_ref(a) == parse_ref(b)


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    if sep and (("." in first or ":" in first) or first == "localhost" or first.lower() != first):
        domain, path = first, rest
    else:
        domain, path = DEFAULT_DOMAIN, name
    if domain == "index.docker.io":
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = f"{OFFICIAL_NAMESPACE}/{path}"
    return domain, path


def _split_digest(raw: str, text: str) -> tuple[str, str | None]:
    """``name@sha256:...`` -> the name and the digest (``None`` when there is none)."""
    if "@" not in text:
        return text, None
    name, digest = text.split("@", 1)
    if not _DIGEST.match(digest):
        raise InvalidReference(
            f"{raw!r} has an invalid digest {digest!r}.",
            "A digest looks like sha256: followed by 64 hex characters.",
        )
    return name, digest


def _split_tag(raw: str, name: str) -> tuple[str, str | None]:
    """``name:tag`` -> the name and the tag (``None`` when there is none); a colon before the
    last slash belongs to the registry host's port."""
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon <= slash:
        return name, None
    name, tag = name[:colon], name[colon + 1 :]
    if not _TAG.match(tag):
        raise InvalidReference(
            f"{raw!r} has an invalid tag {tag!r}.",
            "A tag uses letters, digits, '_', '.' and '-' (at most 128, not starting "
            "with '.' or '-').",
        )
    return name, tag


def _check_component(raw: str, component: str) -> None:
    """Raise :class:`InvalidReference` unless ``component`` is a valid path component."""
    if _COMPONENT.match(component):
        return
    if component.lower() != component and _COMPONENT.match(component.lower()):
        raise InvalidReference(
            f"{raw!r} is not a valid image reference: repository names must be lowercase.",
            f"Try {component.lower()!r} instead of {component!r}.",
        )
    raise InvalidReference(
        f"{raw!r} is not a valid image reference: {component!r} may use only "
        "lowercase letters, digits and the separators '.', '_', '__' and '-'.",
        _HELP,
    )
