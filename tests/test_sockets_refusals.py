"""Requests the server refuses with a clear ack (never `server_error`), storing nothing: a size
chosen while the calibration is void, trial ids no test can reach, and database constraints other
than the duplicate answer's."""

import logging

from sqlalchemy import func, select

from tests.support.app import create_test, display, start_testing, watcher
from webapp.extensions import db
from webapp.models import SessionEvent, TestSession, Trial

HUGE_INDEX = "right-99999999999999999999999"  # past SQLite's 64-bit integers


def rows(app):
    with app.app_context():
        return {
            table.name: sorted(map(repr, db.session.execute(table.select()).all()))
            for table in db.metadata.sorted_tables
        }


def watched_test(app, clinician_client, **config):
    public_id, token = create_test(clinician_client, eyes="right", procedure="adaptive", **config)
    watch = watcher(app, clinician_client)
    assert watch.send("watch", {"session_id": public_id})["ok"]
    return public_id, display(app, token), watch


def test_present_while_the_calibration_is_void_asks_for_a_new_calibration(app, clinician_client):
    public_id, screen, watch = watched_test(
        app,
        clinician_client,
    )
    start_testing(screen)
    assert watch.send("request_recalibration", {"session_id": public_id})["ok"]
    before = rows(app)
    ack = watch.send("present", {"session_id": public_id, "logmar": 0.5})
    assert ack["ok"] is False and ack["error"] == "recalibration_needed"
    assert "calibrate" in ack["message"]
    assert rows(app) == before
    assert "present" not in watch.last("status")["actions"]


def test_a_trial_id_no_test_can_reach_is_a_stale_trial(app, clinician_client):
    public_id, screen, watch = watched_test(app, clinician_client, answer_mode="clinician")
    stimulus = start_testing(screen)
    before = rows(app)
    for sender, event, extra in (
        (screen, "answer", {"responses": list(stimulus["optotypes"])}),
        (screen, "drawn", {"height_css_px": 50.0, "device_pixel_ratio": 2.0}),
        (watch, "score", {"session_id": public_id, "correct": [True] * 5}),
    ):
        for trial_id in (HUGE_INDEX, "right-" + "9" * 33, "right-٣"):
            ack = sender.send(event, {"trial_id": trial_id, "seq": stimulus["seq"], **extra})
            assert ack["ok"] is False and ack["error"] in ("stale_trial", "invalid_payload"), (event, trial_id, ack)
            assert ack["message"]
    assert rows(app) == before


def test_another_constraint_broken_by_an_answer_is_not_taken_for_a_duplicate(
    app, clinician_client, monkeypatch, caplog
):
    from webapp.live import procedures

    _, token = create_test(clinician_client, eyes="right", procedure="adaptive")
    screen = display(app, token)
    stimulus = start_testing(screen)
    real_trial_row = procedures.trial_row

    def broken_row(eye_test, record, **kwargs):  # a bug that stores no scorer: NOT NULL, not the duplicate
        row = real_trial_row(eye_test, record, **kwargs)
        row.scored_by = None
        return row

    monkeypatch.setattr(procedures, "trial_row", broken_row)
    before = rows(app)
    with caplog.at_level(logging.ERROR):
        ack = screen.send(
            "answer",
            {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])},
        )
    assert ack["ok"] is False and ack["error"] == "not_stored" and ack["message"]
    assert "broke a database constraint" in caplog.text
    assert rows(app) == before
    assert screen.received() == []  # rolled back: nothing was sent
    monkeypatch.undo()
    assert (
        screen.send(
            "answer",
            {"trial_id": stimulus["trial_id"], "seq": stimulus["seq"], "responses": list(stimulus["optotypes"])},
        )["duplicate"]
        is False
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(Trial.id))) == 1


def test_a_constraint_broken_by_another_event_gets_a_clear_error_not_a_duplicate_ack(
    app, clinician_client, monkeypatch
):
    from webapp.live import commands

    public_id, token = create_test(clinician_client, eyes="right")
    screen = display(app, token)
    real_record_event = commands._record_event

    def orphan_event(session, *args, **kwargs):  # a bug: an event of no session (NOT NULL)
        event = real_record_event(session, *args, **kwargs)
        event.session_id = None
        return event

    monkeypatch.setattr(commands, "_record_event", orphan_event)
    before = rows(app)
    ack = screen.send("consent")
    assert ack["ok"] is False and ack["error"] == "not_stored"
    assert rows(app) == before
    monkeypatch.undo()
    assert screen.send("consent")["ok"]
    with app.app_context():
        session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
        assert session.consent_at is not None
        assert db.session.scalar(select(func.count(SessionEvent.id))) == 1
