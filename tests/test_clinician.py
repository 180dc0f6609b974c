"""Clinician pages: new test and its invite, dashboard, live view, result, ownership."""

import json
import re
from datetime import timedelta

from sqlalchemy import select

from tests.support.app import add_clinician, create_test, display, login, start_testing
from webapp.extensions import db
from webapp.models import TestSession
from webapp.tokens import token_hash


def test_new_test_stores_the_config_and_only_a_hash_of_the_invite_token(app, clinician_client):
    response = clinician_client.post(
        "/sessions/new",
        data={
            "patient_reference": "Mrs B (ref 42)",
            "eyes": "left_right",
            "optotype_set": "landolt_c8",
            "procedure": "adaptive",
            "chart_presentation": "row",
            "correction": "glasses",
            "setup": "4m",
            "answer_mode": "clinician",
        },
    )
    assert response.status_code == 303  # post/redirect/get: to the invite page
    html = clinician_client.get(response.headers["Location"]).get_data(as_text=True)
    invite_url = re.search(r'value="([^"]+)"[^>]*data-invite-url', html).group(1)
    token = invite_url.rsplit("/t/", 1)[1]
    assert len(token) >= 43  # secrets.token_urlsafe(32)
    assert "<svg" in html and 'class="segno"' in html
    with app.app_context():
        session = db.session.scalar(select(TestSession))
        assert session.invite_token_hash == token_hash(token)
        assert session.config == {
            "eyes": ["left", "right"],
            "optotype_set": "landolt_c8",
            "procedure": "adaptive",
            "chart_presentation": "row",
            "correction": "glasses",
            "setup": "4m",
            "answer_mode": "clinician",
            "letters_fallback": False,  # the box not ticked in this POST
        }
        assert session.language == "en"
        assert [e.eye for e in session.eye_tests] == ["left", "right"]
        assert timedelta(hours=23.9) < session.invite_expires_at - session.created_at <= timedelta(hours=24)
        stored = json.dumps([getattr(session, c.name) for c in TestSession.__table__.columns], default=str)
        assert token not in stored


def test_new_test_refuses_unknown_choices_and_an_empty_reference(clinician_client):
    response = clinician_client.post("/sessions/new", data={"patient_reference": " ", "eyes": "third_eye"})
    assert response.status_code == 200
    assert b"Choose a patient of the practice, or give a new patient&#39;s reference." in response.data
    assert b"Not a valid choice" in response.data


def test_invite_ttl_follows_the_config(db_path):
    from tests.support.app import make_app

    app = make_app(db_path, INVITE_TTL_HOURS=2)
    add_clinician(app)
    client = login(app.test_client())
    create_test(client)
    with app.app_context():
        session = db.session.scalar(select(TestSession))
        assert session.invite_expires_at - session.created_at <= timedelta(hours=2)


def test_expired_and_unknown_links_say_to_ask_for_a_new_one(app, clinician_client):
    _, token = create_test(clinician_client)
    with app.app_context():
        session = db.session.scalar(select(TestSession))
        session.invite_expires_at = session.created_at - timedelta(minutes=1)
        db.session.commit()
    expired = clinician_client.get(f"/t/{token}")
    assert expired.status_code == 410 and b"expired. Ask your clinician for a new link." in expired.data
    assert not display(app, token).connected
    unknown = clinician_client.get("/t/" + "x" * 43)
    assert unknown.status_code == 404 and b"Ask your clinician for a new link." in unknown.data


def test_dashboard_lists_only_the_clinicians_own_tests_with_results(app, clinician_client):
    public_id, token = create_test(clinician_client, patient_reference="Own patient", eyes="right", procedure="chart")
    add_clinician(app, "other@example.org")
    other = login(app.test_client(), "other@example.org")
    create_test(other, patient_reference="Someone else's")
    screen = display(app, token)
    stimulus = start_testing(screen)
    while stimulus:
        screen.send(
            "answer",
            {
                "trial_id": stimulus["trial_id"],
                "seq": stimulus["seq"],
                "responses": list(stimulus["optotypes"]) if stimulus["logmar"] > 0.15 else [None] * 5,
            },
        )
        stimulus = screen.last("stimulus")
    page = clinician_client.get("/").get_data(as_text=True)
    assert "Own patient" in page and "Someone else" not in page
    assert "right: 6/10 (20/32) · 0.20 logMAR" in page  # acuity.notation.describe, as on every page
    assert ">done<" in page


def test_live_view_and_result_are_for_the_owner_only(app, clinician_client):
    public_id, _ = create_test(clinician_client)
    live = clinician_client.get(f"/sessions/{public_id}")
    assert live.status_code == 200
    data = json.loads(re.search(r"data-session-json>(.*?)</script>", live.get_data(as_text=True), re.S).group(1))
    assert data["public_id"] == public_id and data["config"]["procedure"] == "chart"
    add_clinician(app, "other@example.org")
    other = login(app.test_client(), "other@example.org")
    assert other.get(f"/sessions/{public_id}").status_code == 404
    assert other.get(f"/sessions/{public_id}/result").status_code == 404
    assert other.post(f"/sessions/{public_id}/invite/revoke").status_code == 404


def test_result_page_shows_each_eye_with_interval_notations_history_and_plot(app, clinician_client):
    public_id, token = create_test(clinician_client, eyes="right", procedure="chart")
    screen = display(app, token)
    stimulus = start_testing(screen)
    while stimulus:
        read = stimulus["logmar"] > 0.05
        screen.send(
            "answer",
            {
                "trial_id": stimulus["trial_id"],
                "seq": stimulus["seq"],
                "responses": list(stimulus["optotypes"]) if read else [None] * 5,
            },
        )
        stimulus = screen.last("stimulus")
    page = clinician_client.get(f"/sessions/{public_id}/result").get_data(as_text=True)
    # The notation every page shows (acuity.notation.describe): no "+" sign, the decimal chart line.
    assert re.search(r"data-logmar>0\.10", page)
    assert re.search(r"data-ci95>-?\d\.\d\d to -?\d\.\d\d<", page)
    assert "data-acuity>6/7.5 (20/25) · 0.10 logMAR<" in page
    assert "data-snellen>6/7.5 · 20/25<" in page and "data-decimal>0.80<" in page and "data-etdrs>80<" in page
    assert page.count('data-mark="right"') >= 1 and page.count('data-mark="wrong"') == 1
    assert "Trial history" in page and "CSS px/mm" in page
