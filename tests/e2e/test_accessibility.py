"""Accessibility in a real browser: axe-core finds no serious or critical problem on the patient's
pages, the answer pad and the clinician's live view, and a patient can go through every step with
the keyboard alone (Tab, Enter, Space for tick boxes, arrow keys, letter keys)."""

import pytest

from tests.support.flows import (
    CARD_WIDTH_MM,
    create_test,
    focus_is_visible,
    serious_violations,
    sign_in,
    tab_to,
    visible,
    wait_for_trial,
)

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def test_keyboard_only_patient_and_no_serious_axe_violations(new_context, live_server, shots):
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(clinician, live_server)
    invite_url, public_id = create_test(clinician, live_server, eyes="right")
    clinician.goto(f"{live_server}/sessions/{public_id}")
    clinician.wait_for_selector('[data-device="display"]')

    display = shots.watch("display", new_context(viewport={"width": 1280, "height": 800}).new_page())
    display.goto(invite_url)
    display.wait_for_selector(visible("welcome"))
    problems = {}

    def check(page, label):
        found = serious_violations(page)
        if found:
            problems[label] = found
        shots.take(page, label)

    check(display, "welcome")
    keys = display.keyboard
    tab_to(display, "[data-consent-box]")
    assert focus_is_visible(display)
    keys.press("Space")
    tab_to(display, '[data-action="consent"]')
    assert focus_is_visible(display)
    keys.press("Enter")

    display.wait_for_selector(visible("scale"))
    check(display, "scale")
    tab_to(display, "[data-card]")
    assert focus_is_visible(display)
    start_width = float(display.get_attribute("[data-card]", "aria-valuenow"))
    keys.press("Shift+ArrowRight")
    keys.press("ArrowRight")
    keys.press("ArrowRight")
    keys.press("ArrowLeft")
    width = float(display.get_attribute("[data-card]", "aria-valuenow"))
    # Shift+arrow: 1 mm of the card; arrow: 0.1 mm (webapp/static/js/patient/card.js): net 1.1 mm.
    assert width == pytest.approx(start_width * (1 + 1.1 / CARD_WIDTH_MM), rel=2e-4)
    card_box = display.locator("[data-card]").bounding_box()
    assert card_box["width"] == pytest.approx(width, abs=0.01)
    assert card_box["height"] == pytest.approx(width * 53.98 / CARD_WIDTH_MM, abs=0.02)
    tab_to(display, '[data-action="scale-done"]')
    keys.press("Enter")

    display.wait_for_selector(visible("distance"))
    tab_to(display, "[data-tape-confirm]")
    keys.press("Space")
    tab_to(display, '[data-action="distance-done"]')
    keys.press("Enter")
    display.wait_for_selector("[data-range-report]:not([hidden])")
    check(display, "range")
    clinician.wait_for_function(
        "expected => document.querySelector('[data-cal=\"scale\"]').textContent.startsWith(expected)",
        arg=f"{width / CARD_WIDTH_MM:.3f}",
    )
    tab_to(display, '[data-action="distance-continue"]')
    keys.press("Enter")

    display.wait_for_selector(visible("answers"))
    display.wait_for_selector("[data-pad-qr] svg")
    check(display, "answers")
    pad_url = display.get_attribute("[data-pad-qr]", "data-pad-url")
    pad = shots.watch("pad", new_context(**PHONE).new_page())
    pad.goto(pad_url)
    pad.wait_for_selector('[data-pad-connection][data-on="true"]')
    check(pad, "pad")
    display.wait_for_selector(visible("prepare"))  # paired: the display moves on by itself
    pad.close()  # this patient answers with the keyboard
    display.wait_for_selector('[data-mark-box="prepare"]:not([hidden])')
    display.wait_for_selector("[data-practice-keys] button")
    check(display, "prepare")
    # Practice with a key: the feedback says right or what it was.
    practice = display.get_attribute("[data-practice-host] [data-optotype]", "data-optotype")
    keys.press(practice.lower() if practice else "c")
    display.wait_for_function(
        "() => document.querySelector('[data-practice-feedback]').textContent.startsWith('Right')"
    )
    tab_to(display, '[data-action="ready"]')
    keys.press("Enter")

    # The test with letter keys: row 1 right, row 2 "not sure" (Space) five times -> the chart stops.
    for row in range(2):
        wait_for_trial(display, f"right-{row}")
        if row == 0:
            check(display, "test")
        symbols = display.eval_on_selector_all(
            "[data-stimulus-host] [data-optotype]", "els => els.map(e => e.dataset.optotype)"
        )
        for symbol in symbols:
            keys.press(symbol.lower() if row == 0 else "Space")
        clinician.wait_for_function("n => document.querySelectorAll('[data-answers] li').length === n", arg=row + 1)
    display.wait_for_selector(visible("done"))
    check(display, "done")
    clinician.wait_for_selector('[data-eye-status="done"]')
    check(clinician, "clinician-live")
    assert clinician.locator('[data-answers] li[data-correct="true"]').count() == 1
    assert problems == {}, problems
