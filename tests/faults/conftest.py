"""Fixtures for the fault tests: the real server (`python server.py`) as a subprocess that a test
may kill (SIGKILL) and start again on the same port and database; a signed-in clinician; the
database read directly, to check that what was acknowledged is stored exactly once.

The server process comes from the end-to-end fixtures (tests/e2e/conftest.py), the browser from
tests/conftest.py, the Socket.IO clients that record every event from tests/scaleout/clients.py:
reused, not copied.
"""
from __future__ import annotations

import sqlite3

import pytest

from tests.e2e.conftest import ServerProcess
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
