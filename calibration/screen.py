"""Screen scale: how many CSS pixels make a millimetre on this screen, at this zoom.

Sources (docs/measurement.md §4):
- ISO/IEC 7810:2019, ID-1 format: 85.60 mm x 53.98 mm (bank and identity cards).
- Card-matching method: jsPsych virtual-chinrest (Li et al. 2020, Sci Rep 10:904), FrACT (Bach),
  DigiVis: the patient resizes an on-screen card until it covers a real card held against the
  screen; CSS px per mm = on-screen card width in CSS px / 85.60.
- device px = CSS px * window.devicePixelRatio (CSSOM View). Browser zoom changes both
  devicePixelRatio and CSS px per mm, so a zoom or a move to another monitor invalidates a scale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from calibration.errors import CalibrationError, positive_number

# ISO/IEC 7810 ID-1 card.
ID1_CARD_WIDTH_MM = 85.60
ID1_CARD_HEIGHT_MM = 53.98

# Plausible CSS px per mm (docs/measurement.md §4, derived). At 100% zoom a 32" 1080p monitor has
# about 2.7, a 24" 1080p 3.6, a 13" laptop at devicePixelRatio 2 about 4.5, a phone about 6; zoom
# multiplies these (400% zoom on a phone is about 25). Outside 2.5..25 the card was mis-set.
# Note: a 1080p television larger than about 35" falls below 2.5 and is refused.
MIN_CSS_PX_PER_MM = 2.5
MAX_CSS_PX_PER_MM = 25.0
# window.devicePixelRatio: 0.5 (zoomed out to 50% on a standard screen) to 8 (high-density phone
# zoomed in); browsers clamp zoom to 25%-500%.
MIN_DEVICE_PIXEL_RATIO = 0.5
MAX_DEVICE_PIXEL_RATIO = 8.0
# A ruler length shorter than this cannot be read well enough: a 1 mm reading error on 20 mm is
# already the 5% size tolerance of ISO 10938:2016.
MIN_RULER_LENGTH_MM = 20.0

SCALE_METHODS = ("card", "ruler")


def check_css_px_per_mm(css_px_per_mm: object) -> float:
    """The value as a float, or CalibrationError when it is outside what a real screen can have."""
    value = positive_number(css_px_per_mm, "css_px_per_mm", "CSS px per mm")
    if not MIN_CSS_PX_PER_MM <= value <= MAX_CSS_PX_PER_MM:
        raise CalibrationError(
            f"a screen scale of {value:.3g} CSS px per mm is outside the range real screens have "
            f"({MIN_CSS_PX_PER_MM:g} to {MAX_CSS_PX_PER_MM:g}); calibrate the screen again with a bank card"
        )
    return value


def check_device_pixel_ratio(device_pixel_ratio: object) -> float:
    """The value as a float, or CalibrationError when no browser reports such a ratio."""
    value = positive_number(device_pixel_ratio, "device_pixel_ratio", "device px per CSS px")
    if not MIN_DEVICE_PIXEL_RATIO <= value <= MAX_DEVICE_PIXEL_RATIO:
        raise CalibrationError(
            f"a devicePixelRatio of {value:g} is outside {MIN_DEVICE_PIXEL_RATIO:g} to "
            f"{MAX_DEVICE_PIXEL_RATIO:g}; reset the browser zoom to 100% (Ctrl+0) and calibrate again"
        )
    return value


def _refuse_scale(css_px_per_mm: float, what: str, fix: str) -> None:
    """Raise when `css_px_per_mm` is implausible, saying how far off `what` is drawn."""
    if css_px_per_mm < MIN_CSS_PX_PER_MM:
        factor = MIN_CSS_PX_PER_MM / css_px_per_mm
        raise CalibrationError(
            f"the {what} is drawn at least {factor:.1f}x too small ({css_px_per_mm:.3g} CSS px per mm, "
            f"real screens have {MIN_CSS_PX_PER_MM:g} or more): {fix}"
        )
    if css_px_per_mm > MAX_CSS_PX_PER_MM:
        factor = css_px_per_mm / MAX_CSS_PX_PER_MM
        raise CalibrationError(
            f"the {what} is drawn at least {factor:.1f}x too large ({css_px_per_mm:.3g} CSS px per mm, "
            f"real screens have {MAX_CSS_PX_PER_MM:g} or fewer): {fix}"
        )


def css_px_per_mm_from_card(card_width_css_px: float) -> float:
    """CSS px per mm from the width, in CSS px, of an on-screen card matched to a real ID-1 card."""
    width = positive_number(card_width_css_px, "card_width_css_px", "CSS px")
    css_px_per_mm = width / ID1_CARD_WIDTH_MM
    _refuse_scale(
        css_px_per_mm,
        "card",
        "drag the slider until the on-screen card exactly covers your real card "
        "(a bank card held flat against the screen)",
    )
    return css_px_per_mm


def css_px_per_mm_from_ruler(length_css_px: float, length_mm: float) -> float:
    """CSS px per mm from an on-screen line of `length_css_px` measured with a ruler as `length_mm`."""
    length_px = positive_number(length_css_px, "length_css_px", "CSS px")
    length_mm_value = positive_number(length_mm, "length_mm", "mm")
    if length_mm_value < MIN_RULER_LENGTH_MM:
        raise CalibrationError(
            f"a ruler reading of {length_mm_value:g} mm is too short to give the screen scale within 5%; "
            f"measure a line at least {MIN_RULER_LENGTH_MM:g} mm long"
        )
    css_px_per_mm = length_px / length_mm_value
    _refuse_scale(
        css_px_per_mm,
        "line",
        "check that the ruler reading is in millimetres (not cm or inches) and measure the line again",
    )
    return css_px_per_mm


def device_px_per_mm(css_px_per_mm: float, device_pixel_ratio: float) -> float:
    """Device (hardware) px per mm: CSS px per mm times devicePixelRatio."""
    return check_css_px_per_mm(css_px_per_mm) * check_device_pixel_ratio(device_pixel_ratio)


@dataclass(frozen=True)
class ScreenScale:
    """A validated screen calibration; constructing one with implausible values raises."""

    css_px_per_mm: float
    device_pixel_ratio: float
    method: str  # "card" | "ruler"

    def __post_init__(self) -> None:
        object.__setattr__(self, "css_px_per_mm", check_css_px_per_mm(self.css_px_per_mm))
        object.__setattr__(self, "device_pixel_ratio", check_device_pixel_ratio(self.device_pixel_ratio))
        if self.method not in SCALE_METHODS:
            raise CalibrationError(
                f"unknown screen calibration method {self.method!r}; use one of {', '.join(SCALE_METHODS)}"
            )

    @property
    def device_px_per_mm(self) -> float:
        return self.css_px_per_mm * self.device_pixel_ratio

    def to_dict(self) -> dict[str, Any]:
        return {
            "css_px_per_mm": self.css_px_per_mm,
            "device_pixel_ratio": self.device_pixel_ratio,
            "method": self.method,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScreenScale:
        if not isinstance(data, Mapping):
            raise CalibrationError(f"a screen scale must be a mapping, got {type(data).__name__}")
        missing = [key for key in ("css_px_per_mm", "device_pixel_ratio", "method") if key not in data]
        if missing:
            raise CalibrationError(f"screen scale is missing {', '.join(missing)}; calibrate the screen again")
        return cls(data["css_px_per_mm"], data["device_pixel_ratio"], data["method"])


def screen_scale(css_px_per_mm: float, device_pixel_ratio: float, method: str) -> ScreenScale:
    """A ScreenScale, or CalibrationError with a message that says what to do."""
    return ScreenScale(css_px_per_mm, device_pixel_ratio, method)
