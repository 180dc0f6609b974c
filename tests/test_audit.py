"""The audit log: every view, steering event, export, revocation and deletion of a session is
recorded with who and when; the owner reads it; nobody else does; it holds no patient identity."""

import pytest
from sqlalchemy import select

from tests.support.app import CALIBRATION, OTHER, add_clinician, create_test, display, login, registered_events, watcher
from webapp import audit
from webapp import events as ev


def actions(app, public_id):
    from webapp.extensions import db

    with app.app_context():
        db.session.remove()
        return [
            (e.action, e.clinician_id, e.detail)
            for e in db.session.scalars(
                select(audit.AuditEntry)
                .where(audit.AuditEntry.session_public_id == public_id)
                .order_by(audit.AuditEntry.id)
            )
        ]


@pytest.fixture
def owner(app, client):
    add_clinician(app)
    return login(client)


def test_views_and_exports_are_recorded(app, owner):
    public_id, _ = create_test(owner)
    pages = {
        f"/sessions/{public_id}": "live_view",
        f"/sessions/{public_id}/result": "result_view",
        f"/sessions/{public_id}/report": "report_view",
        f"/sessions/{public_id}/report.pdf": "report_pdf",
        f"/sessions/{public_id}/results.csv": "results_csv",
        f"/sessions/{public_id}/trials.csv": "trials_csv",
        f"/sessions/{public_id}/fhir.json": "fhir_export",
        f"/sessions/{public_id}/history": "history_view",
        "/exports/results.csv": "export_all_results",
        "/exports/trials.csv": "export_all_trials",
    }
    for url in pages:
        assert owner.get(url).status_code == 200, url
    recorded = actions(app, public_id)
    assert [a for a, _, _ in recorded] == ["invite_created", *pages.values()]
    assert {who for _, who, _ in recorded} == {1}


def test_every_clinician_event_is_recorded_with_its_detail_but_never_a_notes_text(app, owner):
    public_id, token = create_test(owner, procedure="manual")
    screen = display(app, token)
    assert screen.send("consent")["ok"] and screen.send("calibration", CALIBRATION)["ok"] and screen.send("ready")["ok"]
    live = watcher(app, owner)
    sent = {
        ev.WATCH: {},
        ev.NOTE: {"text": "patient squints; Mrs Smith"},
        ev.PRESENT: {"logmar": 0.5},
        ev.PAUSE: {},
        ev.RESUME: {},
        ev.SHARE_RESULTS: {"show": True},
        ev.REQUEST_RECALIBRATION: {},
        ev.NEXT_EYE: {},
        ev.END: {},
    }
    for event, data in sent.items():
        ack = live.send(event, {"session_id": public_id, **data})
        assert ack["ok"], (event, ack)
    recorded = actions(app, public_id)
    assert [a for a, _, _ in recorded] == ["invite_created", *sent]
    assert dict((a, d) for a, _, d in recorded)[ev.PRESENT] == {"logmar": 0.5}
    assert "Smith" not in repr(recorded) and "Patient A" not in repr(recorded)
    # Every event a clinician can send has a wording on the audit page; the call's events are
    # recorded as the call starting, being joined and ending (tests/test_sockets_call.py).
    from webapp.live.common import CALL_EVENTS

    assert registered_events(ev.CLINICIAN_NS) - set(CALL_EVENTS) <= set(audit.ACTIONS)
    assert {"call_started", "call_joined", "call_ended"} <= set(audit.ACTIONS)


def test_a_refused_event_records_nothing(app, owner):
    public_id, _ = create_test(owner)
    live = watcher(app, owner)
    assert not live.send(ev.PRESENT, {"session_id": public_id, "logmar": 9})["ok"]
    assert not live.send(ev.NOTE, {"session_id": public_id, "text": "x" * 100_000})["ok"]
    assert not live.send(ev.SCORE, {"session_id": public_id, "trial_id": "t", "seq": 1, "responses": ["C"]})["ok"]
    assert [a for a, _, _ in actions(app, public_id)] == ["invite_created"]


def test_revocation_is_recorded(app, owner):
    public_id, _ = create_test(owner)
    owner.post(f"/sessions/{public_id}/invite/revoke")
    assert [a for a, _, _ in actions(app, public_id)][-1] == "invite_revoked"


def test_the_owner_reads_the_log_of_a_session_and_nobody_else_does(app, owner):
    public_id, _ = create_test(owner)
    owner.get(f"/sessions/{public_id}/report.pdf")
    page = owner.get(f"/sessions/{public_id}/audit")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert 'data-action="report_pdf"' in html and "downloaded the PDF report" in html and "doc@example.org" in html
    assert f'href="/sessions/{public_id}/audit"' in owner.get(f"/sessions/{public_id}/result").get_data(as_text=True)
    add_clinician(app, OTHER)
    other = login(app.test_client(), OTHER)
    assert other.get(f"/sessions/{public_id}/audit").status_code == 404
    assert app.test_client().get(f"/sessions/{public_id}/audit").status_code == 302
    # Reading the log is itself recorded (once, for the owner).
    assert [a for a, _, _ in actions(app, public_id)].count("audit_view") == 1


def test_an_unknown_action_is_a_programming_error(app):
    class Session:
        public_id, clinician_id = "x", 1

    with app.app_context(), pytest.raises(ValueError, match="ACTIONS"):
        audit.record(Session(), "looked", 1)


def test_the_log_of_all_sessions_keeps_deleted_ones_and_shows_only_ones_own(app, owner):
    deleted_id, _ = create_test(owner)
    kept_id, _ = create_test(owner, patient_reference="Patient B")
    owner.post(f"/sessions/{deleted_id}/delete", data={"confirm": "yes"})
    add_clinician(app, OTHER)
    other = login(app.test_client(), OTHER)
    other_id, _ = create_test(other, patient_reference="Other's patient")
    html = owner.get("/audit").get_data(as_text=True)
    assert 'href="/audit"' in owner.get("/").get_data(as_text=True)
    assert deleted_id in html and kept_id in html and other_id not in html
    assert 'data-action="deleted"' in html and "Patient A" not in html
    assert other_id in other.get("/audit").get_data(as_text=True) and deleted_id not in other.get("/audit").get_data(
        as_text=True
    )
    assert app.test_client().get("/audit").status_code == 302


def test_a_colleagues_views_and_steering_are_recorded_in_their_name_and_the_practice_reads_them(app, owner):
    from tests.support.app import COLLEAGUE, add_colleague

    public_id, token = create_test(owner)
    colleague = add_colleague(app, owner)
    assert colleague.get(f"/sessions/{public_id}/report").status_code == 200
    screen = display(app, token)
    assert screen.send("consent")["ok"]
    live = watcher(app, colleague)
    assert live.send(ev.WATCH, {"session_id": public_id})["ok"]
    assert live.send(ev.PAUSE, {"session_id": public_id})["ok"]
    recorded = actions(app, public_id)
    assert recorded[0][:2] == ("invite_created", 1)
    assert [(a, who) for a, who, _ in recorded[1:]] == [("report_view", 2), ("watch", 2), ("pause", 2)]
    for reader in (owner, colleague):  # every clinician of the practice reads who did what
        page = reader.get(f"/sessions/{public_id}/audit").get_data(as_text=True)
        assert COLLEAGUE in page and "paused the test" in page and "doc@example.org" in page
        assert COLLEAGUE in reader.get("/audit").get_data(as_text=True)
    add_clinician(app, OTHER)
    other = login(app.test_client(), OTHER)
    assert other.get(f"/sessions/{public_id}/audit").status_code == 404
    assert public_id not in other.get("/audit").get_data(as_text=True)
