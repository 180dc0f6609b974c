"""The whole patient flow in the patient's language (issue 16): Spanish chosen by the patient on the
welcome step; German, and Arabic (right to left, the tumbling E instead of letters), chosen by the
clinician. The display at 1280x720 and the phone as the answer pad; no English message left on any
step, the letters never mirrored, screenshots of every step in test-artifacts/."""

import functools

import pytest

from devtools.translations import extract
from tests.support.flows import create_test, set_card_width, sign_in, visible, wait_for_trial
from webapp import i18n

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}
# Messages that read the same in a language (names, a lone key) are not "English left behind".
SAME_IN_EVERY_LANGUAGE = {"{eye}: {words} — {notation}"}


@functools.cache
def messages() -> tuple[str, ...]:
    """Every patient-facing English message of webapp/, read from the sources once a run (about 1 s
    each time: babel parses every Python, template and JS file; the sources do not change meanwhile)."""
    return tuple(extract())


def english_left(page, code: str) -> list[str]:
    """The English messages (two words or more) whose text is on the page though the catalog of `code`
    translates them differently."""
    text = page.evaluate("() => document.body.innerText")
    catalog = i18n.catalog(code)
    found = []
    for message in messages():
        plain = message.split("{")[0].strip()
        if len(plain.split()) < 2 or message in SAME_IN_EVERY_LANGUAGE or catalog.get(message) == message:
            continue
        if plain in text:
            found.append(plain)
    return found


def check_language(page, code: str, shots=None, name: str | None = None, **shot) -> None:
    """The page is in `code` (lang, direction, no English message left); then its screenshot."""
    direction = i18n.language(code).direction
    assert page.evaluate("() => [document.documentElement.lang, getComputedStyle(document.body).direction]") == [
        code,
        direction,
    ]
    assert english_left(page, code) == []
    if shots is not None:
        shots.take(page, f"{code}-{name}", **shot)


@pytest.mark.parametrize("code", ["es", "de", "ar"])
def test_the_whole_flow_in_the_patients_language(new_context, live_server, shots, code):
    clinician = new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(clinician, live_server)
    # Spanish: the clinician leaves English and the patient switches; German, Arabic: the clinician chooses it.
    invite_url, public_id = create_test(
        clinician, live_server, eyes="right", show_results=True, language="en" if code == "es" else code
    )
    clinician.goto(f"{live_server}/sessions/{public_id}")

    display = shots.watch("display", new_context(viewport={"width": 1280, "height": 720}).new_page())
    errors = []
    display.on("pageerror", lambda error: errors.append(str(error)))
    display.goto(invite_url)
    display.wait_for_selector(visible("welcome"))
    if code == "es":
        display.select_option("[data-language-choice]", "es")
        display.wait_for_function("() => document.documentElement.lang === 'es'")
        display.wait_for_selector(visible("welcome"))
    check_language(display, code, shots, "welcome")
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')

    display.wait_for_selector(visible("scale"))
    set_card_width(display, 4.0)
    check_language(display, code, shots, "scale")
    display.click('[data-action="scale-done"]')

    display.wait_for_selector(visible("distance"))
    display.wait_for_function("() => document.querySelector('[data-tape-text]').textContent.length > 0")
    check_language(display, code, shots, "distance")
    display.check("[data-tape-confirm]")
    display.click('[data-action="distance-done"]')
    display.wait_for_selector("[data-range-report]:not([hidden])")
    check_language(display, code, shots, "range")
    display.click('[data-action="distance-continue"]')

    display.wait_for_selector(visible("answers"))
    display.wait_for_selector("[data-pad-qr] svg")
    check_language(display, code, shots, "answers")
    pad = shots.watch("pad", new_context(**PHONE).new_page())
    pad.on("pageerror", lambda error: errors.append(str(error)))
    pad.goto(display.get_attribute("[data-pad-qr]", "data-pad-url"))
    pad.wait_for_selector('[data-pad-connection][data-on="true"]')
    check_language(pad, code, shots, "pad-waiting")  # the pad follows the test's language

    display.wait_for_selector(visible("prepare"))
    display.wait_for_selector("[data-practice-host] svg")
    check_language(display, code, shots, "prepare")
    display.click('[data-action="ready"]')

    # One eye of the chart: the first row read right, the second all "not sure".
    for row in range(2):
        display.wait_for_selector(visible("test"))
        wait_for_trial(display, f"right-{row}")
        symbols = display.eval_on_selector_all(
            "[data-stimulus-host] [data-optotype]", "els => els.map(e => e.dataset.optotype)"
        )
        # Arabic: no Latin letters, so the tumbling E (the clinician allowed it on the form).
        assert all(s in ("right", "up", "left", "down") for s in symbols) == (code == "ar"), symbols
        # The chart is never mirrored, whatever the page's direction.
        assert display.eval_on_selector(
            "[data-stimulus-host] [data-stimulus]", "e => getComputedStyle(e).transform"
        ) in (
            "none",
            "matrix(1, 0, 0, 1, 0, 0)",
        )
        order = display.eval_on_selector_all(
            "[data-stimulus-host] [data-optotype]", "els => els.map(e => e.getBoundingClientRect().left)"
        )
        assert order == sorted(order), "the row reads left to right in every language"
        if row == 0:
            check_language(display, code, shots, "test", full_page=False)
        pad.wait_for_selector("[data-pad-answer]:not([hidden])")
        if row == 0:
            check_language(pad, code, shots, "pad-answer")
        if code == "ar":  # the compass of direction buttons is the same in every language
            box = {d: pad.locator(f'[data-answer="{d}"]').bounding_box() for d in ("left", "right", "up", "down")}
            assert box["left"]["x"] < box["up"]["x"] < box["right"]["x"] and box["up"]["y"] < box["down"]["y"]
        for symbol in symbols:
            pad.tap(f'[data-answer="{symbol if row == 0 else "not-sure"}"]')

    display.wait_for_selector(visible("done"))
    display.wait_for_selector("[data-results]:not([hidden])")
    check_language(display, code, shots, "done")
    pad.wait_for_function("() => document.querySelector('[data-pad-message]').textContent.length > 0")
    check_language(pad, code, shots, "pad-done")
    if code == "ar":
        clinician.reload()
        assert clinician.locator("[data-language-note]").count() == 1
        shots.take(clinician, "ar-clinician-note")
    assert errors == []
