"""Fixtures for the browser tests: Debian's Chromium driven by Playwright (sync API; the browser,
contexts and screenshots are fixtures of tests/conftest.py), the real server started as a
subprocess on 127.0.0.1, screenshots kept in test-artifacts/.

Never `playwright install`: the browser is /usr/bin/chromium.
"""

from __future__ import annotations

import pytest

from devtools.chromium import BROWSER_ARGS, CHROMIUM, FAKE_MEDIA_ARGS
from devtools.servers import WORKER
from tests.support.server import ServerProcess


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The server for the browser tests (one per run, one per pytest-xdist worker); yields its base URL."""
    server = ServerProcess(tmp_path_factory.mktemp("e2e-server")).start()
    yield server.base_url
    server.stop()
    server.keep_log(f"server-{WORKER}.log" if WORKER else "server.log")


@pytest.fixture
def server(tmp_path):
    """A server of the test's own (a fresh database the test may read: `stored_trials`, `db_path`)."""
    server = ServerProcess(tmp_path).start()
    yield server
    server.stop()


# The video call's tests (tests/e2e/test_call.py, test_live_layout.py) launch a browser of their own
# with fake camera and microphone, so the other browser tests keep theirs.
CALL_ARGS = BROWSER_ARGS + FAKE_MEDIA_ARGS

# Test-only instrumentation: every RTCPeerConnection the page makes is kept where the test can
# ask it for getStats(); the application's code is not changed for it.
RECORD_PEERS = """
window.__peers = [];
const NativePeer = window.RTCPeerConnection;
window.RTCPeerConnection = class extends NativePeer {
  constructor(config) { super(config); window.__peers.push({pc: this, config}); }
};
"""


@pytest.fixture(scope="module")
def call_server(tmp_path_factory):
    """A server for a module's calls that need nothing of a server of their own (each test makes a test
    of its own on it; a server start is about 3 s here)."""
    server = ServerProcess(tmp_path_factory.mktemp("call-server")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def call_browser(playwright_instance):
    launched = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CALL_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def call_context(call_browser):
    contexts = []

    def make(**options):
        context = call_browser.new_context(**options)
        context.add_init_script(RECORD_PEERS)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
