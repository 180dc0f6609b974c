"""Patient pages: the links exchanged for device credentials, the test page, the pad page and the
optotype geometry."""

from tests.support.app import create_test, display, pad, pad_token_from_state


def _set_cookie(response, name):
    """The Set-Cookie header of one cookie, as the browser gets it."""
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert len(headers) == 1, response.headers
    return headers[0]


def test_the_invite_link_is_exchanged_once_for_a_credential_and_a_token_free_page(app, clinician_client):
    _, token = create_test(clinician_client)
    patient = app.test_client()
    response = patient.get(f"/t/{token}")
    assert response.status_code == 303 and response.headers["Location"] == "/test"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    cookie = _set_cookie(response, "visus_display")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain HTTP here; VISUS_SECURE_COOKIES below
    assert token not in cookie
    page = patient.get("/test")
    assert page.status_code == 200 and token.encode() not in page.data
    assert page.headers["Cache-Control"] == "no-store"
    # Opened again in the same browser: straight back to the test.
    again = patient.get(f"/t/{token}")
    assert again.status_code == 303 and again.headers["Location"] == "/test"
    assert "Set-Cookie" not in again.headers


def test_the_invite_link_opened_in_another_browser_takes_nothing_over(app, clinician_client):
    _, token = create_test(clinician_client)
    assert app.test_client().get(f"/t/{token}").status_code == 303
    other = app.test_client()
    refused = other.get(f"/t/{token}")
    assert refused.status_code == 410 and "Set-Cookie" not in refused.headers
    text = refused.get_data(as_text=True)
    assert "already opened on another device" in text and "ask your clinician for a new link" in text
    assert other.get("/test").status_code == 404
    assert not display(app, token, browser=other).connected


def test_patient_pages_without_a_credential_say_what_to_do(client):
    for path, words in (
        ("/test", "No eye test is open in this browser"),
        ("/pad", "This phone is not paired with a test"),
    ):
        response = client.get(path)
        assert response.status_code == 404
        text = response.get_data(as_text=True)
        assert words in text and "What to do" in text and "Not Found" not in text
    # A forged cookie is no credential.
    client.set_cookie("visus_display", "x" * 43)
    assert client.get("/test").status_code == 404


def test_the_credential_cookie_is_secure_under_https(db_path):
    from tests.support.app import add_clinician, login, make_app

    app = make_app(db_path, SECURE_COOKIES=True)
    add_clinician(app)
    _, token = create_test(login(app.test_client()))
    cookie = _set_cookie(app.test_client().get(f"/t/{token}"), "visus_display")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_a_link_opened_from_another_site_navigates_again_from_this_one(app, clinician_client):
    """A Strict cookie is not sent on a navigation from another site (a webmail) nor on its redirects:
    the page navigates again from this site first."""
    _, token = create_test(clinician_client)
    patient = app.test_client()
    bounce = patient.get(f"/t/{token}", headers={"Sec-Fetch-Site": "cross-site"})
    assert bounce.status_code == 200 and "Set-Cookie" not in bounce.headers
    assert '<meta http-equiv="refresh" content="0">' in bounce.get_data(as_text=True)
    assert patient.get(f"/t/{token}", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 303


def test_pad_page_needs_the_pad_link_made_when_the_display_joined(app, clinician_client):
    _, token = create_test(clinician_client)
    assert clinician_client.get("/pad/" + "y" * 43).status_code == 404
    screen = display(app, token)
    pad_token = pad_token_from_state(screen.last("state"))
    assert pad_token != token
    # The invite token is not a pad token and vice versa.
    assert clinician_client.get(f"/pad/{token}").status_code == 404
    assert clinician_client.get(f"/t/{pad_token}").status_code == 404
    phone = app.test_client()
    response = phone.get(f"/pad/{pad_token}")
    assert response.status_code == 303 and response.headers["Location"] == "/pad"
    cookie = _set_cookie(response, "visus_pad")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    page = phone.get("/pad")
    assert page.status_code == 200 and pad_token.encode() not in page.data
    # The pad link worked once: the display was given a new one at once, for pairing again.
    new_pad_token = pad_token_from_state(screen.last("state"))
    assert new_pad_token != pad_token
    assert phone.get(f"/pad/{pad_token}").headers["Location"] == "/pad"  # this phone: back to its pad
    used = app.test_client().get(f"/pad/{pad_token}")
    assert used.status_code == 404 and "Scan the code" in used.get_data(as_text=True)
    # A second phone paired with the new link replaces the first one's credential.
    second = app.test_client()
    assert second.get(f"/pad/{new_pad_token}").status_code == 303
    assert second.get("/pad").status_code == 200 and phone.get("/pad").status_code == 404
    assert pad(app, new_pad_token, browser=second).connected
    assert not pad(app, pad_token, browser=phone).connected


def test_links_and_credentials_expire_after_the_end_and_at_a_maximum(app, clinician_client):
    from datetime import timedelta

    from webapp.extensions import db
    from webapp.models import TestSession, utcnow

    public_id, token = create_test(clinician_client)
    patient = app.test_client()
    assert patient.get(f"/t/{token}").status_code == 303

    def move(**values):
        with app.app_context():
            session = db.session.query(TestSession).filter_by(public_id=public_id).one()
            for name, value in values.items():
                setattr(session, name, value)
            db.session.commit()

    move(consent_at=utcnow(), finished_at=utcnow() - timedelta(hours=1), status="done")
    assert patient.get("/test").status_code == 200  # within VISUS_LINK_AFTER_END_HOURS (2 h)
    move(finished_at=utcnow() - timedelta(hours=3))
    expired = patient.get("/test")
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    assert patient.get(f"/t/{token}").status_code == 410
    assert not display(app, token, browser=patient).connected
    # Not finished, but created longer ago than VISUS_LINK_MAX_DAYS (7): expired too.
    move(finished_at=None, status="active", created_at=utcnow() - timedelta(days=8))
    assert patient.get("/test").status_code == 410
    move(created_at=utcnow() - timedelta(days=6))
    assert patient.get("/test").status_code == 200


def test_the_pad_link_is_the_same_after_the_display_reloads(app, clinician_client):
    _, token = create_test(clinician_client)
    first = display(app, token).last("state")["pad_url"]
    assert display(app, token).last("state")["pad_url"] == first


def test_optotypes_json_is_the_geometry_the_browser_draws_from(client):
    from acuity.optotypes import all_geometry

    data = client.get("/optotypes.json").get_json()
    assert data == all_geometry()
    assert set(data["sets"]) == {"sloan", "tumbling_e", "landolt_c8", "landolt_c4", "hotv"}


def test_links_for_patients_use_the_public_url_when_set(db_path):
    from tests.support.app import add_clinician, login, make_app

    app = make_app(db_path, PUBLIC_URL="https://visus.example.org/")
    add_clinician(app)
    client = login(app.test_client())
    _, token = create_test(client)
    assert client.get("/").status_code == 200
    state = display(app, token).last("state")
    assert state["pad_url"].startswith("https://visus.example.org/pad/")
    page = client.post(
        "/sessions/new",
        data={
            "patient_reference": "x",
            "eyes": "right",
            "optotype_set": "sloan",
            "procedure": "chart",
            "chart_presentation": "row",
            "correction": "none",
            "setup": "3m",
            "answer_mode": "patient",
        },
        follow_redirects=True,
    )
    assert 'value="https://visus.example.org/t/' in page.get_data(as_text=True)
