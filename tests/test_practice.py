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
    page = admin.get("/practice").get_data(as_text=True).split("data-practice-changes")[0]  # (not the audit)
    assert "a@example.org" not in page and "b@example.org" not in page  # no longer open


def test_the_practices_own_changes_are_audited_and_a_removed_colleague_sees_nothing(app, client):
    """Invites made and withdrawn, a colleague joining, a rename, the notation and a colleague's removal
    are practice-level audit entries (no session), each saying who did it, on the practice page and the
    audit page; the removed colleague is signed out and reaches none of the practice's tests again."""
    from tests.support.app import add_colleague, create_test
    from webapp.audit import AuditEntry

    add_clinician(app)
    admin = login(client)
    public_id, _ = create_test(admin)
    invite_colleague(admin, "later@example.org")
    with app.app_context():
        withdrawn_id = db.session.scalar(select(PracticeInvite.id).where(PracticeInvite.email == "later@example.org"))
    assert admin.post(f"/practice/invites/{withdrawn_id}/withdraw").status_code == 302
    colleague = add_colleague(app, admin)
    assert colleague.get(f"/sessions/{public_id}").status_code == 200
    assert admin.post("/practice", data={"name": "Riverside Eye Clinic"}).status_code == 302
    assert admin.post("/practice/notation", data={"notation": "20ft"}).status_code == 302
    # Only the admin removes, and only a colleague of this practice.
    with app.app_context():
        ids = {c.email: c.id for c in db.session.scalars(select(Clinician))}
    assert colleague.post(f"/practice/members/{ids['doc@example.org']}/remove").status_code == 403
    add_clinician(app, "elsewhere@example.org")
    elsewhere = login(app.test_client(), "elsewhere@example.org")
    assert elsewhere.post(f"/practice/members/{ids[COLLEAGUE]}/remove").status_code == 404
    assert admin.post(f"/practice/members/{ids['doc@example.org']}/remove").status_code == 302  # not oneself
    assert clinicians(app)["doc@example.org"][0] == clinicians(app)[COLLEAGUE][0]
    assert admin.post(f"/practice/members/{ids[COLLEAGUE]}/remove").status_code == 302

    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.session_public_id.is_(None)).order_by(AuditEntry.id)
        ).all()
        logged = [(e.action, e.clinician_id, e.detail) for e in entries]
    assert logged == [
        ("colleague_invited", ids["doc@example.org"], {"colleague": "later@example.org"}),
        ("colleague_invite_withdrawn", ids["doc@example.org"], {"colleague": "later@example.org"}),
        ("colleague_invited", ids["doc@example.org"], {"colleague": COLLEAGUE}),
        ("colleague_joined", ids[COLLEAGUE], {"colleague": COLLEAGUE}),
        (
            "practice_renamed",
            ids["doc@example.org"],
            {"from": "Practice of doc@example.org", "to": "Riverside Eye Clinic"},
        ),
        ("notation_set", ids["doc@example.org"], {"notation": "20ft"}),
        ("colleague_removed", ids["doc@example.org"], {"colleague": COLLEAGUE}),
    ]
    page = admin.get("/practice").get_data(as_text=True)
    changes = page.split("data-practice-changes", 1)[1]
    assert changes.count("<tr data-action=") == 7 and "removed a colleague from the practice" in changes
    assert COLLEAGUE not in page.split("data-practice-changes", 1)[0].split("data-members", 1)[1].split("</ul>")[0]
    audit_page = admin.get("/audit").get_data(as_text=True)
    assert audit_page.count("<td>the practice</td>") == 7 and "renamed the practice" in audit_page
    assert "Riverside" not in elsewhere.get("/audit").get_data(as_text=True)  # another practice sees none of it

    # The removed colleague was signed out; signed in again, they reach none of the practice's tests.
    assert colleague.get("/practice").status_code == 302
    again = login(app.test_client(), COLLEAGUE)
    assert again.get(f"/sessions/{public_id}").status_code == 404
    assert public_id not in again.get("/").get_data(as_text=True)
    assert clinicians(app)[COLLEAGUE][0] != clinicians(app)["doc@example.org"][0]
