"""What a screen can draw: the logMAR range measurable on this screen at this distance.

Sources (docs/measurement.md §3, §6):
- ISO 10938:2016 (chart displays, electronic ones included): the critical detail within 5% of its
  nominal size; anti-aliasing must not change perceived size beyond that; optotype luminance at
  most 15% of the background (at least 85% contrast).
- FrACT (Bach 1996) draws strokes down to 0.5 CSS px with anti-aliasing, which gives about 4x finer
  size steps than whole pixels.
- ETDRS / Bailey-Lovie charts: letter spacing of one letter width. Crowding bars as in FrACT.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

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

# Smallest stroke (= gap, the critical detail) Visus draws: 2 device px. Why not less:
# - The page draws SVG paths at fractional sizes with anti-aliasing. A pixel's grey level is its
#   coverage, so the ink of a stroke, and the centroid of each edge, are exact at any width: the
#   size is right (the page's measured bounding box is checked against the 5% of ISO 10938 with
#   `drawn_size_ok`). What a thin stroke loses is contrast, not size.
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
# The cost: on a 96-dpi monitor at devicePixelRatio 1 (3.78 CSS px per mm) at 2 m the smallest
# optotype is logMAR -0.04; at 3 m, -0.22; a laptop at devicePixelRatio 2 reaches -0.3 at 2 m.
MIN_STROKE_DEVICE_PX = 2.0

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

    min_logmar: float  # smallest optotype: its stroke is MIN_STROKE_DEVICE_PX
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
    if isinstance(viewport_css_px, (str, bytes)) or not isinstance(viewport_css_px, Sequence) or len(viewport_css_px) != 2:
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
    """Height of the smallest drawable optotype: 5 strokes of MIN_STROKE_DEVICE_PX."""
    return STROKES_PER_OPTOTYPE * MIN_STROKE_DEVICE_PX / scale.device_px_per_mm


def _largest_height_mm(
    scale: ScreenScale, viewport_css_px: object, crowding: bool, margin_fraction: object, optotypes_per_row: int
) -> float:
    """Height of the largest optotype whose whole stimulus fits the usable viewport."""
    usable_width, usable_height = _usable_viewport_css_px(viewport_css_px, margin_fraction)
    width_heights, height_heights = stimulus_extent_in_heights(
        crowding=crowding, optotypes_per_row=optotypes_per_row
    )
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

    min: the optotype whose stroke is MIN_STROKE_DEVICE_PX device px; max: the largest whose
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


def drawn_size_ok(
    requested_css_px: float, drawn_css_px: float, tolerance: float = ISO10938_SIZE_TOLERANCE
) -> bool:
    """Whether the size the page reports it drew is within `tolerance` (ISO 10938: 5%) of the request."""
    requested = positive_number(requested_css_px, "requested_css_px", "CSS px")
    drawn = finite_number(drawn_css_px, "drawn_css_px", "CSS px")
    if drawn < 0:
        raise CalibrationError(f"drawn_css_px cannot be negative, got {drawn:g}; report the drawn size again")
    limit = finite_number(tolerance, "tolerance", "(a fraction)")
    if not 0.0 <= limit < 1.0:
        raise CalibrationError(f"tolerance must be a fraction from 0 to below 1, got {limit:g}; use 0.05")
    return abs(drawn - requested) <= limit * requested
