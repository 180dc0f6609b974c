"""Fixtures for the browser tests: Debian's Chromium driven by Playwright (sync API; the browser,
contexts and screenshots are fixtures of tests/conftest.py), the real server started as a
subprocess on 127.0.0.1, screenshots kept in test-artifacts/.

Never `playwright install`: the browser is /usr/bin/chromium.
"""

from __future__ import annotations

import pytest

from tests.support.server import ServerProcess


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The server for the browser tests (one per run); yields its base URL."""
    server = ServerProcess(tmp_path_factory.mktemp("e2e-server")).start()
    yield server.base_url
    server.stop()
    server.keep_log("server.log")
