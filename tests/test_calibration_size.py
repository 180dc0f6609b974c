"""calibration.size: optotype heights against docs/measurement.md §2, unit conversions, round trips."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from calibration import CalibrationError
from calibration.size import (
    css_px_to_device_px,
    css_px_to_mm,
    device_px_to_css_px,
    logmar_from_height_css_px,
    logmar_from_height_mm,
    mm_to_css_px,
    optotype_height_css_px,
    optotype_height_mm,
    stroke_mm,
)

# docs/measurement.md §2: (distance mm, logMAR) -> height mm, as tabulated (3 significant figures).
PUBLISHED_HEIGHTS_MM = [
    (6000, 0.0, 8.73),
    (6000, 1.0, 87.3),
    (2000, 1.0, 29.1),
    (2000, 0.0, 2.91),
    (2000, -0.3, 1.46),
    (3000, 1.0, 43.6),
    (3000, 0.0, 4.36),
    (3000, -0.3, 2.19),
    (4000, 1.0, 58.2),
    (4000, 0.0, 5.82),
    (4000, -0.3, 2.92),
    (400, 1.0, 5.82),
    (400, 0.0, 0.58),
    (400, -0.3, 0.29),
]

logmars = st.floats(min_value=-1.0, max_value=2.0, allow_nan=False)
distances_mm = st.floats(min_value=250.0, max_value=8000.0)
scales = st.floats(min_value=2.5, max_value=25.0)
ratios = st.floats(min_value=0.5, max_value=8.0)


@pytest.mark.parametrize("distance_mm, logmar, height_mm", PUBLISHED_HEIGHTS_MM)
def test_heights_match_the_published_table(distance_mm, logmar, height_mm):
    computed = optotype_height_mm(logmar, distance_mm)
    # Published to 3 significant figures (2 for the 40 cm row): half a unit in the last digit.
    last_digit = 10 ** (math.floor(math.log10(height_mm)) - 2) if height_mm >= 1 else 0.01
    assert abs(computed - height_mm) <= last_digit / 2


def test_logmar_0_is_5_arcmin_and_stroke_is_a_fifth():
    at_6m = optotype_height_mm(0.0, 6000)
    assert at_6m == pytest.approx(2 * 6000 * math.tan(math.radians(5 / 60 / 2)))
    assert stroke_mm(0.0, 6000) == pytest.approx(at_6m / 5)
    # The stroke subtends 1 arcmin to 0.01%.
    assert math.degrees(2 * math.atan(stroke_mm(0.0, 6000) / 2 / 6000)) * 60 == pytest.approx(1.0, rel=1e-4)


def test_one_row_is_a_factor_10_to_the_0_1():
    ratio = optotype_height_mm(0.5, 3000) / optotype_height_mm(0.4, 3000)
    assert ratio == pytest.approx(10**0.1, rel=1e-4)


def test_unit_conversions():
    assert mm_to_css_px(10.0, 3.78) == pytest.approx(37.8)
    assert css_px_to_mm(37.8, 3.78) == pytest.approx(10.0)
    assert css_px_to_device_px(100.0, 2.0) == 200.0
    assert device_px_to_css_px(300.0, 1.5) == 200.0
    assert optotype_height_css_px(0.0, 6000, 4.0) == pytest.approx(8.7266 * 4.0, rel=1e-4)
    assert logmar_from_height_css_px(8.72665 * 4.0, 6000, 4.0) == pytest.approx(0.0, abs=1e-5)
    assert logmar_from_height_mm(87.2665, 6000) == pytest.approx(1.0, abs=1e-5)


@given(logmars, distances_mm, scales, ratios)
def test_round_trip_logmar_mm_css_device_and_back(logmar, distance_mm, css_px_per_mm, dpr):
    height_mm = optotype_height_mm(logmar, distance_mm)
    height_css_px = mm_to_css_px(height_mm, css_px_per_mm)
    assert height_css_px == pytest.approx(optotype_height_css_px(logmar, distance_mm, css_px_per_mm))
    height_device_px = css_px_to_device_px(height_css_px, dpr)
    back_css_px = device_px_to_css_px(height_device_px, dpr)
    back_mm = css_px_to_mm(back_css_px, css_px_per_mm)
    assert back_mm == pytest.approx(height_mm, rel=1e-12)
    assert logmar_from_height_mm(back_mm, distance_mm) == pytest.approx(logmar, abs=1e-9)
    assert logmar_from_height_css_px(back_css_px, distance_mm, css_px_per_mm) == pytest.approx(logmar, abs=1e-9)


@given(logmars, logmars, distances_mm)
def test_size_grows_with_logmar(a, b, distance_mm):
    a, b = sorted((a, b))
    assert optotype_height_mm(a, distance_mm) <= optotype_height_mm(b, distance_mm)
    if b - a > 1e-9:  # closer than that, both may round to the same float
        assert optotype_height_mm(a, distance_mm) < optotype_height_mm(b, distance_mm)


@given(logmars, distances_mm, distances_mm)
def test_size_grows_with_distance(logmar, near_mm, far_mm):
    near_mm, far_mm = sorted((near_mm, far_mm))
    assert optotype_height_mm(logmar, near_mm) <= optotype_height_mm(logmar, far_mm)
    if far_mm - near_mm > 1e-6:
        assert optotype_height_mm(logmar, near_mm) < optotype_height_mm(logmar, far_mm)


@pytest.mark.parametrize("logmar", [20, -1.5, 3.5, math.nan, math.inf, "0.1", None, True])
def test_refuses_what_is_not_a_logmar(logmar):
    with pytest.raises(CalibrationError, match="logmar|logMAR"):
        optotype_height_mm(logmar, 3000)


@pytest.mark.parametrize(
    "distance_mm, words", [(3, "millimetres"), (0, "greater than 0"), (math.nan, "finite"), ("3000", "number")]
)
def test_refuses_bad_distance(distance_mm, words):
    with pytest.raises(CalibrationError, match=words):
        optotype_height_mm(0.0, distance_mm)


def test_refuses_bad_lengths_and_scales():
    with pytest.raises(CalibrationError, match="negative"):
        mm_to_css_px(-1.0, 4.0)
    with pytest.raises(CalibrationError, match="calibrate the screen"):
        mm_to_css_px(1.0, 1.0)
    with pytest.raises(CalibrationError, match="negative"):
        css_px_to_device_px(-1.0, 2.0)
    with pytest.raises(CalibrationError, match="devicePixelRatio"):
        device_px_to_css_px(10.0, 20.0)
    with pytest.raises(CalibrationError, match="height_mm"):
        logmar_from_height_mm(0.0, 3000)
    with pytest.raises(CalibrationError, match="units"):
        logmar_from_height_mm(1e-6, 3000)
    with pytest.raises(CalibrationError, match="height_css_px"):
        logmar_from_height_css_px(math.inf, 3000, 4.0)
