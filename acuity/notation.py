"""Acuity notation: logMAR to decimal, Snellen, ETDRS letters and the WHO impairment category.

Sources (docs/measurement.md §1):
- logMAR = log10(MAR in arcmin); decimal = 10^-logMAR; Snellen 20/x with x = 20 * 10^logMAR and
  6/y with y = 6 * 10^logMAR.
- Chart lines: the standard table of "Reporting visual acuities" (American Journal of
  Ophthalmology), logMAR +1.0 to -0.3 in 0.1 steps.
- ETDRS letter score = 85 - 50 * logMAR (Beck et al. 2003, Am J Ophthalmol 135:194).
- WHO ICD-11 distance vision impairment (9D90): mild worse than 6/12, moderate worse than 6/18,
  severe worse than 6/60, blindness worse than 3/60.
"""
from __future__ import annotations

import math
from numbers import Real

# Plausible logMAR values: one range for the whole project, defined with its sources in calibration.size.
from calibration.size import MAX_LOGMAR, MIN_LOGMAR

# The standard table: logMAR row (in tenths) -> (20-ft denominator, 6-m denominator, decimal).
# The 6-m and decimal columns are the conventional chart labels, not exact values
# (6/20 is exactly 6/18.9; decimal 0.63 is 0.631).
STANDARD_TABLE: dict[int, tuple[str, str, str]] = {
    10: ("200", "60", "0.10"),
    9: ("160", "48", "0.125"),
    8: ("125", "38", "0.16"),
    7: ("100", "30", "0.20"),
    6: ("80", "24", "0.25"),
    5: ("63", "20", "0.32"),
    4: ("50", "15", "0.40"),
    3: ("40", "12", "0.50"),
    2: ("32", "10", "0.63"),
    1: ("25", "7.5", "0.80"),
    0: ("20", "6", "1.00"),
    -1: ("16", "5", "1.25"),
    -2: ("12.5", "3.75", "1.60"),
    -3: ("10", "3", "2.00"),
}

# ETDRS letter score at logMAR 0 and letters per logMAR unit (Beck et al. 2003).
ETDRS_LETTERS_AT_LOGMAR_0 = 85.0
ETDRS_LETTERS_PER_LOGMAR = 50.0

# ICD-11 9D90 boundaries in logMAR: a category applies when acuity is *worse than* (logMAR strictly
# greater than) its boundary, so exactly 6/12 is "none" and exactly 6/60 is "moderate".
WHO_BOUNDARIES: tuple[tuple[str, float], ...] = (
    ("blindness", math.log10(60 / 3)),  # worse than 3/60: logMAR > 1.30103
    ("severe", math.log10(60 / 6)),  # worse than 6/60: logMAR > 1.0
    ("moderate", math.log10(18 / 6)),  # worse than 6/18: logMAR > 0.47712
    ("mild", math.log10(12 / 6)),  # worse than 6/12: logMAR > 0.30103
)
# A value within this of a boundary counts as on it: -log10(0.5) and log10(2) may differ in the
# last bit, and "exactly 6/12" must not turn mild through rounding.
_BOUNDARY_EPSILON_LOGMAR = 1e-9


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {number!r}")
    return number


def _logmar(value: object, name: str = "logmar") -> float:
    logmar = _number(value, name)
    if not MIN_LOGMAR <= logmar <= MAX_LOGMAR:
        raise ValueError(
            f"{name} {logmar:g} is outside {MIN_LOGMAR:g} to {MAX_LOGMAR:g}; pass a logMAR value "
            f"(20/20 is 0.0, 20/200 is 1.0), not a Snellen denominator or a letter count"
        )
    return logmar


def decimal_from_logmar(logmar: float) -> float:
    """Decimal acuity: 10^-logMAR (logMAR 0.0 is 1.0, logMAR 1.0 is 0.1)."""
    return 10.0 ** -_logmar(logmar)


def logmar_from_decimal(decimal: float) -> float:
    """logMAR from decimal acuity: -log10(decimal); decimal must be greater than 0."""
    value = _number(decimal, "decimal")
    if value <= 0:
        raise ValueError(f"decimal acuity must be greater than 0, got {value:g}; 20/40 is decimal 0.5")
    return _logmar(-math.log10(value), f"the logMAR of decimal {value:g}")


def snellen_denominator(logmar: float, numerator_distance: float = 20) -> float:
    """Exact Snellen denominator: numerator * 10^logMAR (20/x in feet, 6/y with numerator 6)."""
    numerator = _number(numerator_distance, "numerator_distance")
    if numerator <= 0:
        raise ValueError(f"numerator_distance must be greater than 0, got {numerator:g}; use 20 (feet) or 6 (metres)")
    return numerator * 10.0 ** _logmar(logmar)


def _format_denominator(value: float) -> str:
    """A denominator for display: whole above 100, otherwise 3 significant figures (12.5, 3.75)."""
    if value >= 100:
        return str(round(value))
    return f"{float(f'{value:.3g}'):g}"


def snellen_chart_line(logmar: float, numerator: float = 20) -> str:
    """The nearest chart line as Snellen text, e.g. "20/25", "6/7.5".

    Rounds to the nearest 0.1 logMAR row; a value half-way between rows goes to the worse
    (larger) one, as a chart line is only credited when read. Numerators 20 and 6 use the
    standard table's labels; other numerators, and rows beyond the table (worse than 1.0, better
    than -0.3), give numerator * 10^row rounded (e.g. "20/400", "4/12.6").
    """
    value = _logmar(logmar)
    numerator_value = _number(numerator, "numerator")
    if numerator_value <= 0:
        raise ValueError(f"numerator must be greater than 0, got {numerator_value:g}; use 20 (feet) or 6 (metres)")
    row = math.floor(value * 10.0 + 0.5)
    label = f"{numerator_value:g}"
    if row in STANDARD_TABLE and numerator_value in (20.0, 6.0):
        feet, metres, _ = STANDARD_TABLE[row]
        return f"{label}/{feet if numerator_value == 20.0 else metres}"
    return f"{label}/{_format_denominator(numerator_value * 10.0 ** (row / 10.0))}"


def decimal_chart_line(logmar: float) -> str:
    """The nearest chart line as decimal text, e.g. "0.80", "0.125" (same rows as snellen_chart_line).

    Beyond the table's rows, 10^-row with 2 significant figures (e.g. "0.050", "2.5").
    """
    row = math.floor(_logmar(logmar) * 10.0 + 0.5)
    if row in STANDARD_TABLE:
        return STANDARD_TABLE[row][2]
    value = float(f"{10.0 ** (-row / 10.0):.2g}")
    return f"{value:.3f}" if value < 0.1 else f"{value:g}"


def etdrs_letters(logmar: float) -> float:
    """ETDRS letter score: 85 - 50 * logMAR (Beck et al. 2003); 85 letters is 20/20.

    Not clipped: the printed chart spans 0 letters (logMAR 1.7) to 100 (logMAR -0.3).
    """
    return ETDRS_LETTERS_AT_LOGMAR_0 - ETDRS_LETTERS_PER_LOGMAR * _logmar(logmar)


def logmar_from_etdrs_letters(letters: float) -> float:
    """logMAR from an ETDRS letter score: (85 - letters) / 50 (Beck et al. 2003)."""
    value = _number(letters, "letters")
    return _logmar(
        (ETDRS_LETTERS_AT_LOGMAR_0 - value) / ETDRS_LETTERS_PER_LOGMAR, f"the logMAR of {value:g} letters"
    )


def who_category(logmar: float) -> str:
    """WHO ICD-11 distance vision impairment: "none", "mild", "moderate", "severe" or "blindness".

    The categories are defined on presenting distance acuity (with the correction the person
    usually wears, if any) of the better eye; applied to one eye's or a best-corrected result, the
    label describes that acuity, not the person's WHO category. Boundaries are strict: a category
    applies when acuity is worse than its line, so exactly 6/12 (logMAR 0.30103) is "none" and
    exactly 6/60 (1.0) is "moderate".
    """
    value = _logmar(logmar)
    for category, boundary in WHO_BOUNDARIES:
        if value > boundary + _BOUNDARY_EPSILON_LOGMAR:
            return category
    return "none"


def format_logmar(logmar: float) -> str:
    """logMAR for display with two decimals: "0.20", "-0.10", never "-0.00"."""
    value = round(_logmar(logmar), 2)
    if value == 0:
        value = 0.0  # no "-0.00"
    return f"{value:.2f}"
