"""Deleting a patient's data (one session, after a confirmation; everything under it goes; the audit
entries stay without identity), the retention setting, and no patient identity in URLs."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.app import (
    a_session_with_everything,
    add_clinician,
    create_test,
    db_rows,
    display,
    login,
    make_app,
    rules,
)
from webapp import audit


def counts(app) -> dict[str, int]:
    return {table: len(rows) for table, rows in db_rows(app).items()}


@pytest.fixture
def owner(app, client):
    add_clinician(app)
    return login(client)


def test_delete_asks_first_and_without_the_confirmation_changes_nothing(app, owner):
    public_id, _, _ = a_session_with_everything(app, owner)
    page = owner.get(f"/sessions/{public_id}/delete")
    assert page.status_code == 200 and b"data-delete-form" in page.data and b"cannot be undone" in page.data
    assert f'href="/sessions/{public_id}/delete"' in owner.get(f"/sessions/{public_id}/result").get_data(as_text=True)
    before = db_rows(app)
    assert owner.post(f"/sessions/{public_id}/delete", data={}).status_code == 400
    assert owner.post(f"/sessions/{public_id}/delete", data={"confirm": "no"}).status_code == 400
    assert db_rows(app) == before


def test_delete_removes_everything_of_the_session_and_keeps_an_anonymous_audit_line(app, owner):
    public_id, token, screen = a_session_with_everything(app, owner)
    keep_id, _, _ = a_session_with_everything(app, owner, note="B's note", patient_reference="Patient B")
    before = counts(app)
    assert all(before[t] >= 2 for t in ("test_session", "eye_test", "trial", "calibration", "session_event"))
    response = owner.post(f"/sessions/{public_id}/delete", data={"confirm": "yes"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    after = db_rows(app)
    assert len(after["test_session"]) == before["test_session"] - 1
    for table, rows in after.items():
        assert "Patient A" not in repr(rows) and "reads slowly" not in repr(rows), table
    assert all(
        counts(app)[t] == before[t] // 2 for t in ("test_session", "eye_test", "trial", "calibration", "session_event")
    )
    # The other session is whole; the patient's screen was told and let go; the link is dead.
    assert "Patient B" in repr(after) and owner.get(f"/sessions/{keep_id}/result").status_code == 200
    assert not screen.connected
    assert owner.get(f"/t/{token}").status_code == 404 and not display(app, token).connected
    assert owner.get(f"/sessions/{public_id}/result").status_code == 404
    # The audit log of the deleted session is still there for its owner, ending with the deletion.
    page = owner.get(f"/sessions/{public_id}/audit")
    assert page.status_code == 200 and b"was deleted" in page.data and b"Patient A" not in page.data
    with app.app_context():
        from webapp.extensions import db

        last = db.session.scalars(
            select(audit.AuditEntry)
            .where(audit.AuditEntry.session_public_id == public_id)
            .order_by(audit.AuditEntry.id.desc())
        ).first()
        assert (last.action, last.clinician_id, last.owner_id) == ("deleted", 1, 1)


def test_another_clinician_can_neither_delete_nor_read_the_deleted_sessions_log(app, owner):
    public_id, _, _ = a_session_with_everything(app, owner)
    add_clinician(app, "other@example.org")
    other = login(app.test_client(), "other@example.org")
    before = db_rows(app)
    assert other.post(f"/sessions/{public_id}/delete", data={"confirm": "yes"}).status_code == 404
    assert db_rows(app) == before
    owner.post(f"/sessions/{public_id}/delete", data={"confirm": "yes"})
    assert other.get(f"/sessions/{public_id}/audit").status_code == 404


def age(app, public_id, days):
    from webapp.extensions import db
    from webapp.models import TestSession, utcnow

    with app.app_context():
        session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
        session.created_at = utcnow() - timedelta(days=days)
        db.session.commit()


def test_purge_expired_removes_sessions_older_than_the_retention(app, owner, runner, monkeypatch):
    old_id, _, _ = a_session_with_everything(app, owner)
    new_id, _ = create_test(owner, patient_reference="Patient B")
    age(app, old_id, 31)
    age(app, new_id, 29)
    monkeypatch.setitem(app.config, "RETENTION_DAYS", None)  # VISUS_RETENTION_DAYS unset (webapp/config.py)
    before = db_rows(app)
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code != 0 and "VISUS_RETENTION_DAYS" in result.output
    assert runner.invoke(args=["purge-expired", "--days", "0"]).exit_code != 0
    assert db_rows(app) == before
    monkeypatch.setitem(app.config, "RETENTION_DAYS", "30")
    result = runner.invoke(args=["purge-expired"])
    assert result.exit_code == 0 and "Deleted 1 session" in result.output, result.output
    rows = repr(db_rows(app))
    assert "Patient A" not in rows and "Patient B" in rows
    assert owner.get(f"/sessions/{old_id}/audit").status_code == 200  # "removed by the retention setting"
    assert runner.invoke(args=["purge-expired", "--days", "1"]).output.startswith("Deleted 1 session")
    assert "Patient B" not in repr(db_rows(app))


def test_old_sessions_are_purged_at_start_up_when_a_retention_is_set(app, owner, db_path):
    from webapp.startup import start_up

    old_id, _ = create_test(owner)
    kept_id, _ = create_test(owner, patient_reference="Patient B")
    age(app, old_id, 10)
    start_up(make_app(db_path))  # no retention set: nothing happens
    assert "Patient A" in repr(db_rows(app))
    make_app(db_path, RETENTION_DAYS="7")  # building the app deletes nothing (tests/test_config.py)
    assert "Patient A" in repr(db_rows(app))
    start_up(make_app(db_path, RETENTION_DAYS="7"))  # what `python3 server.py` does first
    rows = repr(db_rows(app))
    assert "Patient A" not in rows and "Patient B" in rows
    with pytest.raises(ValueError, match="VISUS_RETENTION_DAYS"):
        make_app(db_path, RETENTION_DAYS="-1")


def test_no_patient_identity_in_urls(app, owner):
    """Routes name sessions and patients by random public ids; a patient's reference, name, year of
    birth or e-mail is never in a link, and the patient search is sent by POST."""
    import re

    # Random ids, a language code and a colleague's number: nothing that names a patient.
    random_ids = {"public_id", "patient_id", "token", "pad_token", "invite_id", "filename", "code", "clinician_id"}
    for path, _ in rules(app):
        assert set(re.findall(r"<(?:\w+:)?(\w+)>", path)) <= random_ids, path
        fixed = re.sub(r"<[^>]+>", "", path).lower()
        assert "reference" not in fixed and "email" not in fixed and "name" not in fixed, path
    public_id, _ = create_test(owner, patient_reference="Jane Doe 1970", patient_name="Jane Roe", birth_year="1950")
    found = owner.post("/sessions/new", data={"patient_query": "Jane", "find": "Find"}).get_data(as_text=True)
    assert "Jane Roe" in found  # found by POST, so the search is in no URL
    for url in ("/", "/sessions/new", "/patients"):  # the patient searches are POSTed
        assert 'method="get"' not in owner.get(url).get_data(as_text=True).lower(), url
    for url in (
        "/",
        "/patients",
        f"/sessions/{public_id}/result",
        f"/sessions/{public_id}/report",
        f"/sessions/{public_id}/history",
    ):
        html = owner.get(url).get_data(as_text=True)
        for href in re.findall(r'(?:href|action|src)="([^"]*)"', html):
            assert "Jane" not in href and "1970" not in href and "1950" not in href, (url, href)


def test_deleting_a_patients_last_test_deletes_their_record_and_an_earlier_one_keeps_it(app, owner):
    first, _ = create_test(owner, patient_reference="Jane Doe 1970", patient_name="Jane Roe", birth_year="1950")
    second, _ = create_test(owner, patient_reference="Jane Doe 1970")
    assert owner.post(f"/sessions/{first}/delete", data={"confirm": "yes"}).status_code == 302
    assert "Jane Roe" in repr(db_rows(app)["patient"])  # a test of theirs is left
    assert owner.post(f"/sessions/{second}/delete", data={"confirm": "yes"}).status_code == 302
    rows = db_rows(app)
    assert rows["patient"] == [] and "Jane" not in repr(rows) and "1950" not in repr(rows)
