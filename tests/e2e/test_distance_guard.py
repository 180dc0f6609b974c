"""The webcam distance guard in Debian's Chromium, its camera fed a real face photo
(scikit-image's `astronaut`) rendered as a pinhole camera sees it at known distances
(devtools/face_video.py): the face landmarks run from Visus's own files under its own CSP, the
measured eye spacing is the pinhole camera's, and once the patient records their place at 3 m the
test pauses when the face is 15% closer and 15% further, with a large message saying which way to
go, and goes on by itself when it is back; the clinician sees the estimate and each pause; the
server keeps numbers only. Without the camera (refused by the patient, or no camera at all) the
test runs as before.

The video is small (320 x 240, 3 frames a second, 54 s, looped by Chromium) so the tests
stay cheap on a slow machine; every wait is for something the pages show, bounded.
"""

from __future__ import annotations

import pytest

from devtools.face_video import Camera
from tests.support.face_camera import LONG_WAIT_MS, face_camera, guard_holds_the_patient, own_server, stored_guard
from tests.support.flows import calibrate_by_clicking, create_test, sign_in, visible

pytestmark = pytest.mark.browser

CAMERA = Camera.with_fov(320, 240, 10.0)
MARK_MM = 3000.0
# At the mark long enough to record the place (a 10 s countdown, then the recording), then 15%
# closer, back, 15% further (then again from the start).
SCHEDULE = [(MARK_MM, 30.0), (MARK_MM * 0.85, 8.0), (MARK_MM, 8.0), (MARK_MM * 1.15, 8.0)]


@pytest.fixture(scope="module")
def face_camera_browser(playwright_instance, tmp_path_factory):
    with face_camera(playwright_instance, tmp_path_factory.mktemp("face"), CAMERA, SCHEDULE) as launched:
        yield launched


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module: each test makes a test of its own on it."""
    with own_server(tmp_path_factory.mktemp("guard-server"), "distance-guard-server.log") as process:
        yield process


def open_test(browser, shots, base):
    clinician = shots.watch("clinician", browser.new_context(viewport={"width": 1280, "height": 1000}).new_page())
    sign_in(clinician, base)
    invite_url, public_id = create_test(clinician, base, eyes="right", procedure="adaptive")
    clinician.goto(f"{base}/sessions/{public_id}")
    display = shots.watch("display", browser.new_context(viewport={"width": 1280, "height": 800}).new_page())
    display.goto(invite_url)
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    calibrate_by_clicking(display, 4.0)
    display.click('[data-action="answers-done"]')
    display.wait_for_selector(visible("prepare"))
    return clinician, display, public_id


def test_the_guard_pauses_when_the_face_moves_15_percent_and_resumes_at_the_mark(face_camera_browser, shots, server):
    clinician, display, public_id = open_test(face_camera_browser, shots, server.base_url)
    closer, further = guard_holds_the_patient(
        display, clinician, shots, CAMERA.eye_spacing_px(MARK_MM), "±10%", "guard"
    )
    # Each pause carries the deviation the server measured: 15%, within 4 points.
    assert all(11 <= value <= 19 for value in closer + further), (closer, further)

    # Stored: numbers only (no picture, no landmark list), the pauses counted, the largest deviation.
    guard = stored_guard(server.db_path, public_id)
    assert guard["method"] == "webcam_eye_corners" and guard["tolerance"] == 0.10
    assert guard["pauses"] >= 2 and 0.11 <= abs(guard["max_deviation"]) <= 0.19, guard
    assert all(isinstance(value, int | float | str | bool | type(None)) for value in guard.values()), guard
    assert "tolerance ±10%" in clinician.text_content('[data-cal="guard"]')


@pytest.mark.parametrize("camera", ["declined", "absent"])
def test_without_the_camera_the_test_runs_as_before(face_camera_browser, browser, shots, server, camera):
    # "absent": the ordinary test browser, which has no camera at all.
    clinician, display, public_id = open_test(
        face_camera_browser if camera == "declined" else browser, shots, server.base_url
    )
    display.click("[data-distance-guard] > summary")  # closed so that the step fits
    display.wait_for_selector("[data-distance-ask]:not([hidden])")
    display.click('[data-distance-action="allow"]' if camera == "absent" else '[data-distance-action="refuse"]')
    display.wait_for_selector("[data-distance-off]:not([hidden])", timeout=LONG_WAIT_MS)
    assert "works without it" in display.text_content("[data-distance-off]")
    shots.take(display, f"guard-off-{camera}", full_page=False)
    display.click('[data-action="ready"]')
    display.wait_for_function(
        "() => document.querySelector('[data-stimulus-host]').dataset.drawnHeight", timeout=LONG_WAIT_MS
    )
    clinician.wait_for_function(
        "() => document.querySelector('[data-cal=\"guard\"]').textContent.startsWith('off')", timeout=LONG_WAIT_MS
    )
    guard = stored_guard(server.db_path, public_id)
    assert guard["method"] == "off" and guard["off_reason"] == ("declined" if camera == "declined" else "unavailable")
