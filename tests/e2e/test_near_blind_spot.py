"""Near set-up (40 cm): the viewing distance from the blind spot (Li, Joo, Yeatman & Reinecke 2020).
The page's clock is Playwright's fake clock, so the moving dot is exactly where the script says
when the "patient" presses Space: five sweeps stopped at 400 mm x tan(13.5 deg) = 96.0 mm must
give a viewing distance of 40 cm on the server."""

import math

import pytest

from tests.support.flows import create_test, set_card_width, sign_in, visible

pytestmark = pytest.mark.browser

SPEED_MM_PER_S = 30  # webapp/static/js/patient/blind-spot.js
DISTANCE_MM = 400.0
OFFSET_MM = DISTANCE_MM * math.tan(math.radians(13.5))


def test_blind_spot_sweeps_measure_forty_centimetres(new_context, live_server, shots):
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(clinician, live_server)
    invite_url, public_id = create_test(clinician, live_server, eyes="right", setup="near_40cm")
    clinician.goto(f"{live_server}/sessions/{public_id}")
    clinician.wait_for_selector('[data-device="display"]')

    display = shots.watch("display", new_context(viewport={"width": 1280, "height": 800}).new_page())
    display.clock.install()
    display.goto(invite_url)
    display.wait_for_selector(visible("welcome"))
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    display.wait_for_selector(visible("scale"))
    set_card_width(display, 4.0)
    display.click('[data-action="scale-done"]')
    display.wait_for_selector('[data-method-panel="blind_spot"]:not([hidden])')
    assert display.is_hidden('[data-method-panel="tape"]')

    sweep_ms = OFFSET_MM / SPEED_MM_PER_S * 1000
    # From here the page's time moves only when the test says so.
    display.clock.pause_at(display.evaluate("Date.now()") + 1000)
    for sweep in range(5):
        display.click('[data-action="sweep-start"]')
        display.wait_for_selector("[data-dot]:not([hidden])")
        display.clock.run_for(int(sweep_ms))
        if sweep == 0:
            shots.take(display, "sweep")
        display.keyboard.press("Space")
        display.wait_for_function(
            "n => document.querySelector('[data-sweeps-done]').textContent === String(n)", arg=sweep + 1
        )
    display.click('[data-action="distance-done"]')
    display.wait_for_selector("[data-range-report]:not([hidden])")
    assert "logMAR" not in display.text_content("[data-range-text]")
    clinician.wait_for_function(
        "() => document.querySelector('[data-cal=\"distance\"]').textContent.includes('blind spot')"
    )
    distance_text = clinician.text_content('[data-cal="distance"]')
    assert distance_text.startswith("40 cm"), distance_text
    shots.take(display, "range")
