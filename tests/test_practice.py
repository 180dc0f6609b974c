"""A practice: made with its first clinician (/setup or the create-clinician command), who is its admin
and invites colleagues by a link that works once, expires and can be withdrawn; the colleague
chooses a password under the rules of every account."""

from datetime import timedelta

from sqlalchemy import select

from tests.support.app import COLLEAGUE, PASSWORD, add_clinician, db_rows, invite_colleague, login
from webapp.extensions import db
from webapp.models import Clinician, PracticeInvite, utcnow


def clinicians(app):
    with app.app_context():
        db.session.remove()
        return {c.email: (c.practice_id, c.is_practice_admin) for c in db.session.scalars(select(Clinician))}


def test_the_first_clinician_and_each_commanded_one_own_a_practice(app, client, runner):
    client.post("/setup", data={"email": "first@example.org", "password": PASSWORD, "confirm": PASSWORD})
    result = runner.invoke(args=["create-clinician", "second@example.org", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    found = clinicians(app)
    assert found["first@example.org"][1] and found["second@example.org"][1]
    assert found["first@example.org"][0] != found["second@example.org"][0]
    assert "Practice of first@example.org" in client.get("/practice").get_data(as_text=True)


def test_a_colleague_joins_once_by_the_link_with_a_password_of_their_own(app, client):
    add_clinician(app)
    admin = login(client)
    link = invite_colleague(admin)
    page = app.test_client().get(link)
    assert page.status_code == 200 and COLLEAGUE in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    before = db_rows(app)
    weak = app.test_client().post(link, data={"password": "password123", "confirm": "password123"})
    assert weak.status_code == 200 and "most common passwords" in weak.get_data(as_text=True)
    assert db_rows(app) == before
    joined = app.test_client().post(link, data={"password": PASSWORD, "confirm": PASSWORD})
    assert joined.status_code == 302
    assert clinicians(app)[COLLEAGUE] == (clinicians(app)["doc@example.org"][0], False)
    again = app.test_client().post(link, data={"password": PASSWORD, "confirm": PASSWORD})
    assert again.status_code == 404 and "Ask your practice" in again.get_data(as_text=True)
    assert COLLEAGUE in admin.get("/practice").get_data(as_text=True)
    # An e-mail that has an account is not invited again (an account belongs to one practice).
    refused = admin.post("/practice/invites", data={"email": COLLEAGUE})
    assert refused.status_code == 400 and "already has an account" in refused.get_data(as_text=True)


def test_a_withdrawn_or_expired_link_does_not_work(app, client):
    add_clinician(app)
    admin = login(client)
    withdrawn, expired = invite_colleague(admin, "a@example.org"), invite_colleague(admin, "b@example.org")
    with app.app_context():
        invites = {i.email: i for i in db.session.scalars(select(PracticeInvite))}
        invites["b@example.org"].expires_at = utcnow() - timedelta(seconds=1)
        invite_id = invites["a@example.org"].id
        db.session.commit()
    assert admin.post(f"/practice/invites/{invite_id}/withdraw").status_code == 302
    for link in (withdrawn, expired, "/join/" + "x" * 43):
        assert app.test_client().get(link).status_code == 404, link
        assert app.test_client().post(link, data={"password": PASSWORD, "confirm": PASSWORD}).status_code == 404
    assert set(clinicians(app)) == {"doc@example.org"}
    admin.get("/practice")  # (the page after the withdrawal says whose invite it was)
    page = admin.get("/practice").get_data(as_text=True)
    assert "a@example.org" not in page and "b@example.org" not in page  # no longer open
