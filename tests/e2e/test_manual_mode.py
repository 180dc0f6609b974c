"""Manual procedure: the clinician chooses each size; the patient answers a tumbling E with the
arrow keys; the clinician ends the test and the patient sees the results (the clinician allowed it)."""

import pytest

from tests.support.flows import calibrate_by_clicking, create_test, sign_in, visible

pytestmark = pytest.mark.browser

ARROW_KEYS = {"right": "ArrowRight", "up": "ArrowUp", "left": "ArrowLeft", "down": "ArrowDown"}


def test_clinician_chooses_sizes_and_ends_the_test(new_context, live_server, shots):
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 1000}).new_page())
    sign_in(clinician, live_server)
    invite_url, public_id = create_test(
        clinician, live_server, eyes="right", optotype_set="tumbling_e", procedure="manual", show_results=True
    )
    clinician.goto(f"{live_server}/sessions/{public_id}")
    clinician.wait_for_selector('[data-device="display"]')

    display = shots.watch("display", new_context(viewport={"width": 1280, "height": 800}).new_page())
    display.goto(invite_url)
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    calibrate_by_clicking(display, 4.0)
    display.wait_for_selector(visible("answers"))
    assert "arrow key" in display.text_content("[data-keyboard-help]")
    display.click('[data-action="answers-done"]')
    display.wait_for_selector("[data-practice-keys] button")
    assert display.locator("[data-practice-keys] [data-answer]").count() == 5  # 4 directions + not sure
    display.click('[data-action="ready"]')
    display.wait_for_selector(visible("test"))
    display.wait_for_selector("text=Please wait for the next letter")

    clinician.wait_for_selector("[data-present-form]:not([hidden])")
    answers = []
    for logmar, right in (("0.5", True), ("0.2", False)):
        clinician.wait_for_selector(f'[data-present-size] option[value="{logmar}"]', state="attached")
        clinician.select_option("[data-present-size]", logmar)
        clinician.click("[data-present-form] [type=submit]")
        display.wait_for_function(
            "logmar => { const s = document.querySelector('[data-stimulus-host] [data-stimulus]');"
            " return s && Math.abs(Number(s.dataset.logmar) - logmar) < 1e-6"
            " && document.querySelector('[data-stimulus-host]').dataset.drawnHeight; }",
            arg=float(logmar),
        )
        direction = display.get_attribute("[data-stimulus-host] [data-optotype]", "data-optotype")
        display.keyboard.press(ARROW_KEYS[direction] if right else "Space")
        answers.append(right)
        clinician.wait_for_function(
            "n => document.querySelectorAll('[data-answers] li').length === n", arg=len(answers)
        )
        assert clinician.get_attribute("[data-answers] li", "data-correct") == str(right).lower()
    shots.take(clinician, "manual")

    clinician.once("dialog", lambda dialog: dialog.accept())
    clinician.click('[data-control="end"]')
    display.wait_for_selector(visible("done"))
    display.wait_for_selector("[data-results]:not([hidden])")
    assert "Right eye" in display.text_content("[data-results-list]")
    assert "logMAR" not in display.text_content("[data-results-list]")
    shots.take(display, "results")
    clinician.wait_for_function("() => document.querySelector('[data-status]').textContent !== 'active'")
