"""Every set-up step a patient goes through (issue 13), at a laptop (1280 x 720, DPR 1), a sharp
laptop (1440 x 900, DPR 2) and phones (390 x 844 DPR 3, 360 x 640 DPR 2): no clinicians' words
on any step (tests/support/patient_screens.py), each step fits the window with its main button in
view (the card step with the card at the size of a real card), axe finds no serious or critical
problem, and a screenshot of each step is kept in test-artifacts/.

Also: the welcome step names what to bring and the practice's contact line (as text, not markup),
the disabled Start says why, the card's arrow keys work as soon as the step opens, the shared
results are plain words with the clinician's notation, a phone alone is offered the near test only,
the mirror distance must be measured and typed, refused blind-spot sweeps can be done again, and
the 404 and 410 pages pass the same checks.
"""

from __future__ import annotations

import math

import pytest

from tests.support.flows import (
    CARD_WIDTH_MM,
    create_test,
    serious_violations,
    set_card_width,
    sign_in,
    visible,
    wait_for_trial,
)
from tests.support.patient_screens import fit_problems, jargon

pytestmark = pytest.mark.browser

SIZES = {
    "laptop-1280x720": {"viewport": {"width": 1280, "height": 720}, "device_scale_factor": 1},
    "laptop-1440x900-dpr2": {"viewport": {"width": 1440, "height": 900}, "device_scale_factor": 2},
    "phone-390x844-dpr3": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 3,
        "is_mobile": True,
        "has_touch": True,
    },
    "phone-360x640-dpr2": {
        "viewport": {"width": 360, "height": 640},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
# A real card's scale on each: a 15.6" 1366-wide laptop panel shown at 1280 (about 3.8 CSS px/mm),
# a 14" laptop at DPR 2 (4.5), a phone (6.3 CSS px/mm).
CSS_PX_PER_MM = {
    "laptop-1280x720": 3.8,
    "laptop-1440x900-dpr2": 4.5,
    "phone-390x844-dpr3": 6.3,
    "phone-360x640-dpr2": 6.3,
}
# A contact line with markup in it: shown as text.
CONTACT = "Riverside Eye Clinic, Dr Lee, 01632 960 123 <b>ask for Sam</b>"


class Checks:
    """Every step: jargon, fit, axe, a screenshot; problems gathered so one run shows them all."""

    def __init__(self, shots, size):
        self.shots = shots
        self.size = size
        self.problems: dict[str, list[str]] = {}

    def __call__(self, page, label, main_button, *, fit=True):
        found = [f"words: {line}" for line in jargon(page)]
        if fit:
            found += [f"fit: {line}" for line in fit_problems(page, main_button)]
        found += [f"axe: {line}" for line in serious_violations(page)]
        if found:
            self.problems[label] = found
        self.shots.take(page, f"{self.size}-{label}", full_page=False)


@pytest.mark.parametrize("size", list(SIZES))
def test_every_set_up_step_in_plain_words_fits_and_passes_axe(new_context, live_server, shots, size):
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(clinician, live_server)
    phone = size.startswith("phone")
    # A phone alone serves the near test only (test_a_phone_alone_is_offered_the_near_test_only).
    invite_url, public_id = create_test(
        clinician,
        live_server,
        eyes="right",
        show_results=True,
        contact_line=CONTACT,
        setup="near_40cm" if phone else "3m",
    )
    display = shots.watch("display", new_context(**SIZES[size]).new_page())
    check = Checks(shots, size)

    display.goto(invite_url)
    display.wait_for_selector(visible("welcome"))
    display.wait_for_function("() => document.querySelector('[data-contact-line]').textContent.length > 0")
    # What to bring, with the test's own distance; the practice's line as text, never as markup.
    welcome = display.inner_text(visible("welcome"))
    if phone:
        assert "a ruler, to hold this phone 40 cm" in welcome and "10 minutes" in welcome and "phone alone" in welcome
    else:
        assert "3 metres of space" in welcome and "tape measure" in welcome and "10 minutes" in welcome
    assert display.text_content("[data-contact-line]") == CONTACT
    assert display.locator("[data-contact-line] b").count() == 0
    # The disabled Start says why.
    assert display.is_disabled('[data-action="consent"]')
    assert display.is_visible("[data-consent-hint]") and "tick" in display.text_content("[data-consent-hint]")
    assert display.is_hidden("[data-phone-alone]") != phone
    check(display, "welcome", '[data-action="consent"]')
    display.check("[data-consent-box]")
    assert display.is_hidden("[data-consent-hint]")
    display.click('[data-action="consent"]')

    display.wait_for_selector(visible("scale"))
    # The arrow keys size the card as soon as the step opens (focus on the heading, not the card).
    before = float(display.get_attribute("[data-card]", "aria-valuenow"))
    display.keyboard.press("ArrowRight")
    after = float(display.get_attribute("[data-card]", "aria-valuenow"))
    horizontal_mm = float(
        display.evaluate(
            "() => document.querySelector('[data-card]').dataset.orientation === 'portrait' ? 53.98 : 85.6"
        )
    )
    assert after == pytest.approx(before * (1 + 0.1 / horizontal_mm), abs=0.011)  # 0.1 mm of the card
    display.keyboard.press("Shift+ArrowLeft")
    shifted = float(display.get_attribute("[data-card]", "aria-valuenow"))
    assert shifted == pytest.approx(after * (1 - 1.0 / horizontal_mm), abs=0.011)  # Shift: 1 mm
    # The card at the size of a real card held to the screen: the step still fits.
    scale = CSS_PX_PER_MM[size] * horizontal_mm / CARD_WIDTH_MM
    set_card_width(display, scale)
    check(display, "card-held", '[data-action="scale-done"]')
    # One slider step near a real card's size is under 0.1 mm of the card.
    slider_step = display.eval_on_selector(
        "[data-card-slider]",
        """async (el) => { const m = await import('/static/js/patient/card.js');
                           const p = m.sliderPosition(Number(document.querySelector('[data-card]').getAttribute('aria-valuenow')));
                           return m.widthAtPosition(p + 1) / m.widthAtPosition(p) - 1; }""",
    )
    assert slider_step * 85.6 < 0.1
    display.click('[data-action="scale-done"]')

    display.wait_for_selector(visible("distance"))
    check(display, "distance", '[data-action="distance-done"]')
    if phone:
        display.check("[data-ruler-confirm]")
    else:
        assert "3 metres" in display.text_content("[data-tape-text]")
        display.check("[data-tape-confirm]")
    display.click('[data-action="distance-done"]')
    display.wait_for_selector("[data-range-report]:not([hidden])")
    range_text = display.text_content("[data-range-text]")
    fits = display.get_attribute("[data-range-text]", "data-fits") == "true"
    if fits:
        assert range_text == "Your screen is big enough for this test."
    else:
        assert range_text.startswith("Your screen"), range_text
    check(display, "range", '[data-action="distance-continue"]')
    display.click('[data-action="distance-continue"]')

    display.wait_for_selector(visible("answers"))
    if not phone:
        display.wait_for_selector("[data-pad-qr] svg")
    check(display, "answers", '[data-action="answers-done"]')
    display.click('[data-action="answers-done"]')

    display.wait_for_selector(visible("prepare"))
    display.wait_for_selector("[data-practice-keys] button", state="attached")  # closed on a short screen
    check(display, "prepare", '[data-action="ready"]')
    if phone:
        assert not check.problems, check.problems
        return

    display.click('[data-action="ready"]')
    # Row 1 read right, row 2 "not sure" five times: the chart stops, the eye is done.
    for row in range(2):
        wait_for_trial(display, f"right-{row}")
        if row == 0:
            check(display, "test", "[data-stimulus-host]", fit=False)
        symbols = display.eval_on_selector_all(
            "[data-stimulus-host] [data-optotype]", "els => els.map(e => e.dataset.optotype)"
        )
        for symbol in symbols:
            display.keyboard.press(symbol.lower() if row == 0 else "Space")
    display.wait_for_selector(visible("done"))
    display.wait_for_selector("[data-results]:not([hidden]) [data-results-list] li")
    line = display.text_content("[data-results-list] li")
    assert line.startswith("Right eye: ") and " — 6/" in line and "logMAR" not in line, line
    check(display, "done", "#done-title")
    # The clinician's live view, its answer list made to scroll as a long test's does.
    clinician.goto(f"{live_server}/sessions/{public_id}")
    clinician.wait_for_selector("[data-answers] li")
    clinician.eval_on_selector("[data-answers]", "el => { el.style.maxHeight = '2rem'; }")
    assert clinician.eval_on_selector("[data-answers]", "el => el.scrollHeight > el.clientHeight")
    live_problems = serious_violations(clinician)
    if live_problems:
        check.problems["live view"] = live_problems
    assert not check.problems, check.problems


def test_the_404_and_410_pages_are_plain_and_accessible(new_context, live_server, shots):
    clinician = new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(clinician, live_server)
    for size in ("laptop-1280x720", "phone-390x844-dpr3"):
        invite_url, _ = create_test(clinician, live_server, eyes="right")
        check = Checks(shots, size)
        first = new_context(**SIZES[size]).new_page()
        first.goto(invite_url)
        first.wait_for_selector(visible("welcome"))
        # The link opened a second time elsewhere: 410. A made-up link: 404.
        for label, url in (("410", invite_url), ("404", f"{live_server}/t/{'x' * 43}")):
            page = new_context(**SIZES[size]).new_page()
            response = page.goto(url)
            assert response.status == int(label)
            check(page, label, "h1")
        assert not check.problems, check.problems
        first.context.close()


def test_a_phone_alone_is_offered_the_near_test_only(new_context, live_server, shots):
    clinician = new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(clinician, live_server)
    check = Checks(shots, "phone-390x844-dpr3")
    # A 3 m test opened on a phone: not offered, and the page says what to do instead.
    invite_url, _ = create_test(clinician, live_server, eyes="right", setup="3m")
    display = shots.watch("display", new_context(**SIZES["phone-390x844-dpr3"]).new_page())
    display.goto(invite_url)
    display.wait_for_selector("[data-phone-alone]:not([hidden])")
    notice = display.text_content("[data-phone-alone]")
    assert "too small for a test at 3 m" in notice and "computer" in notice
    assert display.is_hidden('[data-action="consent"]')
    check(display, "3m-on-a-phone", "[data-phone-alone]")

    invite_url, _ = create_test(clinician, live_server, eyes="right", setup="near_40cm")
    display = shots.watch("display", new_context(**SIZES["phone-390x844-dpr3"]).new_page())
    display.goto(invite_url)
    display.wait_for_selector(visible("welcome"))
    display.wait_for_selector("[data-phone-alone]:not([hidden])")
    assert "this phone alone" in display.text_content("[data-phone-alone]")
    check(display, "near-welcome", '[data-action="consent"]')
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    display.wait_for_selector(visible("scale"))
    set_card_width(display, CSS_PX_PER_MM["phone-390x844-dpr3"] * 53.98 / CARD_WIDTH_MM)
    display.click('[data-action="scale-done"]')
    # A phone is held in the hand: 40 cm measured with a ruler (the moving dot needs a wider screen).
    display.wait_for_selector('[data-method-panel="ruler"]:not([hidden])')
    check(display, "near-distance", '[data-action="distance-done"]')
    display.check("[data-ruler-confirm]")
    display.click('[data-action="distance-done"]')
    display.wait_for_selector("[data-range-report]:not([hidden])")
    check(display, "near-range", '[data-action="distance-continue"]')
    display.click('[data-action="distance-continue"]')
    display.wait_for_selector(visible("answers"))
    # No second phone to pair: this phone answers on its own screen.
    assert display.is_visible('[data-answer-mode="alone"]')
    assert display.is_hidden('[data-answer-mode="patient"]')
    check(display, "near-answers", '[data-action="answers-done"]')
    assert not check.problems, check.problems


def at_the_distance_step(new_context, live_server, shots, setup: str, clock: bool = False):
    """A right-eye test with this set-up, its display (1280 x 720) consented and the card matched,
    on the distance step; `clock`: Playwright's clock installed before the page loads."""
    clinician = new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(clinician, live_server)
    invite_url, _ = create_test(clinician, live_server, eyes="right", setup=setup)
    display = shots.watch("display", new_context(**SIZES["laptop-1280x720"]).new_page())
    if clock:
        display.clock.install()
    display.goto(invite_url)
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    display.wait_for_selector(visible("scale"))
    set_card_width(display, 3.8)
    display.click('[data-action="scale-done"]')
    method = "blind_spot" if setup == "near_40cm" else setup
    display.wait_for_selector(f'[data-method-panel="{method}"]:not([hidden])')
    return display


def test_mirror_distance_is_measured_and_typed(new_context, live_server, shots):
    check = Checks(shots, "laptop-1280x720")
    display = at_the_distance_step(new_context, live_server, shots, "mirror")
    panel = display.text_content('[data-method-panel="mirror"]')
    assert "Measure the distance from your eyes to the mirror" in panel
    # Nothing preset: saving without a measurement asks for one.
    assert display.input_value("[data-mirror-distance]") == ""
    display.click('[data-action="distance-done"]')
    display.wait_for_selector("[data-error]:not([hidden])")
    assert "measure the distance" in display.text_content("[data-error]")
    assert display.is_hidden("[data-range-report]")
    check(display, "mirror-distance", '[data-action="distance-done"]')
    display.fill("[data-mirror-distance]", "1,5")  # a comma works as the decimal mark
    display.click('[data-action="distance-done"]')
    display.wait_for_selector("[data-range-report]:not([hidden])")
    check(display, "mirror-range", '[data-action="distance-continue"]')
    assert not check.problems, check.problems


SPEED_MM_PER_S = 30  # webapp/static/js/patient/blind-spot.js


def test_refused_blind_spot_sweeps_can_be_done_again(new_context, live_server, shots):
    """Sweeps that put the patient closer than the nearest distance are refused by the server; the
    sweeps are cleared and can be done again (never both sweep buttons disabled)."""
    display = at_the_distance_step(new_context, live_server, shots, "near_40cm", clock=True)
    assert fit_problems(display, '[data-action="distance-done"]') == []
    assert jargon(display) == []
    display.clock.pause_at(display.evaluate("Date.now()") + 1000)
    # 20 cm from the screen: 200 mm x tan(13.5 deg) = 48 mm from the square.
    sweep_ms = 200 * math.tan(math.radians(13.5)) / SPEED_MM_PER_S * 1000
    for sweep in range(5):
        display.click('[data-action="sweep-start"]')
        display.wait_for_selector("[data-dot]:not([hidden])")
        display.clock.run_for(int(sweep_ms))
        display.keyboard.press("Space")
        display.wait_for_function(
            "n => document.querySelector('[data-sweeps-done]').textContent === String(n)", arg=sweep + 1
        )
    assert display.is_disabled('[data-action="sweep-start"]')  # all five done
    display.click('[data-action="distance-done"]')
    display.wait_for_selector("[data-error]:not([hidden])")
    assert "starts again" in display.text_content("[data-error]")
    # Not a dead end: the sweeps were cleared and the dot can be started again.
    assert display.text_content("[data-sweeps-done]") == "0"
    assert display.is_enabled('[data-action="sweep-start"]')
    shots.take(display, "blind-spot-again", full_page=False)
