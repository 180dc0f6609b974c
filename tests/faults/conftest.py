"""Fixtures for the fault tests: the real server (`python server.py`) as a subprocess that a test
may kill (SIGKILL) and start again on the same port and database; a signed-in clinician; the
database read directly, to check that what was acknowledged is stored exactly once.

The server process is tests/support/server.py, the browser and its screenshots are fixtures of
tests/conftest.py, the Socket.IO clients that record every event are tests/support/clients.py.
"""

from __future__ import annotations

import pytest

from tests.support.clients import cookie_header, first_clinician
from tests.support.server import ServerProcess


@pytest.fixture
def server(tmp_path):
    process = ServerProcess(tmp_path).start()
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
