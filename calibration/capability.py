"""What a screen can draw: the logMAR range measurable on this screen at this distance.

Sources (docs/measurement.md §3, §6):
- ISO 10938:2016 (chart displays, electronic ones included): the critical detail within 5% of its
  nominal size; anti-aliasing must not change perceived size beyond that; optotype luminance at
  most 15% of the background (at least 85% contrast).
- FrACT (Bach 1996) draws strokes down to 0.5 CSS px with anti-aliasing, which gives about 4x finer
  size steps than whole pixels.
- ETDRS / Bailey-Lovie charts: letter spacing of one letter width. Crowding bars as in FrACT.
- How Chromium lays out and rasterises the letters (Blink's LayoutUnit, Skia's anti-aliasing),
  measured from device-resolution screenshots by tests/e2e/test_drawn_size.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from calibration.distance import MAX_VIEWING_DISTANCE_MM, MIN_VIEWING_DISTANCE_MM, check_viewing_distance_mm
from calibration.errors import CalibrationError, finite_number, positive_number
from calibration.screen import ScreenScale
from calibration.size import (
    LOGMAR0_OPTOTYPE_DEG,
    MAX_LOGMAR,
    MIN_LOGMAR,
    STROKES_PER_OPTOTYPE,
    check_logmar,
    logmar_unchecked,
)

# ISO 10938:2016: the drawn size of the critical detail within 5% of the nominal size.
ISO10938_SIZE_TOLERANCE = 0.05
# Visus draws every optotype within 2% of the size asked for, tighter than ISO 10938 and less than
# one step of the 0.01 logMAR size grid (a factor 10^0.01, 2.3%). Sizes that cannot keep it are
# left out of the measurable range (`min_height_device_px`), and every `drawn` report is checked
# against it (`check_drawn`).
DRAWN_SIZE_TOLERANCE = 0.02

# Smallest stroke (= gap, the critical detail) Visus draws: 2 device px. Why not less:
# - The page draws SVG paths at fractional sizes with anti-aliasing. A pixel's grey level is its
#   coverage, so the ink of a stroke, and the centroid of each edge, are exact at any width: the
#   size is right (the page's measured bounding box is checked against the 5% of ISO 10938 with
#   `check_drawn`). What a thin stroke loses is contrast, not size.
# - A stroke narrower than 1 device px never covers a whole pixel: its darkest pixel has at most
#   that width's fraction of full contrast (0.5 px: 50%), below the 85% contrast ISO 10938 asks
#   of an optotype. FrACT's 0.5 CSS px floor (Bach 1996) buys range at the cost of that contrast.
# - A 1 device-px stroke is full contrast only when its edges fall on pixel boundaries. The page
#   cannot guarantee that: centring, fractional CSS positions and devicePixelRatios such as 1.25
#   or 1.5 put edges anywhere, and a 1 px stroke straddling two pixels is drawn as two 50% greys,
#   a 2 px-wide blur at half contrast.
# - At 2 device px or more, every stroke and every gap contains at least one whole pixel wherever
#   its edges fall, so each is drawn at full contrast with at most one partly covered pixel on
#   each side: the critical detail keeps its size and its contrast.
MIN_STROKE_DEVICE_PX = 2.0

# How far the drawn height of a letter can be from the height asked for, in device px, in Chromium:
# - Skia anti-aliases a letter (a path of several contours) by supersampling with 4 sub-scanlines
#   per device pixel (src/core/SkScan_AntiPath.cpp: SHIFT 2), so a horizontal edge is drawn at the
#   nearest quarter pixel: up to 1/8 device px off, at the top and at the bottom of the letter.
#   (Vertical edges get finer coverage.) Measured in Chromium: letters 10 + i/16 device px tall
#   drew 10, 10, 10.25, 10.25, 10.25, 10.25, 10.5 ... px of ink (coverage summed). Chromium puts an
#   untransformed box's top on a whole pixel, so only the bottom edge was off (at most 0.13 px);
#   a transformed one (the mirror set-up's scaleX(-1)) is not snapped and was up to 0.19 px off.
# - Blink sizes the letter's box in LayoutUnits of 1/64 CSS px, rounded down (a request of
#   10.93 CSS px is laid out 10.921875): up to devicePixelRatio / 64 device px short.
RASTER_EDGE_ERROR_DEVICE_PX = 1.0 / 8.0
LAYOUT_UNIT_CSS_PX = 1.0 / 64.0


def min_height_device_px(device_pixel_ratio: float) -> float:
    """Height of the smallest optotype Visus draws on a screen of this devicePixelRatio, in device px.

    The larger of two floors: 5 strokes of MIN_STROKE_DEVICE_PX (contrast), and the height whose
    worst drawing error (two edges of RASTER_EDGE_ERROR_DEVICE_PX plus one LayoutUnit) is within
    DRAWN_SIZE_TOLERANCE (size): (1/4 + ratio/64) / 0.02 = 13.3 device px at ratio 1, 14.1 at 2,
    14.8 at 3. Below that a letter of about 10 device px could be drawn 2.5% off.

    The cost: on a 96-dpi monitor at devicePixelRatio 1 (3.78 CSS px per mm) the smallest optotype
    is logMAR +0.08 at 2 m and -0.09 at 3 m; a laptop at devicePixelRatio 2 (4.5 CSS px per mm)
    reaches -0.27 at 2 m and -0.45 at 3 m.
    """
    ratio = positive_number(device_pixel_ratio, "device_pixel_ratio", "(device px per CSS px)")
    worst_error_device_px = 2.0 * RASTER_EDGE_ERROR_DEVICE_PX + LAYOUT_UNIT_CSS_PX * ratio
    return max(STROKES_PER_OPTOTYPE * MIN_STROKE_DEVICE_PX, worst_error_device_px / DRAWN_SIZE_TOLERANCE)


# Room kept free around the stimulus for the page's frame and controls: 10% of the viewport's
# width and of its height.
DEFAULT_MARGIN_FRACTION = 0.10

# Crowding bars (contour interaction, as in FrACT and Bailey-Lovie charts): one bar on each of the
# four sides of the optotype (or of the row of optotypes), one stroke (1/5 height) thick, its inner
# edge one letter width (= height: the 5 x 5 grid is square) from the optotype's edge. Rows of
# optotypes are spaced one letter width edge to edge (ETDRS). So a single crowded optotype spans
# bar + gap + letter + gap + bar = 1/5 + 1 + 1 + 1 + 1/5 = 3.4 letter heights across and down.
CROWDING_GAP_HEIGHTS = 1.0
CROWDING_BAR_HEIGHTS = 1.0 / STROKES_PER_OPTOTYPE


def stimulus_extent_in_heights(*, crowding: bool = True, optotypes_per_row: int = 1) -> tuple[float, float]:
    """(width, height) of the drawn stimulus in optotype heights.

    n optotypes with one letter width between them span 2n - 1 heights; crowding bars add
    2 * (gap + bar) = 2.4 heights on each axis.
    """
    if not isinstance(crowding, bool):
        raise CalibrationError(f"crowding must be true or false, got {crowding!r}")
    if isinstance(optotypes_per_row, bool) or not isinstance(optotypes_per_row, int) or optotypes_per_row < 1:
        raise CalibrationError(f"optotypes_per_row must be a whole number of at least 1, got {optotypes_per_row!r}")
    width = 2.0 * optotypes_per_row - 1.0
    height = 1.0
    if crowding:
        surround = 2.0 * (CROWDING_GAP_HEIGHTS + CROWDING_BAR_HEIGHTS)
        width += surround
        height += surround
    return width, height


@dataclass(frozen=True)
class MeasurableRange:
    """The logMAR values this screen can draw at this distance, both ends included."""

    min_logmar: float  # smallest optotype: min_height_device_px tall
    max_logmar: float  # largest optotype whose stimulus fits the viewport

    def __post_init__(self) -> None:
        low = finite_number(self.min_logmar, "min_logmar", "logMAR")
        high = finite_number(self.max_logmar, "max_logmar", "logMAR")
        if low > high:
            raise CalibrationError(f"min_logmar {low:g} is above max_logmar {high:g}; swap them")
        object.__setattr__(self, "min_logmar", low)
        object.__setattr__(self, "max_logmar", high)

    def contains(self, logmar: float) -> bool:
        return self.min_logmar <= logmar <= self.max_logmar

    def to_dict(self) -> dict[str, Any]:
        return {"min_logmar": self.min_logmar, "max_logmar": self.max_logmar}


def _check_scale(scale: object) -> ScreenScale:
    if not isinstance(scale, ScreenScale):
        raise CalibrationError(
            f"scale must be a calibration.screen.ScreenScale, got {type(scale).__name__}; calibrate the screen first"
        )
    return scale


def _usable_viewport_css_px(viewport_css_px: object, margin_fraction: object) -> tuple[float, float]:
    if (
        isinstance(viewport_css_px, (str, bytes))
        or not isinstance(viewport_css_px, Sequence)
        or len(viewport_css_px) != 2
    ):
        raise CalibrationError(
            f"viewport_css_px must be (width, height) in CSS px, got {viewport_css_px!r}; "
            f"send window.innerWidth and window.innerHeight"
        )
    width = positive_number(viewport_css_px[0], "viewport width", "CSS px")
    height = positive_number(viewport_css_px[1], "viewport height", "CSS px")
    margin = finite_number(margin_fraction, "margin_fraction", "(a fraction of the viewport)")
    if not 0.0 <= margin < 1.0:
        raise CalibrationError(f"margin_fraction must be at least 0 and below 1, got {margin:g}")
    return width * (1.0 - margin), height * (1.0 - margin)


def _smallest_height_mm(scale: ScreenScale) -> float:
    """Height of the smallest drawable optotype: `min_height_device_px`."""
    return min_height_device_px(scale.device_pixel_ratio) / scale.device_px_per_mm


def _largest_height_mm(
    scale: ScreenScale, viewport_css_px: object, crowding: bool, margin_fraction: object, optotypes_per_row: int
) -> float:
    """Height of the largest optotype whose whole stimulus fits the usable viewport."""
    usable_width, usable_height = _usable_viewport_css_px(viewport_css_px, margin_fraction)
    width_heights, height_heights = stimulus_extent_in_heights(crowding=crowding, optotypes_per_row=optotypes_per_row)
    largest_css_px = min(usable_width / width_heights, usable_height / height_heights)
    return largest_css_px / scale.css_px_per_mm


def measurable_range(
    scale: ScreenScale,
    viewport_css_px: tuple[float, float],
    viewing_distance_mm: float,
    *,
    crowding: bool = True,
    margin_fraction: float = DEFAULT_MARGIN_FRACTION,
    optotypes_per_row: int = 1,
) -> MeasurableRange:
    """The logMAR range drawable on this screen, in this viewport, at this optical distance.

    min: the optotype `min_height_device_px` tall (sharp, and drawn within 2%); max: the largest whose
    stimulus (see `stimulus_extent_in_heights`) fits the viewport less `margin_fraction`. Both are
    clipped to calibration.size's logMAR range (-1.0 to 3.0).
    """
    scale = _check_scale(scale)
    distance_mm = check_viewing_distance_mm(viewing_distance_mm)
    smallest_mm = _smallest_height_mm(scale)
    largest_mm = _largest_height_mm(scale, viewport_css_px, crowding, margin_fraction, optotypes_per_row)
    if smallest_mm > largest_mm:
        raise CalibrationError(_too_small_message(smallest_mm, largest_mm, scale))
    min_logmar = max(logmar_unchecked(smallest_mm, distance_mm), MIN_LOGMAR)
    max_logmar = min(logmar_unchecked(largest_mm, distance_mm), MAX_LOGMAR)
    if min_logmar > max_logmar:  # only when the clipping crosses: an absurd distance or screen
        raise CalibrationError(
            f"at {distance_mm:g} mm this screen can show no optotype between logMAR {MIN_LOGMAR:g} "
            f"and {MAX_LOGMAR:g}; change the viewing distance"
        )
    return MeasurableRange(min_logmar, max_logmar)


def _too_small_message(smallest_mm: float, largest_mm: float, scale: ScreenScale) -> str:
    # Both ends scale with distance alike, so moving does not help: the window is too small.
    return (
        f"this window is too small to show a whole optotype: the smallest one this screen can draw "
        f"sharply is {smallest_mm * scale.css_px_per_mm:.0f} CSS px tall, the largest that fits is "
        f"{largest_mm * scale.css_px_per_mm:.0f} CSS px; enlarge the browser window (full screen) "
        f"or use a bigger screen"
    )


def _distance_for_height_mm(height_mm: float, logmar: float) -> float:
    """The viewing distance at which an optotype `height_mm` tall is `logmar`: d = h / (2 tan(a/2))."""
    angle_rad = math.radians(LOGMAR0_OPTOTYPE_DEG * 10.0**logmar)
    return height_mm / (2.0 * math.tan(angle_rad / 2.0))


def nearest_distance_mm_for_range(
    scale: ScreenScale,
    viewport_css_px: tuple[float, float],
    min_logmar: float,
    max_logmar: float,
    *,
    crowding: bool = True,
    margin_fraction: float = DEFAULT_MARGIN_FRACTION,
    optotypes_per_row: int = 1,
) -> float:
    """The nearest viewing distance, in whole mm, at which [min_logmar, max_logmar] is measurable.

    Moving back makes every optotype subtend less: the smallest drawable one reaches `min_logmar`
    from distance d_small on, the largest that fits stays at or above `max_logmar` up to d_large.
    The answer is d_small rounded up to a whole mm (and at least 250 mm), if that is within
    d_large and 8 m; otherwise CalibrationError says what to change.
    """
    scale = _check_scale(scale)
    low = check_logmar(min_logmar)
    high = check_logmar(max_logmar)
    if low > high:
        raise CalibrationError(f"min_logmar {low:g} is above max_logmar {high:g}; swap them")
    smallest_mm = _smallest_height_mm(scale)
    largest_mm = _largest_height_mm(scale, viewport_css_px, crowding, margin_fraction, optotypes_per_row)
    if smallest_mm > largest_mm:
        raise CalibrationError(_too_small_message(smallest_mm, largest_mm, scale))
    nearest_mm = _distance_for_height_mm(smallest_mm, low)
    farthest_mm = _distance_for_height_mm(largest_mm, high)
    # Whole millimetres: nobody sets a distance finer, and it absorbs floating-point noise.
    nearest_whole_mm = max(float(math.ceil(round(nearest_mm, 6))), MIN_VIEWING_DISTANCE_MM)
    if nearest_mm > MAX_VIEWING_DISTANCE_MM:
        raise CalibrationError(
            f"logMAR {low:g} needs a viewing distance of {nearest_mm / 1000:.1f} m on this screen, "
            f"beyond {MAX_VIEWING_DISTANCE_MM / 1000:g} m; use a sharper screen or test down to a larger logMAR"
        )
    if farthest_mm < MIN_VIEWING_DISTANCE_MM:
        raise CalibrationError(
            f"logMAR {high:g} fits this window only closer than {MIN_VIEWING_DISTANCE_MM:g} mm; "
            f"enlarge the window, use a bigger screen or test up to a smaller logMAR"
        )
    if nearest_whole_mm > farthest_mm:
        span = math.log10(largest_mm / smallest_mm)
        raise CalibrationError(
            f"this screen can show a range of only about {span:.2f} logMAR at any one distance, "
            f"less than the {high - low:.2f} asked (logMAR {low:g} to {high:g}); enlarge the window, "
            f"use a bigger or sharper screen, or test a narrower range"
        )
    return nearest_whole_mm


# devicePixelRatio changes with browser zoom and between monitors, visualViewport.scale with pinch
# zoom: either changes the size of a CSS px on screen, which voids the screen scale. 1% allows for
# ratios a browser reports rounded (1.1 for 110% zoom on some, 1.100000023841858 on others).
SCREEN_SCALE_TOLERANCE = 0.01


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def css_px_size_changed(
    calibrated_device_pixel_ratio: float, device_pixel_ratio: object = None, visual_viewport_scale: object = None
) -> bool:
    """Whether a CSS px is no longer the size it was at calibration: devicePixelRatio differs from
    the calibration's, or visualViewport.scale (pinch zoom) from 1, by more than 1%. A value that is
    not a number (a page event without it) says nothing."""
    calibrated = positive_number(
        calibrated_device_pixel_ratio, "calibrated_device_pixel_ratio", "(device px per CSS px)"
    )
    ratio_changed = _is_number(device_pixel_ratio) and (
        abs(device_pixel_ratio - calibrated) > SCREEN_SCALE_TOLERANCE * calibrated
    )
    pinched = _is_number(visual_viewport_scale) and abs(visual_viewport_scale - 1.0) > SCREEN_SCALE_TOLERANCE
    return bool(ratio_changed or pinched)


@dataclass(frozen=True)
class DrawnCheck:
    """The server's verdict on a `drawn` report: the ink drawn against the size asked for."""

    requested_device_px: float  # the optotype height asked for, in the calibration's device px
    worst_error_fraction: float  # of the ink side farthest from the request: (drawn - requested) / requested
    drawn_device_px: float  # that side, in device px
    within_tolerance: bool
    reason: (
        str | None
    )  # why the calibration is void: "device_pixel_ratio_changed", "zoom_or_screen_changed", "drawn_size_off"

    def to_dict(self) -> dict[str, Any]:
        return {
            "requested_device_px": self.requested_device_px,
            "drawn_device_px": self.drawn_device_px,
            "error_percent": 100.0 * self.worst_error_fraction,
            "tolerance_percent": 100.0 * DRAWN_SIZE_TOLERANCE,
            "within_tolerance": self.within_tolerance,
        }


def check_drawn(
    requested_height_css_px: float,
    calibrated_device_pixel_ratio: float,
    ink_device_px: Sequence[Sequence[float]],
    device_pixel_ratio: float,
    visual_viewport_scale: float,
    optotype_count: int,
) -> DrawnCheck:
    """Compare the ink the page measured on screen with the size the server asked for.

    `ink_device_px`: [width, height] of each optotype's ink, in device px, one per optotype shown.
    Every optotype fills its 5 x 5 grid, so both sides of each ink box must be within
    DRAWN_SIZE_TOLERANCE of the requested height in device px (the request in CSS px times the
    calibration's devicePixelRatio: what the calibrated scale meant). A C (Landolt or Sloan) is 1%
    short on its gap's side (the gap cuts the circle's apex: 2.5 (1 - sqrt(1 - 0.2^2)) / 5 = 1.0%),
    inside it.
    A changed devicePixelRatio or a pinch zoom voids the calibration whatever the size.
    """
    requested_css_px = positive_number(requested_height_css_px, "requested_height_css_px", "CSS px")
    calibrated = positive_number(
        calibrated_device_pixel_ratio, "calibrated_device_pixel_ratio", "(device px per CSS px)"
    )
    positive_number(device_pixel_ratio, "device_pixel_ratio", "(device px per CSS px)")
    positive_number(visual_viewport_scale, "visual_viewport_scale", "(visualViewport.scale)")
    if (
        isinstance(ink_device_px, (str, bytes))
        or not isinstance(ink_device_px, Sequence)
        or len(ink_device_px) != optotype_count
    ):
        raise CalibrationError(
            f"ink_device_px must hold one [width, height] per optotype shown ({optotype_count}); measure every optotype"
        )
    requested_device_px = requested_css_px * calibrated
    worst = 0.0
    for i, box in enumerate(ink_device_px):
        if isinstance(box, (str, bytes)) or not isinstance(box, Sequence) or len(box) != 2:
            raise CalibrationError(f"ink_device_px[{i}] must be [width, height] in device px")
        for side in box:
            drawn = finite_number(side, f"ink_device_px[{i}]", "device px")
            if drawn < 0:
                raise CalibrationError(f"ink_device_px[{i}] cannot be negative, got {drawn:g}; measure the ink again")
            error = (drawn - requested_device_px) / requested_device_px
            if abs(error) >= abs(worst):
                worst = error
    drawn_device_px = requested_device_px * (1.0 + worst)
    if css_px_size_changed(calibrated, device_pixel_ratio):
        reason: str | None = "device_pixel_ratio_changed"
    elif css_px_size_changed(calibrated, None, visual_viewport_scale):
        reason = "zoom_or_screen_changed"
    elif abs(worst) > DRAWN_SIZE_TOLERANCE:
        reason = "drawn_size_off"
    else:
        reason = None
    return DrawnCheck(requested_device_px, worst, drawn_device_px, reason is None, reason)
