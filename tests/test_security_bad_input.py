"""Bad input tried: impossible calibrations and distances, bad tokens, forms with wrong values. Each
gets a clear error and the database is unchanged (every row of every table compared)."""

import pytest

from tests.support.app import CALIBRATION, NEW_TEST, PASSWORD, add_clinician, create_test, db_rows, display, login

IMPOSSIBLE_CALIBRATIONS = {
    "negative scale": {"css_px_per_mm": -4.0},
    "zero scale": {"css_px_per_mm": 0},
    "absurd scale": {"css_px_per_mm": 10_000},
    "NaN scale": {"css_px_per_mm": float("nan")},
    "infinite scale": {"css_px_per_mm": float("inf")},
    "string scale": {"css_px_per_mm": "4"},
    "zero pixel ratio": {"device_pixel_ratio": 0},
    "tiny viewport": {"viewport_css_px": [10, 10]},
    "negative viewport": {"viewport_css_px": [-1600, 900]},
    "viewport of three": {"viewport_css_px": [1600, 900, 3]},
    "unknown scale method": {"scale_method": "guess"},
    "negative distance": {"distance": {"method": "tape", "distance_mm": -3000}},
    "zero distance": {"distance": {"method": "tape", "distance_mm": 0}},
    "distance of a kilometre": {"distance": {"method": "tape", "distance_mm": 1_000_000}},
    "distance of 5 cm": {"distance": {"method": "tape", "distance_mm": 50}},
    "missing distance": {"distance": {"method": "tape"}},
    "unknown distance method": {"distance": {"method": "laser", "distance_mm": 3000}},
    "mirror in a tape set-up": {"distance": {"method": "mirror", "patient_to_mirror_mm": 1500}},
    "blind spot in a tape set-up": {"distance": {"method": "blind_spot", "offsets_mm": [150, 152]}},
    "distance not an object": {"distance": 3000},
}


@pytest.fixture
def consented(app, clinician_client):
    _, token = create_test(clinician_client)
    screen = display(app, token)
    assert screen.send("consent")["ok"]
    return screen


@pytest.mark.parametrize("name", sorted(IMPOSSIBLE_CALIBRATIONS))
def test_impossible_calibrations_and_distances_are_refused_and_store_nothing(app, consented, name):
    before = db_rows(app)
    ack = consented.send("calibration", {**CALIBRATION, **IMPOSSIBLE_CALIBRATIONS[name]})
    assert ack["ok"] is False, name
    assert ack["error"] in ("invalid_payload", "calibration_refused") and len(ack["message"]) > 10, ack
    assert db_rows(app) == before


def test_a_calibration_before_consent_is_refused_and_stores_nothing(app, clinician_client):
    _, token = create_test(clinician_client)
    screen = display(app, token)
    before = db_rows(app)
    ack = screen.send("calibration", CALIBRATION)
    assert ack["ok"] is False and ack["error"] == "wrong_phase"
    assert db_rows(app) == before


NEW_TEST_WRONG = {
    "empty reference": {"patient_reference": "  "},
    "reference too long": {"patient_reference": "x" * 500},
    "unknown eyes": {"eyes": "third"},
    "unknown optotype": {"optotype_set": "snellen_e"},
    "unknown procedure": {"procedure": "random"},
    "unknown set-up": {"setup": "10m"},
    "unknown answer mode": {"answer_mode": "robot"},
    "unknown correction": {"correction": "monocle"},
}


@pytest.mark.parametrize("name", sorted(NEW_TEST_WRONG))
def test_the_new_test_form_refuses_wrong_values_and_stores_nothing(app, clinician_client, name):
    before = db_rows(app)
    response = clinician_client.post("/sessions/new", data={**NEW_TEST, **NEW_TEST_WRONG[name]})
    assert response.status_code == 200 and b'class="error"' in response.data, name
    assert db_rows(app) == before


@pytest.mark.parametrize(
    "form",
    [
        {"email": "not-an-address", "password": PASSWORD, "confirm": PASSWORD},
        {"email": "a@example.org", "password": "short", "confirm": "short"},
        {"email": "a@example.org", "password": PASSWORD, "confirm": PASSWORD + "x"},
        {"email": "", "password": "", "confirm": ""},
    ],
)
def test_the_setup_form_refuses_wrong_values_and_stores_nothing(app, client, form):
    before = db_rows(app)
    response = client.post("/setup", data=form)
    assert response.status_code == 200 and b'class="error"' in response.data
    assert db_rows(app) == before


def test_wrong_logins_store_nothing(app, client):
    add_clinician(app)
    before = db_rows(app)
    for form in (
        {"email": "doc@example.org", "password": "wrong password"},
        {"email": "nobody@example.org", "password": PASSWORD},
        {"email": "", "password": ""},
        {"email": "x" * 300, "password": "y" * 300},
    ):
        assert client.post("/login", data=form).status_code in (200, 401), form
    assert db_rows(app) == before


@pytest.mark.parametrize("token", ["x" * 43, "short", "a" * 500, "%00", "..", "<script>", "é" * 20])
def test_malformed_and_unknown_links_get_the_ask_for_a_new_link_page_and_store_nothing(app, clinician_client, token):
    create_test(clinician_client)
    before = db_rows(app)
    for url in (f"/t/{token}", f"/pad/{token}"):
        response = clinician_client.get(url)
        assert response.status_code == 404
        assert b"Ask your clinician for a new link" in response.data, url
    assert db_rows(app) == before


def test_a_used_token_of_a_deleted_session_is_just_unknown(app, clinician_client):
    public_id, token = create_test(clinician_client)
    clinician_client.post(f"/sessions/{public_id}/delete", data={"confirm": "yes"})
    before = db_rows(app)
    assert clinician_client.get(f"/t/{token}").status_code == 404
    assert not display(app, token).connected
    assert db_rows(app) == before


def test_a_second_login_attempt_with_a_good_password_still_works_after_bad_ones(app, client):
    add_clinician(app)
    client.post("/login", data={"email": "doc@example.org", "password": "wrong password"})
    assert login(client) is client
