"""Two server processes on PostgreSQL and Redis: the patient's display on one, the pad and the
clinician on the other, a whole two-eye test. Every event crosses Redis at least once; the
clinician must see each stimulus and each answer, in order, and the database must hold exactly
the acknowledged answers."""

import random
import time

import pytest
import requests
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from devtools.patient_links import invite_headers, pad_headers
from tests.support.app import with_schema
from tests.support.clients import CALIBRATION, clinician, cookie_header, display, first_clinician, new_test, pad_token

pytestmark = pytest.mark.scaleout


def test_migrations_build_exactly_the_schema_of_the_models_on_postgresql(cluster):
    from webapp import create_app
    from webapp.extensions import db

    url = cluster.postgres.create_database("migrations")
    app = with_schema(
        create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test", "SOCKETIO_ASYNC_MODE": "threading"})
    )
    with app.app_context():
        with db.engine.connect() as connection:
            assert connection.dialect.name == "postgresql"
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
            tables = set(db.inspect(connection).get_table_names())
        db.engine.dispose()
    assert {"clinician", "test_session", "eye_test", "trial", "calibration", "session_event"} <= tables


def test_patient_on_one_process_and_clinician_on_another_run_a_whole_test(deployment):
    a, b = deployment.start(2)
    http = first_clinician(a.base_url)
    public_id, token = new_test(http, a.base_url)
    # Signed in at A; the same cookie is good at B (one VISUS_SECRET_KEY).
    watch = clinician().connect(b.base_url, headers={"Cookie": cookie_header(http)})
    screen = display().connect(a.base_url, auth={"device": "display"}, headers=invite_headers(a.base_url, token))
    try:
        snapshot = watch.call("watch", {"session_id": public_id})
        assert snapshot["ok"] and snapshot["snapshot"]["phase"] == "welcome"
        state = screen.wait("state")
        pad = display().connect(b.base_url, auth={"device": "pad"}, headers=pad_headers(b.base_url, pad_token(state)))
        watch.wait("device_status", match=lambda s: s["pad_connected"] and s["display_connected"])

        assert screen.call("consent")["ok"]
        assert screen.call("calibration", CALIBRATION)["ok"]
        assert screen.call("ready")["ok"]

        rng = random.Random(5)
        acknowledged = []
        last_seq, eyes_done = 0, 0
        while eyes_done < 2:
            assert len(acknowledged) < 200, "the test did not finish"
            if _next(screen, last_seq, eyes_done) == "eye_done":
                eyes_done += 1
                if eyes_done < 2:
                    assert screen.call("ready")["ok"]
                continue
            stimulus = screen.wait("stimulus", match=lambda s: s["seq"] > last_seq)
            # The pad (on B) asks for exactly the trial the display (on A) shows, never its letters.
            request = pad.wait("answer_request", match=lambda r: r["seq"] == stimulus["seq"])
            assert request["trial_id"] == stimulus["trial_id"] and "optotypes" not in request
            responses = [o if rng.random() < 0.8 else None for o in stimulus["optotypes"]]
            ack = pad.call(
                "answer",
                {
                    "trial_id": stimulus["trial_id"],
                    "seq": stimulus["seq"],
                    "responses": responses,
                    "response_time_ms": 700,
                },
            )
            assert ack == {"ok": True, "accepted": True, "duplicate": False}
            acknowledged.append((stimulus["trial_id"], stimulus["seq"], responses))
            last_seq = stimulus["seq"]

        done = watch.wait("test_done")
        assert len(done["results"]) == 2
    finally:
        for client in (screen, watch):
            client.disconnect()
        if "pad" in locals():
            pad.disconnect()

    # The clinician on B saw every stimulus and every answer, in the order they happened.
    shown = [s["seq"] for s in watch.payloads("stimulus_shown")]
    scored = [
        (s["trial"]["trial_id"], s["trial"]["seq"], s["trial"]["responses"]) for s in watch.payloads("answer_scored")
    ]
    assert scored == acknowledged
    assert shown == sorted(shown) and len(shown) == len(set(shown))
    order = [(name, data) for name, data in watch.log if name in ("stimulus_shown", "answer_scored")]
    for (name, data), (next_name, next_data) in zip(order, order[1:], strict=False):
        if name == "stimulus_shown":  # each stimulus is answered before the next one is shown
            assert next_name == "answer_scored" and next_data["trial"]["seq"] == data["seq"]

    # PostgreSQL holds exactly the acknowledged answers.
    stored = deployment.query(
        "SELECT e.eye || '-' || t.index, t.seq, t.responses::text FROM trial t "
        "JOIN eye_test e ON e.id = t.eye_test_id ORDER BY t.seq"
    )
    assert [(trial_id, seq) for trial_id, seq, _ in stored] == [(t, s) for t, s, _ in acknowledged]
    assert deployment.query("SELECT status FROM test_session WHERE public_id = %s", public_id) == [("done",)]
    result = http.get(f"{b.base_url}/sessions/{public_id}/result", cookies=http.cookies)
    assert result.ok and "Trial history" in result.text
    assert requests.get(a.base_url + "/healthz").ok and requests.get(b.base_url + "/healthz").ok


def _next(screen, last_seq: int, eyes_done: int) -> str:
    """Wait for the display's next stimulus or the end of an eye; returns which came."""
    deadline = time.monotonic() + 20
    with screen.changed:
        while True:
            if sum(1 for event, _ in screen.log if event == "eye_done") > eyes_done:
                return "eye_done"
            if any(event == "stimulus" and data["seq"] > last_seq for event, data in screen.log):
                return "stimulus"
            left = deadline - time.monotonic()
            assert left > 0, "neither a stimulus nor the end of the eye came"
            screen.changed.wait(left)
