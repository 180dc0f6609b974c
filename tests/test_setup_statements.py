"""What a test's set-up asks the database (issue 12: a cheap set-up, 500 at once on one process).

Each statement of an event costs the one server process CPU (SQLAlchemy's ORM: about 0.3 to 0.5 ms
a statement, docs/performance.md), and 500 set-ups arrive together. These checks count statements,
not time: a set-up reads the patient and practice with the session, a working link is looked up
once per request, and a starting eye reads no trials.
"""

from __future__ import annotations

import contextlib
import re

from sqlalchemy import event

from tests.support.app import CALIBRATION, add_clinician, create_test, login, watcher
from webapp.extensions import db


@contextlib.contextmanager
def statements(app):
    """The SQL statements run inside the block, in order (whitespace collapsed)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads_table(statement: str, table: str) -> bool:
    """A SELECT whose first FROM is `table` (a lazy load of one row or collection of it)."""
    found = re.match(r"SELECT .*? FROM (\w+)", statement)
    return bool(found) and found.group(1) == table


def test_a_set_up_loads_the_patient_and_practice_with_the_session(app, client):
    add_clinician(app)
    login(client)
    public_id, token = create_test(client, procedure="adaptive")
    with statements(app) as seen:
        live_view = watcher(app, client)
        assert live_view.send("watch", {"session_id": public_id})["ok"]
        browser = app.test_client()
        assert browser.get(f"/t/{token}").status_code == 303
        from webapp import socketio

        screen = socketio.test_client(app, namespace="/patient", auth={"device": "display"}, flask_test_client=browser)
        assert screen.is_connected("/patient")
        for name, data in (("consent", {}), ("calibration", CALIBRATION), ("ready", {})):
            assert screen.emit(name, data, namespace="/patient", callback=True)["ok"]
    received = [r["name"] for r in screen.get_received("/patient")]
    assert "stimulus" in received  # the set-up reached the first letter
    # Every size the set-up describes is in the practice's notation: read with the session, never on
    # its own (two statements in each event that shows a size).
    assert not [s for s in seen if reads_table(s, "patient") or reads_table(s, "practice")], seen


def test_a_working_link_is_looked_up_once_per_exchange(app, client):
    add_clinician(app)
    login(client)
    _, token = create_test(client)
    with statements(app) as seen:
        response = app.test_client().get(f"/t/{token}")
    assert response.status_code == 303 and "visus_display=" in response.headers["Set-Cookie"]
    lookups = [s for s in seen if reads_table(s, "test_session") and "invite_token_hash = ?" in s]
    # The rate limit's exemption of a working link (asked for each of its limits) and the view share one.
    assert len(lookups) == 1, lookups


def test_a_starting_eye_reads_no_trials(app, client):
    add_clinician(app)
    login(client)
    _, token = create_test(client, procedure="adaptive")
    browser = app.test_client()
    browser.get(f"/t/{token}")
    from webapp import socketio

    screen = socketio.test_client(app, namespace="/patient", auth={"device": "display"}, flask_test_client=browser)
    for name, data in (("consent", {}), ("calibration", CALIBRATION)):
        assert screen.emit(name, data, namespace="/patient", callback=True)["ok"]
    with statements(app) as seen:
        assert screen.emit("ready", {}, namespace="/patient", callback=True)["ok"]
    stimuli = [r["args"][0] for r in screen.get_received("/patient") if r["name"] == "stimulus"]
    assert stimuli and stimuli[-1]["index"] == 0  # the eye's first trial is on screen
    assert not [s for s in seen if reads_table(s, "trial")], seen
