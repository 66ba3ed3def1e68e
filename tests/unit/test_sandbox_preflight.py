"""The sandbox says exactly what is missing (binaries, root, Linux) and installs nothing."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import pytest

from dockdojo.runner import Sandbox, SandboxError
from dockdojo.runner import sandbox as sandbox_module
from dockdojo.runner.cli import main


def test_not_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    with pytest.raises(SandboxError, match="needs Linux; this is Darwin") as err:
        sandbox_module.check_can_run()
    assert "Docker Desktop" in err.value.hint


def test_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxError, match="needs root"):
        sandbox_module.check_can_run()


def test_missing_binaries_are_named_with_their_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SandboxError) as err:
        sandbox_module.check_can_run()
    assert "dockerd (Debian/Ubuntu package docker.io)" in err.value.what
    assert "docker-registry (Debian/Ubuntu package docker-registry)" in err.value.what
    assert "apt-get install -y docker.io docker-registry iptables" in err.value.hint


def test_status_of_a_never_started_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = Sandbox(tmp_path / "box", registry_port=5999).status()
    assert not status.running
    assert status.docker_host == f"unix://{tmp_path}/box/docker.sock"
    assert main(["sandbox", "status", "--state", str(tmp_path / "box")]) == 3
    out = capsys.readouterr().out
    assert "engine: stopped" in out
    assert "registry mirror: stopped" in out


def test_cli_reports_sandbox_errors_as_sentences(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(platform, "system", lambda: "Windows")
    assert main(["sandbox", "start", "--state", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: The sandbox needs Linux; this is Windows.")
    assert "hint: Use Docker Desktop" in err
    assert not (tmp_path / "dockerd.pid").exists()


def test_help_lists_the_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("sandbox", "doctor", "pull", "images", "lab"):
        assert command in out
