"""Fixtures for the browser tests: Debian's Chromium driven by Playwright (sync API), the real
server started as a subprocess on 127.0.0.1, screenshots kept in test-artifacts/.

Never `playwright install`: the browser is /usr/bin/chromium.
"""
from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.chromium import BROWSER_ARGS, CHROMIUM  # noqa: F401  (imported from here by other tests)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)[:120]


class Shots:
    """Screenshots of each step (kept) and of every open page when the test fails."""

    def __init__(self, test_name: str):
        self.dir = ARTIFACTS / _slug(test_name)
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("*.png"):  # a previous run's pictures would mislead
            old.unlink()
        self.pages: dict[str, object] = {}
        self.count = 0

    def watch(self, name: str, page):
        self.pages[name] = page
        return page

    def take(self, page, step: str, full_page: bool = True):
        self.count += 1
        page.screenshot(path=str(self.dir / f"{self.count:02d}-{_slug(step)}.png"), full_page=full_page)

    def on_failure(self):
        for name, page in self.pages.items():
            try:
                page.screenshot(path=str(self.dir / f"FAILED-{_slug(name)}.png"), full_page=True)
            except Exception:  # the page may be closed or crashed; keep the others
                pass


@pytest.fixture
def new_context(browser):
    """A factory of browser contexts, all closed after the test (and after failure screenshots)."""
    contexts = []

    def make(**options):
        context = browser.new_context(**options)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shots(request, new_context):
    recorder = Shots(request.node.nodeid.split("::", 1)[-1])
    yield recorder
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        recorder.on_failure()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    """`python server.py` on 127.0.0.1:`port` with its own SQLite database and secret key."""

    def __init__(self, tmp: Path, port: int | None = None, secret_key: str | None = None):
        self.tmp = tmp
        self.port = port or _free_port()
        self.secret_key = secret_key or secrets.token_hex(32)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / "server.log"
        self.process = None

    def start(self) -> "ServerProcess":
        env = {
            **os.environ,
            "VISUS_HOST": "127.0.0.1",
            "VISUS_PORT": str(self.port),
            "VISUS_SECRET_KEY": self.secret_key,
            "DATABASE_URL": f"sqlite:///{self.tmp / 'e2e.sqlite'}",
            "PYTHONUNBUFFERED": "1",
        }
        log = open(self.log_path, "a")
        self.process = subprocess.Popen(
            [sys.executable, "server.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()}")
            try:
                if requests.get(f"{self.base_url}/healthz", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError(f"server did not answer /healthz in 30 s:\n{self.log_path.read_text()}")
            time.sleep(0.1)  # polling a starting process: there is no event to await

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def keep_log(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        if self.log_path.exists():
            (ARTIFACTS / name).write_text(self.log_path.read_text())


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The server for the browser tests (one per run); yields its base URL."""
    server = ServerProcess(tmp_path_factory.mktemp("e2e-server")).start()
    yield server.base_url
    server.stop()
    server.keep_log("server.log")
