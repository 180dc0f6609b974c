"""Adaptive procedure: one optotype per trial, answered on the display's keyboard; the clinician
moves to the next eye before the trial budget is spent, then ends the test."""

import pytest

from calibration.size import optotype_height_css_px
from tests.support.flows import calibrate_by_clicking, create_test, sign_in, visible

pytestmark = pytest.mark.browser


def answer_one(display, clinician, answered: int, previous_seq: str, css_px_per_mm: float) -> str:
    """Wait for a new stimulus, check its drawn size, answer it right with its letter key."""
    display.wait_for_function(
        "last => { const h = document.querySelector('[data-stimulus-host]');"
        " return h.dataset.drawnHeight && h.dataset.seq !== last; }",
        arg=previous_seq,
    )
    seq = display.get_attribute("[data-stimulus-host]", "data-seq")
    logmar = float(display.get_attribute("[data-stimulus-host] [data-stimulus]", "data-logmar"))
    optotypes = display.locator("[data-stimulus-host] [data-optotype]")
    assert optotypes.count() == 1
    required = optotype_height_css_px(logmar, 3000.0, css_px_per_mm)
    assert abs(optotypes.bounding_box()["height"] - required) <= 0.05 * required
    display.keyboard.press(optotypes.get_attribute("data-optotype").lower())
    clinician.wait_for_function("n => document.querySelectorAll('[data-answers] li').length === n", arg=answered)
    return seq


def test_adaptive_next_eye_then_end(new_context, live_server, shots):
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(clinician, live_server)
    invite_url, public_id = create_test(clinician, live_server, procedure="adaptive", eyes="left_right")
    clinician.goto(f"{live_server}/sessions/{public_id}")
    clinician.wait_for_selector('[data-device="display"]')

    display = shots.watch(
        "display", new_context(viewport={"width": 1280, "height": 800}, device_scale_factor=2).new_page()
    )
    display.goto(invite_url)
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    css_px_per_mm = calibrate_by_clicking(display, 5.0)
    display.click('[data-action="answers-done"]')
    assert display.get_attribute("[data-cover-line]", "data-cover-eye") == "right"  # testing the left eye first
    display.click('[data-action="ready"]')

    seq = "none"
    for answered in (1, 2, 3):
        seq = answer_one(display, clinician, answered, seq, css_px_per_mm)
    clinician.wait_for_function("() => document.querySelector('[data-estimate]').textContent.includes('95% interval')")

    clinician.once("dialog", lambda dialog: dialog.accept())
    clinician.click('[data-control="next_eye"]')
    display.wait_for_selector('[data-action="continue"]:not([hidden])')
    assert "right eye" in display.text_content("[data-test-message]")
    clinician.wait_for_selector('[data-eye-status="done"]')
    display.click('[data-action="continue"]')
    answer_one(display, clinician, 4, seq, css_px_per_mm)
    assert clinician.locator("[data-answers] li").first.text_content().startswith("#1 (right eye)")
    assert clinician.locator("[data-plot] [data-plot-trial]").count() == 4

    clinician.once("dialog", lambda dialog: dialog.accept())
    clinician.click('[data-control="end"]')
    display.wait_for_selector(visible("done"))
    assert display.is_hidden("[data-results]")  # the clinician did not share them
    shots.take(clinician, "ended")
