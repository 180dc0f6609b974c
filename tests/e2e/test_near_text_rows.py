"""Text-like rows at near (chart presentation "text"): on a 1280 x 720 laptop and on a phone held at
40 cm, the whole row is drawn as one line with its letters one stroke (a fifth of a letter) apart
and no crowding bars, each letter at the size the server asked for."""

import pytest

from tests.support.flows import CARD_WIDTH_MM, consent_and_scale, create_test, save_distance_to_prepare, sign_in

pytestmark = pytest.mark.browser

SIZES = {
    "laptop-1280x720": ({"viewport": {"width": 1280, "height": 720}}, 3.8),
    # A phone: the card stands upright, so its short side (53.98 mm) is matched.
    "phone-390x844": (
        {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True},
        6.3 * 53.98 / CARD_WIDTH_MM,
    ),
}


def first_text_row(new_context, live_server, shots, size):
    """A near test with text-like rows, its display (`size`) at 40 cm by the ruler, the first row drawn."""
    options, card_scale = SIZES[size]
    clinician = new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(clinician, live_server)
    invite_url, _ = create_test(
        clinician, live_server, eyes="right", setup="near_40cm", procedure="chart", chart_presentation="text"
    )
    display = shots.watch("display", new_context(**options).new_page())
    consent_and_scale(display, invite_url, card_scale)
    if size.startswith("phone"):
        display.check("[data-ruler-confirm]")
    else:
        display.check("[data-ruler-instead]")
    save_distance_to_prepare(display)
    display.click('[data-action="ready"]')
    display.wait_for_function("() => document.querySelector('[data-stimulus-host]').dataset.drawnHeight")
    return display


@pytest.mark.parametrize("size", list(SIZES))
def test_a_text_row_is_drawn_as_a_line_of_print(new_context, live_server, shots, size):
    display = first_text_row(new_context, live_server, shots, size)

    boxes = display.eval_on_selector_all(
        "[data-stimulus-host] svg.optotype",
        "nodes => nodes.map(n => { const r = n.getBoundingClientRect(); return [r.left, r.right, r.height]; })",
    )
    assert len(boxes) == 5, boxes
    assert display.locator("[data-stimulus-host] [data-crowding]").count() == 0
    for (_, right, height), (left, _, _) in zip(boxes, boxes[1:], strict=False):
        # One stroke apart, edge to edge of the letters' 5 x 5 boxes (within a CSS px of rounding).
        assert abs((left - right) - height / 5) < 1.0, boxes
    shots.take(display, f"{size}-text-row", full_page=False)


def test_a_phone_corrects_a_row_with_an_undo_button_not_a_backspace_key(new_context, live_server, shots):
    """A phone held at 40 cm has no Backspace key: the typed-answer line names the button it has,
    and that button takes back the last answer of the row."""
    display = first_text_row(new_context, live_server, shots, "phone-390x844")
    undo = display.locator('[data-test-keys] [data-action="undo-answer"]')
    assert undo.is_hidden()  # nothing to take back yet
    keys = display.locator("[data-test-keys] [data-answer]:not(.not-sure)")
    keys.nth(0).tap()
    keys.nth(1).tap()
    echo = display.locator("[data-answer-echo]")
    assert "Backspace" not in echo.text_content()
    assert "Undo last answer" in echo.text_content(), echo.text_content()
    assert echo.text_content().count("_") == 3
    shots.take(display, "phone-row-undo", full_page=False)
    undo.tap()
    assert echo.text_content().count("_") == 4  # the last answer taken back
