"""Sharing a folder that cannot be shared: the engine's refusal (a rootless engine runs as
the learner and may not open another user's folder) and dockdojo's own checks of a
bind mount's folder, each as a sentence with the next step."""

from __future__ import annotations

from pathlib import Path

import pytest
from docker.errors import APIError
from requests import Response

from dockdojo.runner import DockdojoError, parse_mount
from dockdojo.runner.engine.translate import Op, translate


def test_the_engines_permission_refusal_names_the_folder_and_what_to_share() -> None:
    response = Response()
    response.status_code = 500
    refusal = APIError(
        "500 Server Error",
        response=response,
        explanation="error while creating mount source path '/home/bob/private': mkdir "
        "/home/bob: permission denied",
    )
    said = translate(refusal, Op("running httpd:2.4", "run", "httpd:2.4"), "unix:///x.sock")
    assert said.what == (
        "The folder /home/bob/private cannot be shared with the container: the engine "
        "runs as you, and you may not open it (permission denied)."
    )
    assert "Share a folder of your own, such as one beside the notebook" in said.hint


def test_a_folder_that_is_not_there_is_named_with_its_fix(tmp_path: Path) -> None:
    with pytest.raises(DockdojoError) as missing:
        parse_mount("./public_html:/usr/local/apache2/htdocs", base=tmp_path)
    assert missing.value.what == (
        f"The folder '{tmp_path / 'public_html'}' to share does not exist."
    )
    assert missing.value.hint == "Create it first (mkdir ./public_html), then run again."
    (tmp_path / "public_html").mkdir()
    shared = parse_mount("./public_html:/usr/local/apache2/htdocs/:ro", base=tmp_path)
    assert (shared.source, shared.target, shared.read_only, shared.kind) == (
        str(tmp_path / "public_html"),
        "/usr/local/apache2/htdocs",
        True,
        "bind",
    )
