"""Steps the browser tests share: a clinician signs in and creates a test; a patient calibrates."""

from __future__ import annotations

import secrets

CLINICIAN_EMAIL = "e2e.clinician@example.org"
CLINICIAN_PASSWORD = "correct horse battery staple"
CARD_WIDTH_MM = 85.6  # ISO/IEC 7810 ID-1


def sign_in(page, base_url: str) -> None:
    """First run: /login sends to /setup, which creates the clinician; afterwards: /login."""
    page.goto(f"{base_url}/login")
    if "/setup" in page.url:
        page.fill('input[name="email"]', CLINICIAN_EMAIL)
        page.fill('input[name="password"]', CLINICIAN_PASSWORD)
        page.fill('input[name="confirm"]', CLINICIAN_PASSWORD)
        page.click('main [type="submit"]')
        page.wait_for_url(lambda url: "/setup" not in url)
    elif "/login" in page.url:
        page.fill('input[name="email"]', CLINICIAN_EMAIL)
        page.fill('input[name="password"]', CLINICIAN_PASSWORD)
        page.click('main [type="submit"]')
        page.wait_for_url(lambda url: "/login" not in url)


def create_test(page, base_url: str, reference: str | None = None, **choices) -> tuple[str, str]:
    """Fill the new-test form (a new patient by `reference`); returns (invite URL, session public id)."""
    page.goto(f"{base_url}/sessions/new")
    # Each test its own patient: reports that gather a patient's earlier visits stay per test.
    page.fill('input[name="patient_reference"]', reference or f"E2E patient {secrets.token_hex(3)}")
    return submit_new_test(page, **choices)


def submit_new_test(page, **choices) -> tuple[str, str]:
    """On the new-test form with its patient set: choose the settings, create; returns (invite URL,
    session public id)."""
    show_results = bool(choices.pop("show_results", False))
    contact_line = choices.pop("contact_line", None)
    child = bool(choices.pop("child", False))
    settings = {
        "eyes": "right_left",
        "optotype_set": "sloan",
        "procedure": "chart",
        "chart_presentation": "row",
        "correction": "none",
        "setup": "3m",
        "answer_mode": "patient",
        **choices,
    }
    for name, value in settings.items():
        page.check(f'input[name="{name}"][value="{value}"]')
    if show_results:
        page.check('input[name="show_results"]')
    if child:
        page.check('input[name="child"]')
    if contact_line is not None:
        page.fill('input[name="contact_line"]', contact_line)
    page.click('main [name="submit"]')  # (the patient search's "Find" comes first)
    page.wait_for_selector("[data-invite-url]")
    invite_url = page.input_value("[data-invite-url]")
    public_id = page.get_attribute("[data-session-id]", "data-session-id")
    return invite_url, public_id


def set_card_width(page, css_px_per_mm: float) -> float:
    """Move the card slider to the width giving `css_px_per_mm`; returns the scale actually set."""
    width = round(css_px_per_mm * CARD_WIDTH_MM * 2) / 2
    # The slider is on a log scale (webapp/static/js/patient/card.js): its position for this width.
    page.eval_on_selector(
        "[data-card-slider]",
        """async (el, w) => {
             const { sliderPosition } = await import('/static/js/patient/card.js');
             el.value = String(sliderPosition(w));
             el.dispatchEvent(new Event('input', {bubbles: true}));
           }""",
        width,
    )
    drawn = page.eval_on_selector("[data-card]", "el => el.getBoundingClientRect().width")
    assert abs(drawn - width) < 0.01, (drawn, width)
    return width / CARD_WIDTH_MM


def visible(step: str) -> str:
    return f'[data-step="{step}"]:not([hidden])'


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each. axe-core
    (about 0.5 MB of script) goes into a document once; later checks of that document reuse it."""
    from axe_playwright_python.sync_playwright import Axe

    if not page.evaluate("() => typeof window.axe === 'object' && typeof window.axe.run === 'function'"):
        page.evaluate(Axe().axe_script)
    response = page.evaluate("() => axe.run({resultTypes: ['violations']})")
    found = []
    for violation in response["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            targets = [", ".join(node["target"]) for node in violation["nodes"]][:5]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def tab_to(page, selector: str, limit: int = 40, key: str = "Tab") -> None:
    """Press Tab (only) until the focused element matches `selector`; fail if it never does."""
    for _ in range(limit):
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{selector} not reached with {limit} presses of {key}")


def focus_is_visible(page) -> bool:
    """The focused element shows a focus indicator (an outline wider than zero)."""
    return page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0; }"""
    )


def calibrate_by_clicking(display, css_px_per_mm: float) -> float:
    """Scale, distance (tape) and the measurable-range page, with the mouse; returns the scale set."""
    display.wait_for_selector(visible("scale"))
    scale = set_card_width(display, css_px_per_mm)
    display.click('[data-action="scale-done"]')
    display.wait_for_selector(visible("distance"))
    display.check("[data-tape-confirm]")
    display.click('[data-action="distance-done"]')
    display.wait_for_selector("[data-range-report]:not([hidden])")
    display.click('[data-action="distance-continue"]')
    return scale


def consent_calibrate_and_pair(display, invite_url: str, pad, css_px_per_mm: float = 4.0) -> None:
    """Open the invite, agree, calibrate by clicking, then open the pad link the display shows on the
    phone page `pad` and wait until it is connected."""
    display.goto(invite_url)
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    calibrate_by_clicking(display, css_px_per_mm)
    display.wait_for_selector("[data-pad-qr] svg")
    pad.goto(display.get_attribute("[data-pad-qr]", "data-pad-url"))
    pad.wait_for_selector('[data-pad-connection][data-on="true"]')


def wait_for_trial(display, trial_id: str, **options) -> None:
    """Wait until the test screen has drawn trial `trial_id` (its ink measured: `drawnHeight`)."""
    display.wait_for_function(
        "trial => { const h = document.querySelector('[data-stimulus-host]');"
        " return h.dataset.drawnHeight && h.dataset.trialId === trial; }",
        arg=trial_id,
        **options,
    )


def current_stimulus(display, previous_seq: str | None) -> dict:
    display.wait_for_function(
        "last => { const h = document.querySelector('[data-stimulus-host]');"
        " return h.dataset.drawnHeight && h.dataset.seq !== last; }",
        arg=previous_seq or "none",
    )
    host = display.locator("[data-stimulus-host]")
    return {"trial_id": host.get_attribute("data-trial-id"), "seq": host.get_attribute("data-seq")}


def consent_and_scale(display, invite_url: str, css_px_per_mm: float) -> None:
    """Open the invite, agree, match the card at `css_px_per_mm`: on the distance step."""
    display.goto(invite_url)
    display.wait_for_selector(visible("welcome"))
    display.check("[data-consent-box]")
    display.click('[data-action="consent"]')
    display.wait_for_selector(visible("scale"))
    set_card_width(display, css_px_per_mm)
    display.click('[data-action="scale-done"]')
    display.wait_for_selector(visible("distance"))


def save_distance_to_prepare(display) -> None:
    """From the distance step, its measurement made: save it, go on past the range and the answers
    steps to "Get ready"."""
    display.click('[data-action="distance-done"]')
    display.wait_for_selector("[data-range-report]:not([hidden])")
    display.click('[data-action="distance-continue"]')
    display.click('[data-action="answers-done"]')
    display.wait_for_selector(visible("prepare"))
