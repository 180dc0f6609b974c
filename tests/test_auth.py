"""Clinician accounts: first-run set-up, login, logout, CSRF, the create-clinician command."""

import re

import pytest
from sqlalchemy import select

from tests.support.app import PASSWORD, add_clinician, login, make_app
from webapp.extensions import db
from webapp.models import Clinician


@pytest.fixture
def csrf_app(db_path):
    return make_app(db_path, WTF_CSRF_ENABLED=True)


def test_fresh_install_points_to_setup_and_setup_creates_the_first_clinician(app, client):
    landing = client.get("/")
    assert landing.status_code == 200 and b'href="/setup"' in landing.data
    assert client.get("/login").headers["Location"] == "/setup"
    response = client.post("/setup", data={"email": "First@Example.org", "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200 and b"Your tests" in client.get("/").data
    with app.app_context():
        clinician = db.session.scalar(select(Clinician))
        assert clinician.email == "first@example.org"
        assert PASSWORD not in clinician.password_hash and clinician.password_hash.startswith(("scrypt:", "pbkdf2:"))


def test_setup_is_gone_once_a_clinician_exists(app, client):
    add_clinician(app)
    assert client.get("/setup").status_code == 404
    assert (
        client.post("/setup", data={"email": "x@example.org", "password": PASSWORD, "confirm": PASSWORD}).status_code
        == 404
    )
    with app.app_context():
        assert len(db.session.scalars(select(Clinician)).all()) == 1


def test_setup_refuses_short_or_mismatched_passwords(app, client):
    short = client.post("/setup", data={"email": "a@example.org", "password": "short", "confirm": "short"})
    assert short.status_code == 200 and b"at least 10 characters" in short.data
    differ = client.post("/setup", data={"email": "a@example.org", "password": PASSWORD, "confirm": PASSWORD + "x"})
    assert b"The passwords differ." in differ.data
    with app.app_context():
        assert db.session.scalar(select(Clinician)) is None


def test_login_logout_and_protected_pages(app, client):
    add_clinician(app)
    assert client.get("/sessions/new").headers["Location"].startswith("/login?next=")
    bad = client.post("/login", data={"email": "doc@example.org", "password": "wrong password"})
    assert bad.status_code == 401 and b"The email or the password is wrong." in bad.data
    login(client)
    assert client.get("/sessions/new").status_code == 200
    assert client.post("/logout").headers["Location"] == "/login"
    assert client.get("/sessions/new").status_code == 302


def test_login_redirects_only_to_local_paths(app, client):
    add_clinician(app)
    response = client.post("/login?next=https://evil.example/", data={"email": "doc@example.org", "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/sessions/new", data={"email": "doc@example.org", "password": PASSWORD})
    assert response.headers["Location"] == "/sessions/new"


def test_forms_refuse_a_post_without_the_csrf_token(csrf_app):
    client = csrf_app.test_client()
    add_clinician(csrf_app)
    refused = client.post("/login", data={"email": "doc@example.org", "password": PASSWORD})
    assert refused.status_code == 400
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    accepted = client.post("/login", data={"email": "doc@example.org", "password": PASSWORD, "csrf_token": token})
    assert accepted.status_code == 302
    assert client.post("/logout").status_code == 400  # logout is a form too
    assert client.get("/sessions/new").status_code == 200


def test_cli_creates_a_clinician_and_refuses_duplicates(app, runner):
    result = runner.invoke(args=["create-clinician", "cli@example.org", "--password", PASSWORD])
    assert result.exit_code == 0 and "Created clinician cli@example.org" in result.output
    again = runner.invoke(args=["create-clinician", "CLI@example.org", "--password", PASSWORD])
    assert again.exit_code != 0 and "already exists" in again.output
    weak = runner.invoke(args=["create-clinician", "weak@example.org", "--password", "123"])
    assert weak.exit_code != 0 and "at least 10 characters" in weak.output
    assert login(app.test_client(), "cli@example.org")
