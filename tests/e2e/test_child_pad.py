"""A child's test driven entirely from the phone (issue 16, "Children"): the clinician ticks Child on
the new-test form; the phone shows H O T V as four large letters drawn like the chart's; the
practice round teaches matching (each letter once, encouraging words, not scored); an adult helper
taps what the child points to, and the clinician sees it; then the test to a result. The phone's
screens fit 360x640 and 390x844 in portrait without scrolling; no clinicians' words; axe finds no
serious problem. Display 1280x720, phone 360x640 (and 390x844) DPR 3."""

import pytest

from tests.support.flows import consent_calibrate_and_pair, create_test, serious_violations, sign_in, visible
from tests.support.patient_screens import fit_problems, jargon

pytestmark = pytest.mark.browser

DISPLAY = {"viewport": {"width": 1280, "height": 720}, "device_scale_factor": 1}
SMALL_PHONE = {"width": 360, "height": 640}
PHONE = {"viewport": SMALL_PHONE, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}
TALL_PHONE = {"width": 390, "height": 844}
HOTV = {"H", "O", "T", "V"}
# Letters at least this large are matched, smaller ones get "I can't see it": an eye near 0.2.
SEES_DOWN_TO_LOGMAR = 0.2


def look(shots, page, name: str, main_button: str | None = None) -> None:
    """A screenshot of a patient screen: no clinicians' words; on the phone, at both phone sizes,
    the whole screen in the window with its main button in view."""
    sizes = [SMALL_PHONE, TALL_PHONE] if main_button else [None]
    for size in sizes:
        if size:
            page.set_viewport_size(size)
            page.wait_for_timeout(50)  # a layout pass
        label = f"{name}-{size['width']}x{size['height']}" if size else name
        shots.take(page, label, full_page=False)
        assert not jargon(page), (label, jargon(page))
        if main_button:
            assert not fit_problems(page, main_button), (label, fit_problems(page, main_button))
    if main_button:
        page.set_viewport_size(SMALL_PHONE)


def keys_ready(pad):
    pad.wait_for_selector("[data-pad-answer]:not([hidden]) [data-pad-keys].child button:not([disabled]) svg")


def practice_letter(display, previous: str | None) -> tuple[str, str]:
    """The practice letter the display shows now (a new one after `previous`): (key, symbol)."""
    display.wait_for_function(
        "old => { const h = document.querySelector('[data-practice-host]');"
        " return h.dataset.practice && h.dataset.practice !== old && h.querySelector('[data-optotype]'); }",
        arg=previous or "none",
    )
    key = display.get_attribute("[data-practice-host]", "data-practice")
    return key, display.get_attribute("[data-practice-host] [data-optotype]", "data-optotype")


def test_a_childs_test_from_the_phone_practice_helper_and_result(new_context, shots, server):
    base = server.base_url
    clinician = shots.watch("clinician", new_context(viewport={"width": 1280, "height": 900}).new_page())
    sign_in(clinician, base)
    invite_url, public_id = create_test(clinician, base, eyes="right", procedure="adaptive", child=True)
    clinician.goto(f"{base}/sessions/{public_id}")
    display = shots.watch("display", new_context(**DISPLAY).new_page())
    pad = shots.watch("phone", new_context(**PHONE).new_page())
    consent_calibrate_and_pair(display, invite_url, pad)

    # The practice round: the display shows a large letter by itself; the child matches it on the
    # phone's four letters. A miss first (encouraged, named), then each letter once.
    display.wait_for_selector(visible("prepare"))
    key, symbol = practice_letter(display, None)
    keys_ready(pad)
    keys = pad.eval_on_selector_all("[data-pad-keys] button", "els => els.map(e => e.dataset.answer)")
    assert set(keys) == HOTV, keys  # the four letters only: "I can't see it" is its own button
    assert pad.locator("[data-pad-keys] svg path").count() == 4  # drawn like the chart's, not in a font
    assert pad.locator('[data-pad-action="ready"]').is_hidden()  # the letter has the whole screen
    look(shots, pad, "phone-practice-letter", '[data-pad-keys] button[data-answer="V"]')
    look(shots, display, "display-practice-letter")
    # The child's larger letter keeps the display's own button for another letter in the 1280x720 window.
    button_bottom = display.eval_on_selector('[data-action="practice"]', "b => b.getBoundingClientRect().bottom")
    assert button_bottom <= DISPLAY["viewport"]["height"], button_bottom
    wrong = sorted(HOTV - {symbol})[0]
    pad.tap(f'[data-pad-keys] [data-answer="{wrong}"]')
    pad.wait_for_selector(f"text=Good try! That one was the {symbol}.")
    display.wait_for_selector(f"[data-practice-feedback]:has-text('Good try! That one was the {symbol}.')")
    look(shots, pad, "phone-practice-good-try", '[data-pad-action="practice"]')
    matched = set()
    while matched != HOTV:
        pad.wait_for_selector("[data-pad-sent-box]", state="hidden")
        assert pad.text_content('[data-pad-action="practice"]') in ("Next letter", "Practise matching")
        pad.tap('[data-pad-action="practice"]')
        key, symbol = practice_letter(display, key)
        assert symbol not in matched
        keys_ready(pad)
        pad.tap(f'[data-pad-keys] [data-answer="{symbol}"]')
        matched.add(symbol)
        if matched != HOTV:
            pad.wait_for_selector(f"text=Yes! That is the {symbol}.")
    pad.wait_for_selector("text=Well done! You matched them all.")
    display.wait_for_selector("[data-practice-feedback]:has-text('Well done! You matched them all.')")
    pad.wait_for_selector("[data-pad-sent-box]", state="hidden")
    look(shots, display, "display-practice-all-matched")
    look(shots, pad, "phone-practice-all-matched", '[data-pad-action="ready"]')
    assert server.stored_trials(public_id) == []  # the practice is not part of the result

    # The adult helper: the phone says in plain words what to do; the clinician sees it.
    pad.check("[data-pad-helper]")
    pad.wait_for_selector("[data-pad-helper-note]:not([hidden])")
    clinician.wait_for_selector("[data-helper-line]:not([hidden])")
    clinician.wait_for_selector("[data-events] li[data-event-kind='helper']")
    shots.take(clinician, "clinician-sees-the-helper")
    look(shots, pad, "phone-helper-on", '[data-pad-action="ready"]')

    # The test, from the phone: Start, then each letter matched while it is large enough to see.
    pad.tap('[data-pad-action="ready"]')
    seen = None
    for step in range(40):
        if display.locator(visible("done")).count():
            break
        display.wait_for_function(
            "last => { const h = document.querySelector('[data-stimulus-host]');"
            " return (h && h.dataset.drawnHeight && h.dataset.seq !== last)"
            " || !!document.querySelector('[data-step=\"done\"]:not([hidden])'); }",
            arg=seen or "none",
        )
        if display.locator(visible("done")).count():
            break
        seen = display.get_attribute("[data-stimulus-host]", "data-seq")
        letter = display.get_attribute("[data-stimulus-host] [data-optotype]", "data-optotype")
        logmar = float(display.get_attribute("[data-stimulus-host] [data-stimulus]", "data-logmar"))
        assert display.locator("[data-stimulus-host] [data-crowding] rect").count() == 4  # crowding bars
        keys_ready(pad)
        if step == 0:
            assert pad.text_content("[data-pad-question]") == "Which letter does the child point to? Tap it."
            look(shots, pad, "phone-answering-with-helper", '[data-pad-action="cannot-see"]')
            axe = serious_violations(pad)
            assert not axe, axe
        if logmar >= SEES_DOWN_TO_LOGMAR:
            pad.tap(f'[data-pad-keys] [data-answer="{letter}"]')
        else:
            pad.tap('[data-pad-action="cannot-see"]')
    display.wait_for_selector(visible("done"))
    pad.wait_for_selector("text=Finished. Thank you!")
    look(shots, display, "display-finished")
    look(shots, pad, "phone-finished")
    trials = server.stored_trials(public_id)
    assert trials and {trial[0] for trial in trials} == {"right"}
    assert any(trial[3] == [None] for trial in trials) and any(trial[3] != [None] for trial in trials)
    # The clinician's result, measured from the child's matches.
    clinician.goto(f"{base}/sessions/{public_id}/result")
    shots.take(clinician, "clinician-result")
    page = clinician.text_content("main")
    assert "logMAR" in page and "An adult helper taps the answers on the phone" in page  # stored with the test
