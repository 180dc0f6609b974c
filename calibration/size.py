"""Optotype size: from logMAR and viewing distance to millimetres, CSS pixels and device pixels.

Sources (docs/measurement.md §1, §2):
- A logMAR-0 optotype is 5 arcmin tall, its stroke and gap 1 arcmin; one logMAR step of 0.1 is a
  size factor of 10^0.1 (ISO 8596, Bailey & Lovie 1976).
- Height at viewing distance d: h = 2 d tan((5/60 deg) * 10^logMAR / 2). At 6 m logMAR 0.0 is
  8.73 mm and 1.0 is 87.3 mm.
- device px = CSS px * devicePixelRatio (CSSOM View).
"""

from __future__ import annotations

import math

from calibration.distance import check_viewing_distance_mm
from calibration.errors import CalibrationError, finite_number, non_negative_length, positive_number
from calibration.screen import check_css_px_per_mm, check_device_pixel_ratio

# An optotype is 5 strokes tall (Sloan letters, tumbling E, Landolt C: 5 x 5 grid).
STROKES_PER_OPTOTYPE = 5
# Angle of a logMAR-0 optotype, in degrees: 5 arcmin.
LOGMAR0_OPTOTYPE_DEG = 5.0 / 60.0
# logMAR values Visus sizes. -1.0 (20/2) is far beyond the best human acuity (about -0.3);
# 3.0 covers the low-vision conventions (counting fingers about 1.9, hand motion about 2.3;
# Schulze-Bonsel et al. 2006). Outside this a value is not a logMAR, e.g. a Snellen denominator.
MIN_LOGMAR = -1.0
MAX_LOGMAR = 3.0


def check_logmar(logmar: object) -> float:
    """`logmar` as a float, or CalibrationError when it is not a plausible logMAR."""
    value = finite_number(logmar, "logmar", "logMAR")
    if not MIN_LOGMAR <= value <= MAX_LOGMAR:
        raise CalibrationError(
            f"logMAR {value:g} is outside {MIN_LOGMAR:g} to {MAX_LOGMAR:g}; pass a logMAR value "
            f"(20/20 is 0.0, 20/200 is 1.0), not a Snellen fraction or a decimal acuity"
        )
    return value


def height_mm_unchecked(logmar: float, viewing_distance_mm: float) -> float:
    """h = 2 d tan(5 arcmin * 10^logMAR / 2), for callers that have validated their input."""
    angle_rad = math.radians(LOGMAR0_OPTOTYPE_DEG * 10.0**logmar)
    return 2.0 * viewing_distance_mm * math.tan(angle_rad / 2.0)


def logmar_unchecked(height_mm: float, viewing_distance_mm: float) -> float:
    """Inverse of `height_mm_unchecked`, for callers that have validated their input."""
    angle_deg = math.degrees(2.0 * math.atan(height_mm / (2.0 * viewing_distance_mm)))
    return math.log10(angle_deg / LOGMAR0_OPTOTYPE_DEG)


def optotype_height_mm(logmar: float, viewing_distance_mm: float) -> float:
    """Physical optotype height in mm for `logmar` at the optical `viewing_distance_mm`."""
    return height_mm_unchecked(check_logmar(logmar), check_viewing_distance_mm(viewing_distance_mm))


def logmar_from_height_mm(height_mm: float, viewing_distance_mm: float) -> float:
    """The logMAR of an optotype `height_mm` tall seen from `viewing_distance_mm`."""
    height = positive_number(height_mm, "height_mm", "mm")
    logmar = logmar_unchecked(height, check_viewing_distance_mm(viewing_distance_mm))
    if not MIN_LOGMAR <= logmar <= MAX_LOGMAR:
        raise CalibrationError(
            f"an optotype {height:g} mm tall at {viewing_distance_mm:g} mm is logMAR {logmar:.2f}, "
            f"outside {MIN_LOGMAR:g} to {MAX_LOGMAR:g}; check the units (mm) of height and distance"
        )
    return logmar


def stroke_mm(logmar: float, viewing_distance_mm: float) -> float:
    """Stroke (and gap) width in mm: one fifth of the optotype height.

    The optotype is drawn as a 5 x 5 grid scaled as a whole, so the stroke drawn is exactly
    height / 5; up to logMAR 1.3 it subtends 1 arcmin * 10^logMAR to better than 0.01% (tan is
    linear at such small angles).
    """
    return optotype_height_mm(logmar, viewing_distance_mm) / STROKES_PER_OPTOTYPE


def mm_to_css_px(mm: float, css_px_per_mm: float) -> float:
    """A length in mm as CSS px on a screen with the given scale."""
    length = non_negative_length(mm, "mm", "mm")
    return length * check_css_px_per_mm(css_px_per_mm)


def css_px_to_mm(css_px: float, css_px_per_mm: float) -> float:
    """A length in CSS px as mm on a screen with the given scale."""
    length = non_negative_length(css_px, "css_px", "CSS px")
    return length / check_css_px_per_mm(css_px_per_mm)


def css_px_to_device_px(css_px: float, device_pixel_ratio: float) -> float:
    """CSS px to device (hardware) px: times devicePixelRatio."""
    length = non_negative_length(css_px, "css_px", "CSS px")
    return length * check_device_pixel_ratio(device_pixel_ratio)


def device_px_to_css_px(device_px: float, device_pixel_ratio: float) -> float:
    """Device (hardware) px to CSS px: divided by devicePixelRatio."""
    length = non_negative_length(device_px, "device_px", "device px")
    return length / check_device_pixel_ratio(device_pixel_ratio)


def optotype_height_css_px(logmar: float, viewing_distance_mm: float, css_px_per_mm: float) -> float:
    """Optotype height in CSS px: what the page is told to draw."""
    return optotype_height_mm(logmar, viewing_distance_mm) * check_css_px_per_mm(css_px_per_mm)


def logmar_from_height_css_px(height_css_px: float, viewing_distance_mm: float, css_px_per_mm: float) -> float:
    """The logMAR of an optotype drawn `height_css_px` tall (inverse of `optotype_height_css_px`)."""
    height = positive_number(height_css_px, "height_css_px", "CSS px")
    return logmar_from_height_mm(height / check_css_px_per_mm(css_px_per_mm), viewing_distance_mm)


# Words the patient reads from where they stand (the display's messages at the mark) are sized so
# that someone who sees 6/60 (logMAR 1.0, the usual limit of a chart's top line) reads them at the
# viewing distance: a capital letter as tall as a logMAR-1.0 optotype, 5 arcmin x 10^1.0 = 50 arcmin
# (ISO 8596; the same rule as `optotype_height_mm`). A font's capital letters are about 0.7 of its
# size (cap height / em: Helvetica and Arial 0.716, DejaVu Sans 0.729, Roboto 0.711, from the
# fonts' OS/2 sCapHeight); 0.7 errs on the large side.
MARK_TEXT_LOGMAR = 1.0
CAP_HEIGHT_PER_EM = 0.7


def readable_text_css_px(viewing_distance_mm: float, css_px_per_mm: float, logmar: float = MARK_TEXT_LOGMAR) -> float:
    """The CSS font size at which a capital letter subtends the optotype height of `logmar` at
    `viewing_distance_mm` (the text's size for a reader of that acuity)."""
    return optotype_height_css_px(logmar, viewing_distance_mm, css_px_per_mm) / CAP_HEIGHT_PER_EM
