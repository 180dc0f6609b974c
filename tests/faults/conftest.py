"""Fixtures for the fault tests: the real server (`python server.py`) as a subprocess that a test
may kill (SIGKILL) and start again on the same port and database; a signed-in clinician; the
database read directly, to check that what was acknowledged is stored exactly once.

The server process and the browser come from the end-to-end fixtures (tests/e2e/conftest.py), the
Socket.IO clients that record every event from tests/scaleout/clients.py: reused, not copied.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.e2e.conftest import BROWSER_ARGS, CHROMIUM, ServerProcess
from tests.e2e.conftest import new_context, pytest_runtest_makereport, shots  # noqa: F401  (fixtures, hook)
from tests.scaleout.clients import cookie_header, first_clinician


class Server(ServerProcess):
    """A ServerProcess that can also die the hard way."""

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed or closed by the server."""
        self.process.kill()
        self.process.wait(10)

    @property
    def db_path(self):
        return self.tmp / "e2e.sqlite"

    def stored_trials(self, public_id: str) -> list[tuple[str, int, int, list]]:
        """(eye, index, seq, responses) of every stored answer of a session, read from the file."""
        import json

        with sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True) as connection:
            rows = connection.execute(
                "SELECT eye_test.eye, trial.\"index\", trial.seq, trial.responses FROM trial"
                " JOIN eye_test ON eye_test.id = trial.eye_test_id"
                " JOIN test_session ON test_session.id = eye_test.session_id"
                " WHERE test_session.public_id = ? ORDER BY trial.seq", (public_id,)).fetchall()
        return [(eye, index, seq, json.loads(responses)) for eye, index, seq, responses in rows]


@pytest.fixture
def server(tmp_path):
    process = Server(tmp_path).start()
    yield process
    process.stop()
    process.keep_log(f"faults-{tmp_path.name}.log")


@pytest.fixture
def clinician_http(server):
    """The first clinician (made by the first-run set-up page), signed in over HTTP."""
    http = first_clinician(server.base_url)
    yield http
    http.close()


@pytest.fixture
def cookie(clinician_http):
    return cookie_header(clinician_http)


def _running_elsewhere(request, name: str):
    """The value of fixture `name` as set up by another directory's conftest (tests/e2e), if it is
    set up now, else None. Only one sync Playwright can run in a thread, so while the end-to-end
    tests' Playwright and browser are up (they are session-scoped), these tests borrow them."""
    for fixturedef in request._fixturemanager._arg2fixturedefs.get(name, ()):
        cached = fixturedef.cached_result
        if fixturedef.baseid != "tests/faults" and cached is not None and cached[2] is None:
            return cached[0]
    return None


@pytest.fixture(scope="module")
def playwright_instance(request):
    borrowed = _running_elsewhere(request, "playwright_instance")
    if borrowed is not None:
        yield borrowed
        return
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:  # closed with this module: the e2e tests may start theirs
        yield playwright


@pytest.fixture(scope="module")
def browser(request, playwright_instance):
    borrowed = _running_elsewhere(request, "browser")
    if borrowed is not None:
        yield borrowed
        return
    launched = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
    yield launched
    launched.close()
