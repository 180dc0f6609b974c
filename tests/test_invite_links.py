"""The invite link a clinician sends, re-sends and trusts: post/redirect/get, the link shown again from
the secret key, re-issue and withdraw (what each cuts off), the dashboard's states, filters and time
zone (docs/security.md, "Patient links"; docs/protocol.md, section 1)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from tests.support.app import NEW_TEST, create_test, display, make_app, pad, pad_token_from_state, start_testing
from webapp import credentials
from webapp.audit import AuditEntry
from webapp.extensions import db
from webapp.models import Clinician, DeviceCredential, TestSession, utcnow


def link_on(html: str) -> str | None:
    found = re.search(r'value="([^"]+)"[^>]*data-invite-url', html)
    return found.group(1) if found else None


def invite_page(client, public_id: str) -> str:
    response = client.get(f"/sessions/{public_id}/invite")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def stored(app, public_id: str) -> TestSession:
    return db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))


def actions(app, public_id: str) -> list[str]:
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.session_public_id == public_id))
        return [entry.action for entry in entries]


def test_the_new_test_post_redirects_and_reloading_the_invite_shows_the_same_link_and_no_new_test(
    app, clinician_client
):
    response = clinician_client.post("/sessions/new", data=NEW_TEST)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(r"/sessions/[\w-]+/invite", location)
    first = clinician_client.get(location).get_data(as_text=True)
    again = clinician_client.get(location).get_data(as_text=True)  # a reload is a GET: nothing is created
    assert link_on(first) and link_on(first) == link_on(again)
    with app.app_context():
        assert db.session.scalar(select(func.count(TestSession.id))) == 1
    token = link_on(first).rsplit("/t/", 1)[1]
    assert app.test_client().get(f"/t/{token}").status_code == 303  # the link shown again opens the test


def test_reissue_gives_a_new_link_and_cuts_off_the_old_link_and_every_browser_that_opened_it(app, clinician_client):
    public_id, old_token = create_test(clinician_client, eyes="right")
    screen = display(app, old_token)
    phone = pad(app, pad_token_from_state(screen.last("state")))
    start_testing(screen)
    assert screen.connected and phone.connected

    response = clinician_client.post(f"/sessions/{public_id}/invite/reissue", data={"back": "live"})
    assert response.status_code == 303 and response.headers["Location"] == f"/sessions/{public_id}"
    assert not screen.connected and not phone.connected  # told (error link_revoked) and closed at once
    assert not display(app, old_token).connected  # the old browser's credential is revoked
    assert app.test_client().get(f"/t/{old_token}").status_code == 404  # the old link names nothing now

    new_link = link_on(invite_page(clinician_client, public_id))
    assert new_link and not new_link.endswith(old_token)
    new_screen = display(app, new_link.rsplit("/t/", 1)[1])
    assert new_screen.connected
    assert new_screen.last("state")["phase"] == "calibrate"  # another screen: calibrated again, then on
    with app.app_context():
        session = stored(app, public_id)
        assert session.current_calibration is None and session.calibrations[-1].invalidated_reason == "new_link"
        live = [c.device for c in db.session.scalars(select(DeviceCredential)) if c.revoked_at is None]
        assert live == ["display"]  # only the new browser's
    assert actions(app, public_id)[-1] == "invite_reissued"


def test_withdraw_is_final_and_says_so_on_the_invite_page(app, clinician_client):
    public_id, token = create_test(clinician_client)
    response = clinician_client.post(f"/sessions/{public_id}/invite/revoke", data={"back": "invite"})
    assert response.status_code == 303 and response.headers["Location"] == f"/sessions/{public_id}/invite"
    page = invite_page(clinician_client, public_id)
    assert link_on(page) is None and 'data-invite-problem="withdrawn"' in page
    assert "/invite/reissue" not in page and "/invite/revoke" not in page  # nothing left to do with it
    refused = clinician_client.post(f"/sessions/{public_id}/invite/reissue", follow_redirects=True)
    assert "cannot be re-issued" in refused.get_data(as_text=True)
    assert app.test_client().get(f"/t/{token}").status_code == 410
    assert actions(app, public_id)[-1] == "invite_revoked"


def test_a_link_made_before_links_were_kept_or_under_another_secret_key_is_not_shown_but_can_be_reissued(
    app, clinician_client, db_path
):
    public_id, token = create_test(clinician_client)
    with make_app(db_path, SECRET_KEY="another key").app_context():
        assert credentials.invite_token(stored(app, public_id)) is None  # never a wrong link
    with app.app_context():
        stored(app, public_id).invite_nonce = None  # as the migration leaves older tests
        db.session.commit()
    page = invite_page(clinician_client, public_id)
    assert link_on(page) is None and 'data-invite-problem="not-shown"' in page
    assert app.test_client().get(f"/t/{token}").status_code == 303  # the old link itself still works
    clinician_client.post(f"/sessions/{public_id}/invite/reissue")
    assert link_on(invite_page(clinician_client, public_id))


def test_without_mail_settings_there_is_no_send_button_and_the_page_says_how_to_set_it_up(app, clinician_client):
    public_id, _ = create_test(clinician_client)
    page = invite_page(clinician_client, public_id)
    assert "data-mail-off" in page and "VISUS_SMTP_HOST" in page and "VISUS_MAIL_FROM" in page
    assert "/invite/send" not in page
    sent = clinician_client.post(f"/sessions/{public_id}/invite/send", data={"to": "a@example.org"})
    assert sent.status_code == 404


def states_on_dashboard(client, query: str = "") -> dict[str, str]:
    html = client.get("/" + query).get_data(as_text=True)
    rows = re.findall(r'<tr data-session="[^"]+" data-state="(\w+)">\s*<td>([^<]+)</td>', html)
    return {reference: state for state, reference in rows}


def test_the_dashboard_shows_each_tests_true_state_and_filters_by_state_and_reference(app, clinician_client):
    made = {}
    for reference in ("Invited", "Opened", "Testing", "Done", "Ended", "Withdrawn", "Expired", "Ran out"):
        made[reference] = create_test(clinician_client, patient_reference=f"{reference} 100%_x")
    app.test_client().get(f"/t/{made['Opened'][1]}")
    screen = display(app, made["Testing"][1])
    assert screen.send("consent")["ok"]
    clinician_client.post(f"/sessions/{made['Withdrawn'][0]}/invite/revoke")
    with app.app_context():
        for reference, status in (("Done", "done"), ("Ended", "ended")):
            stored(app, made[reference][0]).status = status
        stored(app, made["Expired"][0]).invite_expires_at = utcnow() - timedelta(minutes=1)  # never opened
        ran_out = stored(app, made["Ran out"][0])  # under way, but past the longest a link lives
        ran_out.status, ran_out.consent_at = "active", utcnow()
        ran_out.created_at = utcnow() - timedelta(days=8)
        db.session.commit()

    states = states_on_dashboard(clinician_client)
    assert states == {
        "Invited 100%_x": "invited",
        "Opened 100%_x": "opened",
        "Testing 100%_x": "testing",
        "Done 100%_x": "done",
        "Ended 100%_x": "ended",
        "Withdrawn 100%_x": "withdrawn",
        "Expired 100%_x": "expired",
        "Ran out 100%_x": "expired",
    }
    assert states_on_dashboard(clinician_client, "?state=expired") == {
        "Expired 100%_x": "expired",
        "Ran out 100%_x": "expired",
    }
    assert states_on_dashboard(clinician_client, "?q=opened") == {"Opened 100%_x": "opened"}  # any case
    assert len(states_on_dashboard(clinician_client, "?q=100%25_x")) == 8  # % and _ are plain characters
    assert states_on_dashboard(clinician_client, "?q=x%25") == {}
    page = clinician_client.get("/?state=nonsense&q=nobody").get_data(as_text=True)
    assert "No test matches." in page  # an unknown state filter is ignored, not an error


def test_times_are_shown_in_the_clinicians_time_zone_which_the_page_names(app, clinician_client):
    public_id, _ = create_test(clinician_client)
    recent, _ = create_test(clinician_client)
    with app.app_context():
        stored(app, public_id).created_at = utcnow().replace(year=2026, month=1, day=15, hour=23, minute=30)
        db.session.commit()
    page = clinician_client.get("/").get_data(as_text=True)
    assert "Created (UTC)" in page and "2026-01-15 23:30" in page and "data-time-zone-unset" in page

    sent = clinician_client.post("/account/time-zone", data={"time_zone": "Asia/Tokyo", "from": "browser"})
    assert sent.status_code == 204  # the browser's zone, sent once
    page = clinician_client.get("/").get_data(as_text=True)
    assert "Created (Asia/Tokyo)" in page and "2026-01-16 08:30" in page and "data-time-zone-unset" not in page
    assert "(Asia/Tokyo)" in invite_page(clinician_client, recent)  # the link's expiry, in that zone
    assert "times in Asia/Tokyo" in clinician_client.get("/audit").get_data(as_text=True)
    assert "created 2026-01-16 08:30 (Asia/Tokyo)" in clinician_client.get(f"/sessions/{public_id}/result").get_data(
        as_text=True
    )

    assert (
        clinician_client.post("/account/time-zone", data={"time_zone": "Mars/Olympus", "from": "browser"}).status_code
        == 422
    )
    chosen = clinician_client.post("/account/time-zone", data={"time_zone": "Mars/Olympus"}, follow_redirects=True)
    assert "Choose a time zone from the list." in chosen.get_data(as_text=True)
    clinician_client.post("/account/time-zone", data={"time_zone": "America/New_York"})
    with app.app_context():
        assert db.session.scalar(select(Clinician.time_zone)) == "America/New_York"
