"""The webcam distance guard's arithmetic (docs/measurement.md, "Distance guard").

A camera sees the eyes' spacing shrink in inverse proportion to their distance (the pinhole model:
size_px = focal_px * size_mm / distance_mm). The guard records the spacing once at the calibrated
distance (the reference) and reads every later spacing against it:

    distance_mm = reference_distance_mm * reference_spacing_px / spacing_px

so the camera's focal length and the patient's real eye spacing cancel out; what is left is the
reference distance's own error (carried over one to one) and the landmark noise. The spacing is
between the eyes' centres taken from their corners (face-mesh landmarks 33/133 and 362/263), not
from the iris centres, which move together by about 5% when the eyes converge on a near target.
"""

from __future__ import annotations

from calibration.errors import CalibrationError, finite_number

# Far set-ups (the tape or the mirror, 2 to 4 m): a change of 10% is 0.04 logMAR (log10(1.1)), a
# fifth of a chart line. The median of about a second of frames varies far less than that at the mark
# (bench/distance_guard.py, docs/measurement.md), so a patient who stays put is not stopped, and one
# who moves by a step (15% at 3 m is 45 cm) is.
FAR_TOLERANCE = 0.10
# Near (40 cm): the face fills much of the frame, the spacing is measured to a fraction of a percent,
# and 5% (0.02 logMAR, 2 cm) is what a near card's distance is held to by a string or a ruler.
NEAR_TOLERANCE = 0.05
# Below this the set-up is a near one (the blind-spot sweep measures 25 to 80 cm).
NEAR_LIMIT_MM = 1000.0

# What a camera frame can plausibly hold: eyes at least 4 px apart (a face 4 m away on a 640 px wide
# frame is about 9), and at most the width of an 8K frame.
MIN_SPACING_PX = 4.0
MAX_SPACING_PX = 8000.0


def tolerance_for(reference_distance_mm: float) -> float:
    """The fraction the distance may drift from the reference before the test pauses."""
    return NEAR_TOLERANCE if reference_distance_mm < NEAR_LIMIT_MM else FAR_TOLERANCE


def spacing_px(value: object, name: str = "eye_spacing_px") -> float:
    """A reported eye spacing, checked to be one a camera frame can hold."""
    spacing = finite_number(value, name, "px")
    if not MIN_SPACING_PX <= spacing <= MAX_SPACING_PX:
        raise CalibrationError(
            f"{name} must be from {MIN_SPACING_PX:g} to {MAX_SPACING_PX:g} px (the eyes' spacing in a camera "
            f"frame), got {spacing:g}; come closer to the camera or check that the whole face is in view"
        )
    return spacing


def distance_mm(reference_distance_mm: float, reference_spacing_px: float, sample_spacing_px: float) -> float:
    """The distance a spacing stands for, from the reference taken at a known distance (pinhole model)."""
    return reference_distance_mm * spacing_px(reference_spacing_px) / spacing_px(sample_spacing_px)


def deviation(reference_spacing_px: float, sample_spacing_px: float) -> float:
    """How far the estimate is from the reference distance, as a signed fraction (+0.1: 10% further)."""
    return spacing_px(reference_spacing_px) / spacing_px(sample_spacing_px) - 1.0
