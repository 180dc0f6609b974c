"""The clinician steers a live test: clinician-scored mode (mark each letter right or wrong),
pause and resume, a re-calibration asked for by the clinician or forced by a zoom, notes."""

import pytest

from tests.support.flows import (
    calibrate_by_clicking,
    create_test,
    current_stimulus,
    serious_violations,
    sign_in,
    visible,
)

pytestmark = pytest.mark.browser


# What the browser does when the tab goes to the background and comes back (headless Chromium
# keeps every page visible, so the test plays the browser's part).
HIDE = """() => { Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});
                 document.dispatchEvent(new Event('visibilitychange')); }"""
SHOW = """() => { delete document.visibilityState; document.dispatchEvent(new Event('visibilitychange')); }"""


def test_clinician_scores_pauses_and_asks_for_recalibration(new_context, live_server, shots):
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 1000}).new_page())
    sign_in(clinician, live_server)
    invite_url, public_id = create_test(clinician, live_server, eyes="right", answer_mode="clinician")
    clinician.goto(f"{live_server}/sessions/{public_id}")
    clinician.wait_for_selector('[data-device="display"]')

    display_context = new_context(viewport={"width": 1280, "height": 800})
    display = shots.watch("display", display_context.new_page())
    display.goto(invite_url)
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    calibrate_by_clicking(display, 4.2)
    display.wait_for_selector(visible("answers"))
    assert display.is_visible('[data-answer-mode="clinician"]')
    assert not display.is_visible("[data-pad-qr]")
    display.click('[data-action="answers-done"]')
    display.click('[data-action="ready"]')

    first = current_stimulus(display, None)
    assert first["trial_id"] == "right-0"
    assert display.is_hidden("[data-test-keys]"), "no answer buttons when the clinician scores"

    # Pause and resume.
    clinician.click('[data-control="pause"]')
    display.wait_for_selector("[data-test-message]:not([hidden])")
    assert "paused" in display.text_content("[data-test-message-text]")
    clinician.wait_for_selector('[data-control="resume"]:not([disabled])')
    shots.take(display, "paused", full_page=False)
    clinician.click('[data-control="resume"]')
    display.wait_for_selector("[data-test-message]", state="hidden")

    # The patient's page is hidden (another app in front): the test pauses until they say Continue.
    display.evaluate(HIDE)
    display.wait_for_selector('[data-action="continue"]:not([hidden])')
    assert "page was hidden" in display.text_content("[data-test-message-text]")
    clinician.wait_for_selector('[data-event-kind="hidden"]')
    clinician.wait_for_function("() => document.querySelector('[data-phase]').textContent.includes('page_hidden')")
    display.evaluate(SHOW)
    display.click('[data-action="continue"]')
    display.wait_for_selector("[data-test-message]", state="hidden")
    display.wait_for_function(
        "trial => document.querySelector('[data-stimulus-host]').dataset.trialId === trial", arg=first["trial_id"]
    )

    # The clinician asks for a new calibration: the patient measures again, the same trial returns.
    clinician.click('[data-control="request_recalibration"]')
    display.wait_for_selector(visible("scale"))
    assert "clinician asked" in display.text_content("[data-recalibrate-reason]")
    calibrate_by_clicking(display, 4.0)
    display.click('[data-action="answers-done"]')
    display.click('[data-action="ready"]')
    again = current_stimulus(display, first["seq"])
    assert again["trial_id"] == first["trial_id"] and again["seq"] != first["seq"]

    # Score the first row letter by letter (all right), checking the panel with axe while it is up.
    clinician.wait_for_selector("[data-score-panel]:not([hidden])")
    buttons = clinician.locator('[data-score-value="true"]')
    assert buttons.count() == 5
    assert clinician.is_disabled("[data-score-submit]")
    for index in range(5):
        clinician.click(f'[data-score-index="{index}"][data-score-value="true"]')
    assert serious_violations(clinician) == []
    shots.take(clinician, "scoring")
    clinician.click("[data-score-submit]")
    clinician.wait_for_function("() => document.querySelectorAll('[data-answers] li').length === 1")
    assert clinician.get_attribute("[data-answers] li", "data-correct") == "true"
    assert "scored by you" in clinician.text_content("[data-answers] li")

    # A zoom on the patient's screen (devicePixelRatio change) voids the calibration.
    second = current_stimulus(display, again["seq"])
    cdp = display_context.new_cdp_session(display)
    cdp.send(
        "Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1.25, "mobile": False}
    )
    display.wait_for_selector(visible("scale"))
    assert "zoomed" in display.text_content("[data-recalibrate-reason]")
    clinician.wait_for_selector('[data-event-kind="zoom"]')
    # Back to the zoom and the window of the stored calibration (clearing the override would leave
    # headless Chromium's own, shorter window).
    cdp.send(
        "Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}
    )
    display.wait_for_function("() => window.devicePixelRatio === 1")
    # The way back to 1 is reported too; calibrate only after it, or it would void the new one.
    clinician.wait_for_function("() => document.querySelectorAll('[data-event-kind=\"zoom\"]').length === 2")
    # Back at the zoom of the stored calibration: it comes back without measuring again.
    display.wait_for_selector("[data-range-report]:not([hidden])")
    assert "restored" in display.text_content("[data-range-restored]")
    display.click('[data-action="distance-continue"]')
    display.click('[data-action="answers-done"]')
    display.click('[data-action="ready"]')
    third = current_stimulus(display, second["seq"])
    assert third["trial_id"] == second["trial_id"]

    # A note, then the second row: whole row wrong -> the chart stops, the test is done.
    clinician.fill("[data-note-text]", "Patient wears <b>reading</b> glasses")
    clinician.click("[data-note-form] [type=submit]")
    clinician.wait_for_selector('[data-event-kind="note"]')
    assert "<b>reading</b>" in clinician.text_content('[data-event-kind="note"]')  # text, not markup
    clinician.wait_for_function(
        "seq => document.querySelectorAll('[data-score-value=\"false\"]').length === 5", arg=third["seq"]
    )
    clinician.click('[data-score-all="false"]')
    clinician.click("[data-score-submit]")
    display.wait_for_selector(visible("done"))
    clinician.wait_for_selector('[data-eye-status="done"]')
    shots.take(clinician, "done")
