"""Patient pages: the test page, the pad page and the optotype geometry."""
from tests.support.app import create_test, display, pad_token_from_state


def test_test_page_carries_the_token_and_is_not_cached(clinician_client):
    _, token = create_test(clinician_client)
    response = clinician_client.get(f"/t/{token}")
    assert response.status_code == 200
    assert token.encode() in response.data
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_pad_page_needs_the_pad_token_made_when_the_display_joined(app, clinician_client):
    _, token = create_test(clinician_client)
    assert clinician_client.get("/pad/" + "y" * 43).status_code == 404
    pad_token = pad_token_from_state(display(app, token).last("state"))
    assert pad_token != token
    page = clinician_client.get(f"/pad/{pad_token}")
    assert page.status_code == 200 and pad_token.encode() in page.data
    # The invite token is not a pad token and vice versa.
    assert clinician_client.get(f"/pad/{token}").status_code == 404
    assert clinician_client.get(f"/t/{pad_token}").status_code == 404


def test_the_pad_link_is_the_same_after_the_display_reloads(app, clinician_client):
    _, token = create_test(clinician_client)
    first = display(app, token).last("state")["pad_url"]
    assert display(app, token).last("state")["pad_url"] == first


def test_optotypes_json_is_the_geometry_the_browser_draws_from(client):
    from acuity.optotypes import all_geometry

    data = client.get("/optotypes.json").get_json()
    assert data == all_geometry()
    assert set(data["sets"]) == {"sloan", "tumbling_e", "landolt_c8", "landolt_c4"}


def test_links_for_patients_use_the_public_url_when_set(db_path):
    from tests.support.app import add_clinician, login, make_app

    app = make_app(db_path, PUBLIC_URL="https://visus.example.org/")
    add_clinician(app)
    client = login(app.test_client())
    _, token = create_test(client)
    assert client.get("/").status_code == 200
    state = display(app, token).last("state")
    assert state["pad_url"].startswith("https://visus.example.org/pad/")
    page = client.post("/sessions/new", data={"patient_reference": "x", "eyes": "right", "optotype_set": "sloan",
                                             "procedure": "chart", "chart_presentation": "row", "correction": "none",
                                             "setup": "3m", "answer_mode": "patient"})
    assert 'value="https://visus.example.org/t/' in page.get_data(as_text=True)
