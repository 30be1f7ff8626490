"""What the browser tests share: a Jupyter server on 127.0.0.1, Debian's Chromium driven by Playwright, screenshots.

The server is the course environment's own `jupyter lab` (or `jupyter
notebook`), with nbgrader's extensions as `make` installs them, started in
a folder of the test's choosing with a token and Jupyter folders of its own,
so nothing a developer configured for their own Jupyter leaks in.

The browser is a real Chromium, never one Playwright downloads: `COURSE_CHROMIUM`
names it, or the first of `chromium`, `chromium-browser` and `google-chrome`
on PATH (`make` installs Debian's `chromium`). Every request to anything but
the server is refused and recorded, so a page that reaches for the network
fails its test instead of hanging on it.

Every step of a browser test writes a screenshot to `browser-screenshots/`
(or `COURSE_SCREENSHOTS`), named by test and step, which CI keeps as an artifact.
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from coursetools import course

CHROMIUM_VARIABLE = "COURSE_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
SCREENSHOTS_VARIABLE = "COURSE_SCREENSHOTS"
SCREENSHOTS = Path(os.environ.get(SCREENSHOTS_VARIABLE) or course.REPOSITORY_ROOT / "browser-screenshots")
# Chromium's own traffic (updates, sync, field trials) would only be refused here: never start it
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--disable-quic", "--disable-gpu"]
# JupyterLab keeps cells out of the page while they are scrolled away; the tests read every cell
LAB_SETTINGS = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
                "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                                   "checkForUpdates": False}}
STARTUP_SECONDS = 120


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def chromium_path() -> str:
    chosen = os.environ.get(CHROMIUM_VARIABLE)
    if chosen:
        return chosen
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("the browser tests need Chromium and found none: run `make` as root to install Debian's "
                f"`chromium`, or `sudo apt-get install chromium`, or point {CHROMIUM_VARIABLE} at a Chromium or Chrome")


class JupyterServer:
    """`jupyter lab` (or `notebook`) serving `root` on 127.0.0.1 with a token, its Jupyter folders in `home`."""

    def __init__(self, root: Path, home: Path, app: str = "lab", environment: dict | None = None):
        self.root, self.home, self.app = root, home, app
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.environment = environment or {}
        self.process = None
        self.log_path = home / f"jupyter-{app}.log"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        separator = "&" if "?" in path else "?"
        return f"{self.base}/{path.lstrip('/')}{separator}token={self.token}"

    def settings_folder(self) -> Path:
        folder = self.home / "lab-settings"
        for name, values in LAB_SETTINGS.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values), encoding="utf-8")
        return folder

    def start(self) -> "JupyterServer":
        environment = {**os.environ,
                       "JUPYTER_CONFIG_DIR": str(self.home / "config"), "JUPYTER_DATA_DIR": str(self.home / "data"),
                       "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
                       "JUPYTERLAB_SETTINGS_DIR": str(self.settings_folder()),
                       "JUPYTERLAB_WORKSPACES_DIR": str(self.home / "workspaces"),
                       "IPYTHONDIR": str(self.home / "ipython"), **self.environment}
        self.log = open(self.log_path, "w+", encoding="utf-8")  # a pipe could fill up and stall the server
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", self.app, "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}"],
            cwd=self.root, stdout=self.log, stderr=subprocess.STDOUT, env=environment)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"jupyter {self.app} stopped while starting: {self.log_tail()}")
            try:
                if requests.get(self.url("api/status"), timeout=5).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.25)
        pytest.fail(f"jupyter {self.app} did not answer within {STARTUP_SECONDS} s: {self.log_tail()}")

    def log_tail(self, characters: int = 3000) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-characters:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@contextmanager
def jupyter(root: Path, home: Path, app: str = "lab", environment: dict | None = None):
    server = JupyterServer(root, home, app, environment).start()
    try:
        yield server
    finally:
        server.stop()


class Offline:
    """Refuses every request but those to `allowed` (URL prefixes), and remembers what it refused.

    Playwright's synchronous API runs this handler only while the test is inside one of its calls:
    a test that waits for the page must wait with `page.wait_for_timeout`, never `time.sleep`, or
    every request the page makes meanwhile waits too.
    """

    def __init__(self, allowed: tuple[str, ...]):
        self.allowed, self.refused = allowed, []

    def __call__(self, route) -> None:
        url = route.request.url
        if url.startswith(self.allowed):
            route.continue_()
        else:
            self.refused.append(url)
            route.abort("blockedbyclient")


@contextmanager
def chromium():
    """A headless Chromium, the same on every machine: Debian's, never a downloaded one."""
    from playwright.sync_api import sync_playwright  # only the browser tests need it

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def page_in(browser, allowed: tuple[str, ...], viewport=(1280, 900)):
    """A page in a fresh context whose only reachable addresses are `allowed`; yields (page, Offline)."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    offline = Offline(allowed)
    context.route("**/*", offline)
    page = context.new_page()
    try:
        yield page, offline
    finally:
        context.close()


def menu(page, *labels: str) -> None:
    """Choose from JupyterLab's menu bar as a person does: the menu, then each item in turn."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(labels[0])}$")).click()
    for label in labels[1:]:
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")).first.click()


class Screenshots:
    """Numbered screenshots of one test's steps: browser-screenshots/<test>/01-<step>.png, ..."""

    def __init__(self, test_name: str):
        self.folder = SCREENSHOTS / re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.count = 0

    def take(self, page, step: str, full_page: bool = False) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{re.sub(r'[^A-Za-z0-9_-]+', '-', step)}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path
