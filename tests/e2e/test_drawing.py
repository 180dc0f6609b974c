"""The drawing modules in a real Chromium, without a server: requests to a made-up origin
are answered from the files on disk (Playwright routing), so these run in about a second.

What is checked here is the layout: the ink of each optotype, measured by the browser's layout and
by the page's own `measureInk`, is the height the server asked for at devicePixelRatio 1, 2 and 3,
and the crowding bars sit one letter width away. The pixels on screen are measured from screenshots
by test_drawn_size.py.
"""

import pytest

from tests.support.browser import ORIGIN, open_static_page, serve_from_disk

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=[1, 2, 3], ids=lambda dpr: f"dpr{dpr}")
def drawing_page(browser, request):
    context = browser.new_context(viewport={"width": 1600, "height": 1000}, device_scale_factor=request.param)
    yield open_static_page(context)
    context.close()


DRAW = """async ({set, symbols, height, crowding, mirrored}) => {
    const {m, geometry} = window.visus;
    const host = document.querySelector('[data-host]');
    const svgs = m.renderStimulus(host, geometry, {optotype_set: set, optotypes: symbols, height_css_px: height,
                                                   crowding, mirrored, logmar: 0});
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const box = (e) => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, w: r.width, h: r.height}; };
    return {
        reported: m.measureInk(svgs),
        boxes: svgs.map(box),
        ink: svgs.map(s => box(s.querySelector('path'))),
        bars: Array.from(host.querySelectorAll('[data-crowding] rect')).map(box),
        transform: getComputedStyle(host.querySelector('[data-stimulus]')).transform,
    };
}"""

SIZES_CSS_PX = [4.0, 7.3, 12.5, 33.3, 87.5, 240.0]


@pytest.mark.parametrize("set_name, symbol", [("sloan", "H"), ("tumbling_e", "up"), ("landolt_c8", "down-left")])
def test_drawn_height_is_the_requested_height(drawing_page, set_name, symbol):
    for height in SIZES_CSS_PX:
        drawn = drawing_page.evaluate(
            DRAW, {"set": set_name, "symbols": [symbol], "height": height, "crowding": False, "mirrored": False}
        )
        # The page's own measure of the ink, in device px, is the request (the H, E and C fill the grid).
        ((ink_w, ink_h),) = drawn["reported"]
        dpr = drawing_page.evaluate("devicePixelRatio")
        assert ink_h == pytest.approx(height * dpr, rel=0.02 if set_name == "landolt_c8" else 0.003), height
        assert ink_w == pytest.approx(height * dpr, rel=0.003), height
        (box,) = drawn["boxes"]
        assert box["w"] == pytest.approx(height, rel=0.01), height
        # The ink fills the 5 x 5 grid: its height is the optotype's height (ISO 10938: within 5%).
        (ink,) = drawn["ink"]
        assert ink["h"] == pytest.approx(height, rel=0.05), height


def test_row_letters_are_one_letter_width_apart_inside_crowding_bars(drawing_page):
    height = 50.0
    drawn = drawing_page.evaluate(
        DRAW, {"set": "sloan", "symbols": list("DKNSZ"), "height": height, "crowding": True, "mirrored": False}
    )
    boxes = drawn["boxes"]
    assert len(boxes) == 5
    for left, right in zip(boxes, boxes[1:], strict=False):
        assert right["x"] - (left["x"] + left["w"]) == pytest.approx(height, rel=0.02)
    left_bar, right_bar, top_bar, bottom_bar = drawn["bars"]
    stroke = height / 5
    # Bars one stroke thick, one letter width (5 strokes) from the row (acuity.optotypes.crowding_bars).
    assert boxes[0]["x"] - (left_bar["x"] + left_bar["w"]) == pytest.approx(height, rel=0.02)
    assert right_bar["x"] - (boxes[-1]["x"] + boxes[-1]["w"]) == pytest.approx(height, rel=0.02)
    assert left_bar["w"] == pytest.approx(stroke, rel=0.02)
    assert boxes[0]["y"] - (top_bar["y"] + top_bar["h"]) == pytest.approx(height, rel=0.02)
    assert bottom_bar["y"] - (boxes[0]["y"] + boxes[0]["h"]) == pytest.approx(height, rel=0.02)
    assert top_bar["w"] == pytest.approx(boxes[-1]["x"] + boxes[-1]["w"] - boxes[0]["x"], rel=0.02)


def test_mirrored_stimulus_is_reversed_left_to_right_at_the_same_size(drawing_page):
    drawn = drawing_page.evaluate(
        DRAW, {"set": "sloan", "symbols": ["R"], "height": 80.0, "crowding": True, "mirrored": True}
    )
    assert drawn["transform"].startswith("matrix(-1, 0, 0, 1")
    dpr = drawing_page.evaluate("devicePixelRatio")
    assert drawn["reported"] == [[pytest.approx(80.0 * dpr, rel=0.003)] * 2]


CARD = """async ({width, viewport}) => {
    const {CardSizer} = await import('/static/js/patient/card.js');
    const host = document.querySelector('[data-host]');
    const card = document.createElement('div');
    card.className = 'card';
    const slider = Object.assign(document.createElement('input'), {type: 'range', min: 100, max: 2200, step: 0.5});
    const readout = document.createElement('p');
    host.style.display = 'block';
    host.replaceChildren(card, slider, readout);
    const sizer = new CardSizer({card, slider, readout, stepButtons: []});
    const portraitAtStart = sizer.portrait;
    sizer.setWidth(width);
    const box = card.getBoundingClientRect();
    const before = sizer.cssPxPerMm;
    sizer.turn();
    const turned = card.getBoundingClientRect();
    return {portraitAtStart, scale: before, w: box.width, h: box.height, turnedScale: sizer.cssPxPerMm,
            turnedW: turned.width, turnedH: turned.height, radius: parseFloat(getComputedStyle(card).borderTopLeftRadius)};
}"""


@pytest.mark.parametrize("viewport_width, portrait", [(1280, False), (390, True)])
def test_card_is_id1_shaped_and_turning_it_keeps_the_scale(browser, viewport_width, portrait):
    context = browser.new_context(viewport={"width": viewport_width, "height": 800})
    page = context.new_page()
    page.route(f"{ORIGIN}/**", serve_from_disk)
    page.goto(f"{ORIGIN}/")
    try:
        scale = 4.5
        side_mm = 53.98 if portrait else 85.6
        card = page.evaluate(CARD, {"width": scale * side_mm, "viewport": viewport_width})
        assert card["portraitAtStart"] is portrait
        assert card["scale"] == pytest.approx(scale, rel=0.002)
        assert 2.88 * scale <= card["radius"] <= 3.48 * scale
        assert card["turnedScale"] == pytest.approx(scale, rel=0.002)

        def drawn(upright: bool) -> tuple[float, float]:
            """ISO/IEC 7810 ID-1, 85.6 x 53.98 mm; upright (a phone) only the width is matched and the
            card is drawn cut short at 28% of the window's height (card.js), so the step fits."""
            if upright:
                return (53.98 * scale, min(85.6 * scale, 0.28 * 800))
            return (85.6 * scale, 53.98 * scale)

        assert (card["w"], card["h"]) == pytest.approx(drawn(portrait), rel=0.003)
        assert (card["turnedW"], card["turnedH"]) == pytest.approx(drawn(not portrait), rel=0.003)
    finally:
        context.close()
