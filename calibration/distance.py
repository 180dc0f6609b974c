"""Viewing distance: how far the patient's eye is, optically, from the optotypes.

Sources (docs/measurement.md §5):
- Tape or string: DigiVis 2 m, Home Acuity Test 150 cm, AOS and Easee 3 m.
- Mirror set-up: the optical path is twice the patient-to-mirror distance (the screen stands beside
  the patient, facing the mirror), and the optotypes must be drawn mirror-reversed.
- Blind spot, the "virtual chinrest" (Li, Joo, Yeatman, Reinecke 2020, Sci Rep 10:904): one eye
  covered, the patient fixates a square while a dot sweeps away from it and presses when the dot
  vanishes into the blind spot; d = offset_mm / tan(13.5 deg), averaged over 5 sweeps by default.
  Mean error 3.25 cm (about 6% at 53 cm); it works only at desk range (up to about 0.7 m).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from calibration.errors import CalibrationError, finite_number, positive_number

# Optical viewing distances Visus accepts. 250 mm is closer than any near-acuity standard (40 cm)
# and catches a distance typed in centimetres or metres; 8 m is beyond every distance chart (6 m,
# 20 ft) with room for a long mirror room.
MIN_VIEWING_DISTANCE_MM = 250.0
MAX_VIEWING_DISTANCE_MM = 8000.0

# Virtual chinrest (Li et al. 2020): the blind spot's edge sits 13.5 deg temporal to fixation.
BLIND_SPOT_ANGLE_DEG = 13.5
# The method only works at desk range: at 0.7 m the dot already travels 168 mm from fixation,
# the width of a small laptop screen.
MAX_BLIND_SPOT_DISTANCE_MM = 700.0
DEFAULT_BLIND_SPOT_SWEEPS = 5  # Li et al. 2020 default
MIN_BLIND_SPOT_SWEEPS = 3
# Sweeps must agree: coefficient of variation (sample SD / mean) at most 10%. Why: a distance
# error becomes an optotype-size error one for one, and ISO 10938:2016 allows 5% on size; with the
# default 5 sweeps a 10% CV bounds the standard error of their mean at 10% / sqrt(5) = 4.5%. It
# also catches one careless press: among five sweeps, one press 22% or more short of the other
# four already gives a CV above 10%.
MAX_BLIND_SPOT_CV = 0.10

DISTANCE_METHODS = ("tape", "mirror", "blind_spot")


def check_viewing_distance_mm(viewing_distance_mm: object) -> float:
    """The optical viewing distance as a float, or CalibrationError when it is implausible."""
    value = positive_number(viewing_distance_mm, "viewing_distance_mm", "mm")
    if value < MIN_VIEWING_DISTANCE_MM:
        raise CalibrationError(
            f"a viewing distance of {value:g} mm is closer than {MIN_VIEWING_DISTANCE_MM:g} mm; "
            f"check that the distance is given in millimetres and sit further from the screen"
        )
    if value > MAX_VIEWING_DISTANCE_MM:
        raise CalibrationError(
            f"a viewing distance of {value:g} mm is beyond {MAX_VIEWING_DISTANCE_MM:g} mm; "
            f"check that the distance is given in millimetres and sit closer to the screen"
        )
    return value


@dataclass(frozen=True)
class ViewingDistance:
    """A validated viewing distance.

    `viewing_distance_mm` is the optical distance used to size the optotypes (for a mirror, twice
    the patient-to-mirror distance); `mirrored` says the optotypes must be drawn mirror-reversed.
    """

    viewing_distance_mm: float
    method: str  # "tape" | "mirror" | "blind_spot"
    mirrored: bool

    def __post_init__(self) -> None:
        if self.method not in DISTANCE_METHODS:
            raise CalibrationError(f"unknown distance method {self.method!r}; use one of {', '.join(DISTANCE_METHODS)}")
        if not isinstance(self.mirrored, bool):
            raise CalibrationError(f"mirrored must be true or false, got {self.mirrored!r}")
        # Only a mirror reverses the image; a record saying otherwise contradicts itself.
        if self.mirrored != (self.method == "mirror"):
            raise CalibrationError(
                f"mirrored={self.mirrored} does not match the distance method {self.method!r}: "
                f"only the mirror method shows mirror-reversed optotypes; set the distance again"
            )
        object.__setattr__(self, "viewing_distance_mm", check_viewing_distance_mm(self.viewing_distance_mm))

    def to_dict(self) -> dict[str, Any]:
        return {
            "viewing_distance_mm": self.viewing_distance_mm,
            "method": self.method,
            "mirrored": self.mirrored,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ViewingDistance:
        if not isinstance(data, Mapping):
            raise CalibrationError(f"a viewing distance must be a mapping, got {type(data).__name__}")
        missing = [key for key in ("viewing_distance_mm", "method", "mirrored") if key not in data]
        if missing:
            raise CalibrationError(f"viewing distance is missing {', '.join(missing)}; set the distance again")
        return cls(data["viewing_distance_mm"], data["method"], data["mirrored"])


def distance_from_tape(distance_mm: float) -> ViewingDistance:
    """A distance measured with a tape or string from the eye to the screen, in mm."""
    return ViewingDistance(_within_range(distance_mm, "distance_mm", "the tape distance", "screen"), "tape", False)


def distance_from_mirror(patient_to_mirror_mm: float) -> ViewingDistance:
    """A mirror set-up: the optical path, screen to mirror to eye, is twice the eye-to-mirror distance.

    Assumes the screen stands beside the patient's head, in the same plane, facing the mirror.
    """
    patient_to_mirror = positive_number(patient_to_mirror_mm, "patient_to_mirror_mm", "mm")
    optical_mm = 2.0 * patient_to_mirror
    if not MIN_VIEWING_DISTANCE_MM <= optical_mm <= MAX_VIEWING_DISTANCE_MM:
        raise CalibrationError(
            f"{patient_to_mirror:g} mm to the mirror gives an optical distance of {optical_mm:g} mm, "
            f"outside {MIN_VIEWING_DISTANCE_MM:g} to {MAX_VIEWING_DISTANCE_MM:g} mm; stand between "
            f"{MIN_VIEWING_DISTANCE_MM / 2:g} and {MAX_VIEWING_DISTANCE_MM / 2:g} mm from the mirror "
            f"and give the distance in millimetres"
        )
    return ViewingDistance(optical_mm, "mirror", True)


def distance_from_blind_spot(
    offsets_mm: Sequence[float],
    *,
    blind_spot_angle_deg: float = BLIND_SPOT_ANGLE_DEG,
    min_sweeps: int = MIN_BLIND_SPOT_SWEEPS,
    max_cv: float = MAX_BLIND_SPOT_CV,
) -> ViewingDistance:
    """Distance from blind-spot sweeps (Li et al. 2020): mean offset_mm / tan(13.5 deg).

    `offsets_mm` holds, per sweep, the on-screen distance in mm between the fixation square's
    centre and the dot's centre when the patient pressed (convert from CSS px with the screen
    scale first). Five sweeps are expected; fewer than `min_sweeps`, sweeps that disagree (CV above
    `max_cv`) or a distance beyond desk range (0.7 m) are refused.
    """
    if isinstance(offsets_mm, (str, bytes)) or not isinstance(offsets_mm, Sequence):
        raise CalibrationError(f"offsets_mm must be a list of sweep offsets in mm, got {type(offsets_mm).__name__}")
    if isinstance(min_sweeps, bool) or not isinstance(min_sweeps, int) or min_sweeps < 2:
        raise CalibrationError(f"min_sweeps must be a whole number of at least 2, got {min_sweeps!r}")
    cv_limit = positive_number(max_cv, "max_cv", "(a fraction)")
    offsets = [positive_number(offset, f"offsets_mm[{i}]", "mm") for i, offset in enumerate(offsets_mm)]
    if len(offsets) < min_sweeps:
        raise CalibrationError(
            f"only {len(offsets)} blind-spot sweep(s); repeat the test until at least {min_sweeps} "
            f"sweeps are done ({DEFAULT_BLIND_SPOT_SWEEPS} recommended)"
        )
    angle_deg = finite_number(blind_spot_angle_deg, "blind_spot_angle_deg", "degrees")
    if not 5.0 <= angle_deg <= 25.0:
        raise CalibrationError(f"blind_spot_angle_deg {angle_deg:g} is not a blind-spot angle; use 13.5")
    mean_offset = statistics.fmean(offsets)
    cv = statistics.stdev(offsets) / mean_offset
    if cv > cv_limit:
        raise CalibrationError(
            f"the blind-spot sweeps disagree (they vary by {cv:.0%}, at most {cv_limit:.0%} is accepted): "
            f"keep your head still, keep looking at the square and press as soon as the dot vanishes, "
            f"then repeat the sweeps"
        )
    distance_mm = mean_offset / math.tan(math.radians(angle_deg))
    if distance_mm > MAX_BLIND_SPOT_DISTANCE_MM:
        raise CalibrationError(
            f"the blind spot puts you {distance_mm:.0f} mm from the screen, beyond the "
            f"{MAX_BLIND_SPOT_DISTANCE_MM:.0f} mm this method works to; measure the distance with a tape"
        )
    if distance_mm < MIN_VIEWING_DISTANCE_MM:
        raise CalibrationError(
            f"the blind spot puts you {distance_mm:.0f} mm from the screen, closer than "
            f"{MIN_VIEWING_DISTANCE_MM:.0f} mm; sit further back and repeat the sweeps"
        )
    return ViewingDistance(distance_mm, "blind_spot", False)


def _within_range(value: object, name: str, what: str, target: str) -> float:
    distance = positive_number(value, name, "mm")
    if distance < MIN_VIEWING_DISTANCE_MM:
        raise CalibrationError(
            f"{what} of {distance:g} mm is closer than {MIN_VIEWING_DISTANCE_MM:g} mm; give it in "
            f"millimetres (2 m is 2000) and sit at least {MIN_VIEWING_DISTANCE_MM:g} mm from the {target}"
        )
    if distance > MAX_VIEWING_DISTANCE_MM:
        raise CalibrationError(
            f"{what} of {distance:g} mm is beyond {MAX_VIEWING_DISTANCE_MM:g} mm; give it in "
            f"millimetres (2 m is 2000) and sit at most {MAX_VIEWING_DISTANCE_MM:g} mm from the {target}"
        )
    return distance
