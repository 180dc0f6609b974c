"""A server restart in the middle of a trial: the patient's display and the clinician's page
reconnect by themselves, the server re-sends the state from the database, the same trial is on
screen again, and the test goes on."""

import pytest

from tests.support.flows import calibrate_by_clicking, create_test, sign_in, wait_for_trial
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser


def test_display_and_clinician_recover_from_a_server_restart(new_context, shots, tmp_path):
    server = ServerProcess(tmp_path).start()
    try:
        base = server.base_url
        clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
        sign_in(clinician, base)
        invite_url, public_id = create_test(clinician, base, eyes="right")
        clinician.goto(f"{base}/sessions/{public_id}")
        clinician.wait_for_selector('[data-device="display"]')
        display = shots.watch("display", new_context(viewport={"width": 1280, "height": 800}).new_page())
        display.goto(invite_url)
        display.check("[data-consent-box]")
        display.click('[data-action="consent"]')
        calibrate_by_clicking(display, 4.0)
        display.click('[data-action="answers-done"]')
        display.click('[data-action="ready"]')
        display.wait_for_function("() => document.querySelector('[data-stimulus-host]').dataset.drawnHeight")
        before = display.eval_on_selector(
            "[data-stimulus-host]", "h => ({trial: h.dataset.trialId, seq: h.dataset.seq})"
        )
        symbols = display.eval_on_selector_all(
            "[data-stimulus-host] [data-optotype]", "els => els.map(e => e.dataset.optotype)"
        )

        server.stop()
        display.wait_for_selector("[data-connection]:not([hidden])")
        clinician.wait_for_selector("[data-connection]:not([hidden])")
        shots.take(display, "disconnected", full_page=False)
        server.start()

        # Reconnected: the notice goes, the same trial is drawn from the re-sent state.
        display.wait_for_selector("[data-connection]", state="hidden", timeout=20000)
        clinician.wait_for_selector("[data-connection]", state="hidden", timeout=20000)
        wait_for_trial(display, before["trial"])
        assert (
            display.eval_on_selector_all(
                "[data-stimulus-host] [data-optotype]", "els => els.map(e => e.dataset.optotype)"
            )
            == symbols
        )
        clinician.wait_for_selector('[data-device="display"][data-on="true"]')
        for symbol in symbols:
            display.keyboard.press(symbol.lower())
        clinician.wait_for_function("() => document.querySelectorAll('[data-answers] li').length === 1")
        assert clinician.get_attribute("[data-answers] li", "data-correct") == "true"
        display.wait_for_function(
            "trial => document.querySelector('[data-stimulus-host]').dataset.trialId === 'right-1'", arg=None
        )
    finally:
        server.stop()
        server.keep_log("server-restart.log")
