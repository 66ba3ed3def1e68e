"""What a check may believe: an image by the manifest it was pulled as, a command's output
only from a program the container did not change.

The same rule holds wherever checks run (the notebook, ``dockdojo check``, the grader,
the instructor's view); only which manifests count differs, and the learner context
hands that over (:attr:`~..base.Context.images`):

- a check that names an image (``image: redis``) counts a container, or the image
  itself, only when the image was pulled as that repository at a digest that counts
  (:meth:`~dockdojo.runner.engine.TrustedImages.genuine`); ``docker tag busybox redis``
  makes a name, not a redis;
- a command run inside a container (``redis-cli``, ``mongosh``) is believed only when
  the container's image is the one it names (or one the lesson declares) as pulled (in
  a room: served by the room's mirror for a lesson image), and the container
  changed neither the command's file nor what runs it
  (:func:`~dockdojo.runner.engine.provenance.tampering`); it then runs with the image's
  own environment, so variables set with ``docker run -e`` change nothing.
"""

from __future__ import annotations

import re

from ...engine import ContainerInfo, ImageInfo, ImageRef, parse_ref
from ...engine.provenance import exec_env, pulled_as, tampering
from ...errors import InvalidReference
from ..base import Call

_HEX = re.compile(r"[0-9a-f]{12,64}")


def _ref(text: str) -> ImageRef | None:
    try:
        return parse_ref(text)
    except InvalidReference:
        return None


def _claim(text: str, image: ImageInfo | None) -> ImageRef | None:
    """The image ``text`` names by name, which ``image`` must prove to be; None when
    ``text`` is ``image``'s id (the content itself, nothing to prove) or no name."""
    bare = text.strip().removeprefix("sha256:")
    if (
        image is not None
        and _HEX.fullmatch(bare)
        and image.id.removeprefix("sha256:").startswith(bare)
    ):
        return None
    return _ref(text)


def _image_of(call: Call, container: ContainerInfo) -> ImageInfo | None:
    return call.ctx.snapshot.image_by_id(container.image_id)


def genuine(call: Call, ref: ImageRef, image: ImageInfo | None) -> bool:
    """Whether ``image`` is the image ``ref`` names, by the manifest it was pulled as."""
    return image is not None and call.ctx.images.genuine(ref, image.digests)


def forged_image(call: Call, ref_text: str, image: ImageInfo) -> str | None:
    """Why the local image named ``ref_text`` is not that image, as a sentence; or None."""
    ref = _claim(ref_text, image)
    if ref is None or genuine(call, ref, image):
        return None
    repo = ref.repository
    return (
        f"{ref.familiar} is on the engine (image {image.short_id}), but it is not the {repo} "
        f"image pulled from {call.ctx.images.origin(ref)} ({pulled_as(image.digests)}): "
        f"remove it (docker rmi {ref.familiar}) and pull it again (docker pull {repo})."
    )


def forged_container(call: Call, container: ContainerInfo) -> str | None:
    """Why ``container`` does not count as one of the check's image, as a sentence
    without its final period; None when it counts, or the check names no image."""
    text = call.args.get("image")
    image = _image_of(call, container)
    ref = _claim(str(text), image) if text is not None else None
    if ref is None or genuine(call, ref, image):
        return None
    repo = ref.repository
    origin = pulled_as(image.digests) if image is not None else "its image is gone"
    does = "runs" if container.running else "was made from"
    return (
        f"{container.name} {does} an image tagged {container.image} that is not the {repo} "
        f"image pulled from {call.ctx.images.origin(ref)} ({origin}): remove it and run "
        f"{repo} as pulled (docker pull {repo})"
    )


def command_env(
    call: Call, container: ContainerInfo, command: str, shown: str
) -> dict[str, str] | str:
    """The environment to run ``command`` (shown as ``shown``) in ``container`` with, or
    why its output cannot be trusted there (a sentence)."""
    image = _image_of(call, container)
    claimed = [r for r in map(_ref, [container.image, *call.ctx.lesson.images]) if r is not None]
    if not any(genuine(call, r, image) for r in claimed):
        origin = pulled_as(image.digests) if image is not None else "its image is gone"
        source = call.ctx.images.origin(claimed[0]) if claimed else "a registry"
        return (
            f"`{shown}` in {container.name} cannot be trusted: it runs an image tagged "
            f"{container.image} that is not an image pulled from {source} ({origin}). "
            f"Remove it (docker rm -f {container.name}) and run the image as pulled."
        )
    files = call.ctx.engine.container_files(container.name)
    why = tampering(files, command)
    if why is not None:
        return (
            f"`{shown}` in {container.name} cannot be trusted: {why}. Remove it "
            f"(docker rm -f {container.name}) and run a new container from the image as "
            "pulled, changing nothing in it but its data."
        )
    return exec_env(files)


__all__ = ["command_env", "forged_container", "forged_image", "genuine"]
