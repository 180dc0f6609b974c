"""calibration.screen: the ID-1 card, ruler scale, devicePixelRatio and ScreenScale."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calibration import CalibrationError
from calibration.screen import (
    ID1_CARD_HEIGHT_MM,
    ID1_CARD_WIDTH_MM,
    ScreenScale,
    css_px_per_mm_from_card,
    css_px_per_mm_from_ruler,
    device_px_per_mm,
    screen_scale,
)


def test_card_is_iso_7810_id1():
    assert ID1_CARD_WIDTH_MM == 85.60
    assert ID1_CARD_HEIGHT_MM == 53.98


def test_card_scale_is_width_over_85_6():
    # A CSS px is 1/96 inch at reference: 96 / 25.4 = 3.7795 px per mm, so the card is 323.5 px.
    assert css_px_per_mm_from_card(323.53) == pytest.approx(96 / 25.4, rel=1e-4)
    assert css_px_per_mm_from_card(856.0) == pytest.approx(10.0)


def test_ruler_scale():
    assert css_px_per_mm_from_ruler(378.0, 100.0) == pytest.approx(3.78)
    assert css_px_per_mm_from_ruler(600.0, 50.0) == pytest.approx(12.0)


def test_device_px_per_mm():
    assert device_px_per_mm(5.0, 2.0) == 10.0
    assert device_px_per_mm(3.78, 1.25) == pytest.approx(4.725)


@given(st.floats(min_value=2.5 * 85.6, max_value=25 * 85.6))
def test_every_plausible_card_width_is_accepted(width_css_px):
    assert 2.5 <= css_px_per_mm_from_card(width_css_px) <= 25.0


def test_card_drawn_too_small_says_how_much_and_what_to_do():
    # 71.3 CSS px is about 0.83 px/mm: 3x under the 2.5 floor.
    with pytest.raises(CalibrationError, match=r"3\.0x too small.*drag the slider") as info:
        css_px_per_mm_from_card(71.33)
    assert "real card" in str(info.value)


def test_card_drawn_too_large_is_refused():
    with pytest.raises(CalibrationError, match=r"too large.*drag the slider"):
        css_px_per_mm_from_card(25.1 * 85.6)


@pytest.mark.parametrize("bad", [0, -300, math.nan, math.inf, "323", None, True, [323]])
def test_card_width_that_is_not_a_length_is_refused(bad):
    with pytest.raises(CalibrationError, match="card_width_css_px"):
        css_px_per_mm_from_card(bad)


def test_ruler_in_wrong_units_is_refused():
    # A 1000 px line of 260 mm read as 26 (cm): 38.5 px per mm, too large.
    with pytest.raises(CalibrationError, match=r"1\.5x too large.*millimetres"):
        css_px_per_mm_from_ruler(1000.0, 26.0)
    with pytest.raises(CalibrationError, match="at least 20 mm"):
        css_px_per_mm_from_ruler(37.8, 10.0)
    with pytest.raises(CalibrationError, match="length_mm"):
        css_px_per_mm_from_ruler(378.0, math.nan)


def test_calibration_error_is_a_value_error():
    assert issubclass(CalibrationError, ValueError)


@pytest.mark.parametrize("dpr", [0.4, 8.5, 0, -1, math.nan, "2", None])
def test_implausible_device_pixel_ratio_is_refused(dpr):
    with pytest.raises(CalibrationError, match="devicePixelRatio|device_pixel_ratio"):
        screen_scale(4.0, dpr, "card")


def test_screen_scale_validates_and_round_trips():
    scale = screen_scale(4.5, 2.0, "card")
    assert scale == ScreenScale(4.5, 2.0, "card")
    assert scale.device_px_per_mm == 9.0
    data = scale.to_dict()
    assert data == {"css_px_per_mm": 4.5, "device_pixel_ratio": 2.0, "method": "card"}
    assert ScreenScale.from_dict(data) == scale
    with pytest.raises(AttributeError):
        scale.css_px_per_mm = 5.0  # frozen


def test_screen_scale_refuses_what_a_real_screen_cannot_be():
    with pytest.raises(CalibrationError, match="calibrate the screen again"):
        screen_scale(2.4, 1.0, "card")
    with pytest.raises(CalibrationError, match="calibrate the screen again"):
        ScreenScale(26.0, 1.0, "ruler")
    with pytest.raises(CalibrationError, match="method"):
        screen_scale(4.0, 1.0, "guess")


def test_from_dict_refuses_incomplete_or_bad_data():
    with pytest.raises(CalibrationError, match="missing device_pixel_ratio"):
        ScreenScale.from_dict({"css_px_per_mm": 4.0, "method": "card"})
    with pytest.raises(CalibrationError, match="mapping"):
        ScreenScale.from_dict([4.0, 1.0, "card"])
    with pytest.raises(CalibrationError):
        ScreenScale.from_dict({"css_px_per_mm": "4", "device_pixel_ratio": 1.0, "method": "card"})


@given(
    st.floats(min_value=2.5, max_value=25.0),
    st.floats(min_value=0.5, max_value=8.0),
    st.sampled_from(["card", "ruler"]),
)
def test_screen_scale_dict_round_trip(css_px_per_mm, dpr, method):
    scale = screen_scale(css_px_per_mm, dpr, method)
    assert ScreenScale.from_dict(scale.to_dict()) == scale
