"""What a patient reads, written by the server (webapp/patient_words.py): whether the screen is big
enough and the nearest set-up that is, the shared results in plain words with the clinician's
notation beside them, and the practice's contact line set on the new-test form."""

import pytest
from sqlalchemy import select

from calibration.screen import ScreenScale
from tests.support.app import create_test
from webapp.extensions import db
from webapp.models import TestSession
from webapp.patient_words import result_words, screen_words

JARGON = ("logMAR", "px", "pixel", "decimal", "screen points")


def words(scale, viewport, distance_mm, setup="3m", mirrored=False):
    from calibration.capability import measurable_range

    drawable = measurable_range(scale, viewport, distance_mm, crowding=True)
    return screen_words(
        scale, viewport, distance_mm, drawable.min_logmar, drawable.max_logmar, setup=setup, mirrored=mirrored
    )


def test_a_big_enough_screen_says_so():
    said = words(ScreenScale(4.5, 2.0, "card"), (1440, 900), 3000.0)
    assert said == {
        "fits": True,
        "text": "Your screen is big enough for this test.",
        "offer_distance_mm": None,
        "offer_text": None,
    }


def test_a_screen_too_small_at_3_m_is_offered_2_m():
    # A 1280 x 720 window at 4.5 CSS px/mm: the largest crowded letter that fits is 42 mm, short of
    # 6/60 at 3 m (43.6 mm); at 2 m it is 6/60 and more, and the smallest still reaches 6/6.
    said = words(ScreenScale(4.5, 2.0, "card"), (1280, 720), 3000.0)
    assert said["fits"] is False
    assert said["text"] == "Your screen is too small to test at 3 m: stand at 2 m instead."
    assert (said["offer_distance_mm"], said["offer_text"]) == (2000.0, "2 m")
    # ... and at 2 m it fits.
    assert words(ScreenScale(4.5, 2.0, "card"), (1280, 720), 2000.0)["fits"] is True


def test_no_set_up_fits_says_what_limits_the_screen_without_jargon():
    # A coarse screen in a small window: at 2 m too coarse for 6/6, at 4 m too small for 6/60.
    coarse = words(ScreenScale(2.6, 1.0, "card"), (800, 450), 2000.0, setup="2m")
    near = words(ScreenScale(2.6, 1.0, "card"), (1280, 720), 400.0, setup="near_40cm")
    mirror = words(ScreenScale(2.6, 1.0, "card"), (1280, 720), 2000.0, setup="mirror", mirrored=True)
    for said in (coarse, near, mirror):
        assert said["fits"] is False and said["offer_distance_mm"] is None
        assert not any(word in said["text"] for word in JARGON), said["text"]
    assert "near test" in near["text"] and "phone or tablet" in near["text"]
    assert "1 m from the mirror" in mirror["text"]


@pytest.mark.parametrize(
    ("logmar", "bound", "near_mm", "text"),
    [
        (-0.1, None, None, "Right eye: normal sight or better — 6/5 (20/16)"),
        (0.2, "<=", None, "Right eye: close to normal sight — 6/10 (20/32) or better"),
        (0.4, None, None, "Right eye: a little below normal sight — 6/15 (20/50)"),
        (0.9, None, None, "Right eye: below normal sight — 6/48 (20/160)"),
        (1.3, ">=", None, "Right eye: well below normal sight — 6/120 (20/400) or worse"),
        (0.4, None, 400.0, "Right eye: a little below normal sight — N8 (1.0M at 40 cm)"),
    ],
)
def test_results_are_plain_words_with_the_clinicians_notation(logmar, bound, near_mm, text):
    said = result_words("right", logmar, bound, {"near_distance_mm": near_mm})
    assert said["text"] == text
    assert "logMAR" not in said["text"]


def test_the_contact_line_is_stored_and_sent_to_the_patient_as_typed(app, clinician_client):
    line = "Riverside Eye Clinic, Dr Lee, 01632 960 123 <b>Sam</b>"
    create_test(clinician_client, contact_line=f"  {line} ")
    with app.app_context():
        session = db.session.scalar(select(TestSession))
        assert session.contact_line == line
        from webapp.live.payloads import state

        assert state(session, "display")["contact_line"] == line


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Dr Lee\nRiverside", b"Write it on one line"),
        ("Dr Lee\tRiverside", b"Write it on one line"),
        ("x" * 161, b"at most 160 characters"),
    ],
)
def test_a_bad_contact_line_is_refused_with_what_to_do(app, clinician_client, value, message):
    from tests.support.app import NEW_TEST

    response = clinician_client.post("/sessions/new", data={**NEW_TEST, "contact_line": value})
    assert response.status_code == 200
    assert message in response.data
    with app.app_context():
        assert db.session.scalar(select(TestSession)) is None


def test_no_contact_line_is_none(app, clinician_client):
    create_test(clinician_client)
    with app.app_context():
        assert db.session.scalar(select(TestSession)).contact_line is None
