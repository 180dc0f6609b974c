"""The answer path's statements (issue 12, CPU per answer): an answer to the trial on screen reads
its test in one statement and writes the trial and the state a restart needs, nothing else.

Each statement an answer runs is a few tenths of a millisecond of CPU in SQLAlchemy, and a lazily
loaded relationship (the patient and practice whose notation every number is written in) was the
largest single cost of an answer. Counted here, not timed: bench/relay_latency.py times it.
"""

import re

import pytest
from sqlalchemy import event

from tests.support.app import create_test, display, start_testing, watcher
from webapp.extensions import db
from webapp.models import Practice


def statements_of(app, action):
    """Run `action()` and return each SQL statement it ran, as (verb, table)."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        verb = statement.split(None, 1)[0].upper()
        table = re.search(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)', statement).group(1)
        seen.append((verb, table))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        result = action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen, result


@pytest.mark.parametrize("procedure", ["adaptive", "chart"])
def test_an_answer_reads_its_test_once_and_writes_the_trial_and_the_state(app, clinician_client, procedure):
    public_id, token = create_test(clinician_client, procedure=procedure)
    with app.app_context():  # the practice writes its numbers in feet: read from the joined rows
        db.session.scalars(db.select(Practice)).one().notation = "20ft"
        db.session.commit()
    screen = display(app, token)
    live_view = watcher(app, clinician_client)
    assert live_view.send("watch", {"session_id": public_id})["ok"]
    stimulus = start_testing(screen)
    for _ in range(3):  # the first answers and the ones after: each the same statements
        live_view.received()
        answer = {
            "trial_id": stimulus["trial_id"],
            "seq": stimulus["seq"],
            "responses": list(stimulus["optotypes"]),
            "response_time_ms": 900,
        }
        statements, ack = statements_of(app, lambda answer=answer: screen.send("answer", answer))
        assert ack == {"ok": True, "accepted": True, "duplicate": False}
        # One read of the test (eyes, calibrations, patient and practice joined), one INSERT of the
        # trial, one UPDATE of the eye's trial on screen and one of the session's seq: no lazy load.
        assert sorted(statements) == sorted(
            [("SELECT", "test_session"), ("INSERT", "trial"), ("UPDATE", "eye_test"), ("UPDATE", "test_session")]
        ), statements
        scored = live_view.last("answer_scored")
        assert scored["trial"]["seq"] == stimulus["seq"]
        assert "20/" in scored["estimate"]["notation"]["text"].split("(", 1)[0]  # led by the practice's feet
        stimulus = screen.last("stimulus")
        assert stimulus is not None
