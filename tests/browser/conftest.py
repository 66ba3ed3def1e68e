"""A real JupyterLab (started here, on a free port with a token) and a real Chromium.

The lesson notebooks are copied to a temporary folder first, so nothing the browser
saves touches lessons/. Kernels reach the sandbox engine through DOCKER_HOST.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser.labserver import ROOT, Lab
from common_kit import free_port
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("DOCKDOJO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    host = os.environ.get("DOCKDOJO_TEST_DOCKER_HOST")
    if not host:
        pytest.fail(
            "DOCKDOJO_TEST_DOCKER_HOST is not set: run the browser tests through "
            "make test, which starts the sandbox."
        )
    folder = tmp_path_factory.mktemp("lab")
    for notebook in (ROOT / "lessons").glob("*.ipynb"):
        shutil.copy(notebook, folder / notebook.name)
    # Every cell stays in the page (no windowed rendering), and no news prompt.
    settings = folder / ".settings"
    (settings / "@jupyterlab/notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings").write_text(
        '{"windowingMode": "none"}'
    )
    (settings / "@jupyterlab/apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false"}'
    )
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, "DOCKER_HOST": host, "JUPYTER_RUNTIME_DIR": str(folder / ".runtime")}
    log = (folder / "jupyter.log").open("wb")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            f"--ServerApp.token={token}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={folder}",
            f"--LabApp.user_settings_dir={settings}",
            "--ServerApp.port_retries=0",
        ],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(
                    "JupyterLab did not start:\n"
                    + (folder / "jupyter.log").read_text(errors="replace")[-3000:]
                )
            time.sleep(0.2)
    try:
        yield Lab(url, token, folder)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium).")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()
