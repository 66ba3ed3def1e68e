"""The Distribution registry's HTTP API (v2), as much of it as the room mirror needs.

A :class:`Registry` is reached over TCP (``127.0.0.1:5055``, plain HTTP, or a URL) or over
a UNIX socket (the room mirror's private, writable registry). Manifests are fetched as
they are stored (Docker v2 schema 2 and OCI manifests, manifest lists and OCI indexes)
and checked against their digest; blobs are streamed, never held in memory; uploads are
monolithic (``POST /v2/NAME/blobs/uploads/``, then ``PUT ...?digest=``) with the body read
from a file object as it is sent.

Only anonymous registries are supported: one that asks for a login (Docker Hub itself)
is named in a :class:`MirrorError` that says so.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import MirrorError

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPES = (DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX)
"""The manifest media types asked for, and the only ones accepted."""
INDEX_TYPES = (DOCKER_LIST, OCI_INDEX)
"""Manifests that list other manifests (one per platform)."""

MAX_MANIFEST = 4 * 1024 * 1024
"""Largest manifest read (Distribution refuses larger ones too)."""
_BLOCK = 1 << 20
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Manifest:
    """A manifest exactly as the registry stores it."""

    media_type: str
    """Its ``Content-Type``: one of :data:`MANIFEST_TYPES`."""
    digest: str
    """``sha256:`` of ``body``, checked on arrival."""
    body: bytes
    """The bytes whose digest is ``digest``: never re-serialized."""

    @property
    def is_index(self) -> bool:
        """Whether it lists other manifests (a manifest list or an OCI index)."""
        return self.media_type in INDEX_TYPES


def sha256_digest(data: bytes) -> str:
    """``sha256:`` and the hex digest of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a UNIX socket: the host name is only what the ``Host`` header says."""

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout, blocksize=_BLOCK)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(str(self.socket_path))
        except OSError:
            sock.close()
            raise
        self.sock = sock


class Registry:
    """One registry, and the few calls of its API that copy images in and out."""

    def __init__(self, where: str | Path, *, timeout: float = 60.0) -> None:
        """``where``: ``HOST:PORT`` (plain HTTP), ``http(s)://HOST[:PORT]``, or the
        :class:`~pathlib.Path` of a UNIX socket."""
        self.timeout = timeout
        self.socket_path: Path | None = where if isinstance(where, Path) else None
        if isinstance(where, Path):
            self.scheme, self.netloc = "http", "localhost"
            self.name = f"the registry on {where}"
        else:
            parts = urllib.parse.urlsplit(where if "://" in where else f"http://{where}")
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise MirrorError(
                    f"{where!r} is not a registry address.",
                    "Give HOST:PORT (plain HTTP, e.g. 127.0.0.1:5055) or an http(s):// URL.",
                )
            self.scheme, self.netloc = parts.scheme, parts.netloc
            self.name = f"the registry at {parts.netloc}"

    # transport ------------------------------------------------------------------------
    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        if self.socket_path is not None and netloc == self.netloc:
            return _UnixConnection(self.socket_path, self.timeout)
        if scheme == "https":
            return http.client.HTTPSConnection(netloc, timeout=self.timeout, blocksize=_BLOCK)
        return http.client.HTTPConnection(netloc, timeout=self.timeout, blocksize=_BLOCK)

    @contextmanager
    def _request(
        self,
        method: str,
        target: str,
        *,
        body: bytes | BinaryIO | None = None,
        headers: dict[str, str] | None = None,
    ) -> Iterator[http.client.HTTPResponse]:
        """One request on its own connection; GET and HEAD follow redirects (a registry
        may send blobs from its storage's own address)."""
        scheme, netloc = self.scheme, self.netloc
        for _ in range(5):
            conn = self._connection(scheme, netloc)
            try:
                conn.request(method, target, body=body, headers=headers or {})
                response = conn.getresponse()
            except BaseException as exc:
                conn.close()
                if not isinstance(exc, OSError | http.client.HTTPException):
                    raise  # e.g. a digest check in the body being sent
                raise MirrorError(
                    f"{self.name} did not answer {method} {target.split('?')[0]} ({exc}).",
                    "Check that it runs and listens there.",
                ) from exc
            location = response.getheader("Location")
            if method in ("GET", "HEAD") and response.status in _REDIRECTS and location:
                conn.close()
                parts = urllib.parse.urlsplit(location)
                if parts.netloc:
                    scheme, netloc = parts.scheme, parts.netloc
                target = urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))
                continue
            try:
                yield response
            finally:
                conn.close()
            return
        raise MirrorError(f"{self.name} redirected {target} too often.", "Check its settings.")

    def _fail(self, response: http.client.HTTPResponse, doing: str) -> MirrorError:
        """The registry's refusal as a :class:`MirrorError` (its error codes in words)."""
        detail = _error_text(response)
        if response.status == 401:
            return MirrorError(
                f"{self.name} asks for a login to {doing}.",
                "dockdojo reads and writes only registries without authentication "
                "(a local registry, the room mirror).",
            )
        if response.status == 405:
            return MirrorError(
                f"{self.name} refused to {doing}: it is read-only "
                f"({response.status} {response.reason}{detail}).",
                "Load images into the room mirror with dockdojo room mirror load ARCHIVE.",
            )
        return MirrorError(
            f"{self.name} refused to {doing} ({response.status} {response.reason}{detail}).",
            "Check the name and that the registry holds it.",
        )

    # reading ----------------------------------------------------------------------------
    def ping(self) -> bool:
        """Whether a registry answers ``GET /v2/`` (a login prompt counts as an answer)."""
        try:
            with self._request("GET", "/v2/") as response:
                response.read()
                return response.status in (200, 401)
        except MirrorError:
            return False

    def catalog(self) -> list[str]:
        """Every repository, in the registry's order (all pages)."""
        names: list[str] = []
        target: str | None = "/v2/_catalog?n=1000"
        while target:
            with self._request("GET", target) as response:
                if response.status != 200:
                    raise self._fail(response, "list its repositories")
                names += json.loads(response.read()).get("repositories") or []
                target = _next_page(response.getheader("Link"))
        return names

    def tags(self, repository: str) -> list[str]:
        """The repository's tags, sorted (none when it does not exist)."""
        with self._request("GET", f"/v2/{repository}/tags/list") as response:
            if response.status == 404:
                response.read()
                return []
            if response.status != 200:
                raise self._fail(response, f"list the tags of {repository}")
            return sorted(json.loads(response.read()).get("tags") or [])

    def manifest(self, repository: str, reference: str) -> Manifest | None:
        """The manifest ``repository:reference`` (a tag or a digest) as stored, its digest
        checked; ``None`` when the registry does not hold it."""
        headers = {"Accept": ", ".join(MANIFEST_TYPES)}
        with self._request(
            "GET", f"/v2/{repository}/manifests/{reference}", headers=headers
        ) as response:
            if response.status == 404:
                response.read()
                return None
            if response.status != 200:
                raise self._fail(response, f"send the manifest {repository}:{reference}")
            body = response.read(MAX_MANIFEST + 1)
            media_type = (response.getheader("Content-Type") or "").split(";")[0].strip()
            sent = response.getheader("Docker-Content-Digest")
        where = f"{repository}{'@' if reference.startswith('sha256:') else ':'}{reference}"
        if len(body) > MAX_MANIFEST:
            raise MirrorError(f"The manifest of {where} is larger than 4 MiB.", "")
        if media_type not in MANIFEST_TYPES:
            raise MirrorError(
                f"{self.name} sent {where} as {media_type or 'no media type'}, which dockdojo "
                "does not copy.",
                "Only Docker v2 schema 2 and OCI manifests (and their lists) are supported; "
                "push the image again with a current Docker.",
            )
        digest = sha256_digest(body)
        expected = reference if reference.startswith("sha256:") else sent
        if expected and expected != digest:
            raise MirrorError(
                f"{self.name} sent a manifest for {where} whose digest is {digest}, "
                f"not {expected}.",
                "The registry's storage may be damaged; check it.",
            )
        return Manifest(media_type, digest, body)

    def has_blob(self, repository: str, digest: str) -> bool:
        """Whether ``repository`` holds (is linked to) the blob."""
        with self._request("HEAD", f"/v2/{repository}/blobs/{digest}") as response:
            response.read()
            return response.status == 200

    @contextmanager
    def blob(self, repository: str, digest: str, size: int) -> Iterator[BinaryIO]:
        """The blob's bytes as a stream of ``size`` bytes (the caller checks the digest)."""
        with self._request("GET", f"/v2/{repository}/blobs/{digest}") as response:
            if response.status != 200:
                raise self._fail(response, f"send the blob {digest} of {repository}")
            length = response.getheader("Content-Length")
            if length is not None and int(length) != size:
                raise MirrorError(
                    f"{self.name} sent {length} bytes for the blob {digest} of "
                    f"{repository}; its manifest says {size}.",
                    "The registry's storage may be damaged; check it.",
                )
            yield response

    # writing ---------------------------------------------------------------------------
    def push_blob(self, repository: str, digest: str, size: int, data: BinaryIO) -> None:
        """Upload ``size`` bytes read from ``data`` as the blob ``digest`` (one PUT).

        The registry checks the digest too; an exception raised by ``data.read`` (a digest
        check of its own) aborts the upload, which is then cancelled.
        """
        location = self._start_upload(repository, "")
        separator = "&" if "?" in location else "?"
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        try:
            with self._request(
                "PUT", f"{location}{separator}digest={digest}", body=data, headers=headers
            ) as response:
                if response.status != 201:
                    raise self._fail(response, f"store the blob {digest} in {repository}")
                response.read()
        except BaseException:
            self._cancel(location)
            raise

    def mount_blob(self, repository: str, digest: str, source: str) -> bool:
        """Link a blob the registry holds in ``source`` into ``repository`` without sending
        it again; False when the registry would rather have it uploaded."""
        query = urllib.parse.urlencode({"mount": digest, "from": source})
        with self._request("POST", f"/v2/{repository}/blobs/uploads/?{query}") as response:
            response.read()
            if response.status == 201:
                return True
            location = response.getheader("Location")
            if response.status != 202 or not location:
                raise self._fail(response, f"link the blob {digest} into {repository}")
        self._cancel(_target(location))
        return False

    def put_manifest(self, repository: str, reference: str, manifest: Manifest) -> None:
        """Store ``manifest`` under a tag or its digest; every blob and manifest it names
        must be in ``repository`` already."""
        headers = {"Content-Type": manifest.media_type}
        with self._request(
            "PUT", f"/v2/{repository}/manifests/{reference}", body=manifest.body, headers=headers
        ) as response:
            if response.status != 201:
                raise self._fail(response, f"store the manifest {repository}:{reference}")
            response.read()
            stored = response.getheader("Docker-Content-Digest")
        if stored and stored != manifest.digest:
            raise MirrorError(
                f"{self.name} stored the manifest {repository}:{reference} as {stored}, "
                f"not {manifest.digest}.",
                "Its storage may be damaged; check it.",
            )

    def _start_upload(self, repository: str, query: str) -> str:
        with self._request("POST", f"/v2/{repository}/blobs/uploads/{query}") as response:
            response.read()
            location = response.getheader("Location")
            if response.status != 202 or not location:
                raise self._fail(response, f"start an upload to {repository}")
        return _target(location)

    def _cancel(self, location: str) -> None:
        try:
            with self._request("DELETE", location) as response:
                response.read()
        except MirrorError:
            pass


def _target(location: str) -> str:
    """An upload ``Location`` (absolute or relative) as a request target."""
    parts = urllib.parse.urlsplit(location)
    return urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))


def _next_page(link: str | None) -> str | None:
    """The target of a ``Link: <...>; rel="next"`` header."""
    if not link or 'rel="next"' not in link:
        return None
    return link.split(";")[0].strip().strip("<>") or None


def _error_text(response: http.client.HTTPResponse) -> str:
    """``: CODE: message`` from the registry's JSON error body, or nothing."""
    try:
        errors = json.loads(response.read(64 * 1024)).get("errors") or []
    except (ValueError, OSError, AttributeError, http.client.HTTPException):
        return ""
    words = [f"{e.get('code', '')}: {e.get('message', '')}" for e in errors if isinstance(e, dict)]
    return f"; {'; '.join(words)}" if words else ""


__all__ = [
    "DOCKER_LIST",
    "DOCKER_MANIFEST",
    "INDEX_TYPES",
    "MANIFEST_TYPES",
    "MAX_MANIFEST",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "Manifest",
    "Registry",
    "sha256_digest",
]
