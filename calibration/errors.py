"""The one exception calibration code raises, and the checks that build its messages.

Every message says what was wrong and what to do about it: a calibration error is something a
patient or a clinician can cause and fix (a card drawn at the wrong size, a tape read in metres),
so it is shown to them, never swallowed.
"""

from __future__ import annotations

import math
from numbers import Real


class CalibrationError(ValueError):
    """A calibration value that is malformed or physically implausible; the message says what to do."""


def finite_number(value: object, name: str, unit: str) -> float:
    """`value` as a float, or CalibrationError when it is not a finite real number.

    bool is refused although it is an int: `True` as a distance is always a bug.
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise CalibrationError(
            f"{name} must be a number in {unit}, got {value!r} ({type(value).__name__}); "
            f"send the measured value as a number"
        )
    number = float(value)
    if not math.isfinite(number):
        raise CalibrationError(f"{name} must be a finite number in {unit}, got {number!r}; measure it again")
    return number


def positive_number(value: object, name: str, unit: str) -> float:
    """`value` as a float > 0, or CalibrationError."""
    number = finite_number(value, name, unit)
    if number <= 0:
        raise CalibrationError(f"{name} must be greater than 0 {unit}, got {number:g}; measure it again")
    return number


def non_negative_length(value: object, name: str, unit: str) -> float:
    """`value` as a float >= 0 (a length may be zero), or CalibrationError."""
    length = finite_number(value, name, unit)
    if length < 0:
        raise CalibrationError(f"a length cannot be negative, got {length:g} {unit}")
    return length
