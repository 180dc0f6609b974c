"""Pinch zoom during the test (issue 11): devicePixelRatio stays the same but a CSS px is drawn
larger on screen (visualViewport.scale). The page reports it, the server voids the calibration, the
letter leaves the screen, the patient and the clinician are told, and after the patient zooms back
out and measures again the same trial returns, as after a browser zoom.

Chromium's own pinch zoom is driven through DevTools (Emulation.setPageScaleFactor): the page sees
what a pinch does, visualViewport.scale and its `resize` event.
"""

import pytest

from tests.support.flows import calibrate_by_clicking, create_test, current_stimulus, sign_in, visible

pytestmark = pytest.mark.browser


def test_pinch_zoom_pauses_the_test_and_hides_the_letter(new_context, live_server, shots):
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 1000}).new_page())
    sign_in(clinician, live_server)
    invite_url, public_id = create_test(
        clinician, live_server, eyes="right", procedure="adaptive", answer_mode="clinician"
    )
    clinician.goto(f"{live_server}/sessions/{public_id}")
    clinician.wait_for_selector('[data-device="display"]')

    display_context = new_context(viewport={"width": 1280, "height": 800}, device_scale_factor=2)
    display = shots.watch("display", display_context.new_page())
    display.goto(invite_url)
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    calibrate_by_clicking(display, 4.2)
    display.click('[data-action="answers-done"]')
    display.click('[data-action="ready"]')
    first = current_stimulus(display, None)
    # The ink the page measured and reported is the size asked for: the server says so.
    clinician.wait_for_function("() => document.querySelector('[data-drawn-check]').textContent.includes('within')")
    assert "within the 2% tolerance" in clinician.text_content("[data-drawn-check]")
    shots.take(display, "letter", full_page=False)

    # The patient leaves full screen (Chromium allows no pinch zoom in full screen; the test goes on,
    # the letter still fits) and pinches: the page is drawn 1.5 times larger, devicePixelRatio unchanged.
    display.evaluate("() => document.fullscreenElement && document.exitFullscreen()")
    display.wait_for_function("() => !document.fullscreenElement")
    clinician.wait_for_selector('[data-event-kind="fullscreen_exit"]')
    assert display.eval_on_selector("[data-stimulus-host]", "host => host.childElementCount") == 1
    cdp = display_context.new_cdp_session(display)
    cdp.send("Emulation.setPageScaleFactor", {"pageScaleFactor": 1.5})
    # The test stops: the letter is taken off the screen and the patient is asked to measure again.
    display.wait_for_selector(visible("scale"))
    assert display.eval_on_selector("[data-stimulus-host]", "host => host.childElementCount") == 0
    assert "zoomed" in display.text_content("[data-recalibrate-reason]")
    shots.take(display, "pinched", full_page=False)
    # The clinician is told: the zoom, and the calibration voided by it.
    clinician.wait_for_selector('[data-event-kind="zoom"]')
    clinician.wait_for_function(
        "() => Array.from(document.querySelectorAll('[data-event-kind]'))"
        ".some((e) => e.textContent.includes('zoom or screen changed'))"
    )
    shots.take(clinician, "told")

    # Zoomed back out (reported too), measured again: the same trial returns, at the right size.
    cdp.send("Emulation.setPageScaleFactor", {"pageScaleFactor": 1})
    display.wait_for_function("() => window.visualViewport.scale === 1")
    clinician.wait_for_function("() => document.querySelectorAll('[data-event-kind=\"zoom\"]').length === 2")
    # Back at the zoom of the stored calibration: it comes back without measuring again.
    display.wait_for_selector("[data-range-report]:not([hidden])")
    assert "restored" in display.text_content("[data-range-restored]")
    display.click('[data-action="distance-continue"]')
    display.click('[data-action="answers-done"]')
    display.click('[data-action="ready"]')
    again = current_stimulus(display, first["seq"])
    assert again["trial_id"] == first["trial_id"] and again["seq"] != first["seq"]
    clinician.wait_for_function(
        "seq => document.querySelector('[data-drawn-check]').textContent.includes('within the 2%')", arg=again["seq"]
    )
    shots.take(display, "again", full_page=False)
