"""Acuity notation: every string a person reads for an acuity or a letter size, computed here only.

The server sends these strings (webapp/persistence.py) and every page, export and the browser shows
them as they are: the live view, the result page, the report, the PDF, the CSV and FHIR say the same.

Sources (docs/measurement.md §1):
- logMAR = log10(MAR in arcmin); decimal = 10^-logMAR; Snellen 20/x with x = 20 * 10^logMAR and
  6/y with y = 6 * 10^logMAR.
- Chart lines, logMAR +1.0 to -0.3 in 0.1 steps: the table of equivalent visual acuities of
  "Reporting visual acuities" (American Journal of Ophthalmology). The low-vision lines +1.1 to +1.6
  (20/250 to 20/800, 6/75 to 6/240, decimal 0.08 to 0.025) continue the same preferred-number series
  (ISO 3 R10: 20/63, 20/630), as printed by the ICO Visual Acuity Measurement Standard (International
  Council of Ophthalmology, 1984) and by ETDRS charts read at 1 m (Ferris et al. 1982, Am J
  Ophthalmol 94:91). A value beyond these lines is written as a bound ("better than 6/3").
- ETDRS letter score = 85 - 50 * logMAR (Beck et al. 2003, Am J Ophthalmol 135:194).
- Near (print at the test distance): M units (Sloan & Habel 1956): a 1M letter subtends 5 arcmin
  at 1 m, so the smallest print read at d metres is M = d * 10^logMAR, written on the chart's
  0.1 logMAR rows as ISO 3 R10 preferred numbers (0.4M, 0.5M, 0.63M, 0.8M, 1.0M at 40 cm). N point
  sizes (Law 1951, the Faculty of Ophthalmologists' test types N5 to N48): N8 is about 1M, so
  N = 8 * M, written as the nearest test-type size.
- WHO ICD-11 distance vision impairment (9D90): mild worse than 6/12, moderate worse than 6/18,
  severe worse than 6/60, blindness worse than 3/60.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

# Plausible logMAR values: one range for the whole project, defined with its sources in calibration.size.
from calibration.size import MAX_LOGMAR, MIN_LOGMAR

# The chart lines: logMAR row (in tenths) -> (20-ft denominator, 6-m denominator, decimal).
# The 6-m and decimal columns are the conventional chart labels, not exact values
# (6/20 is exactly 6/18.9; decimal 0.63 is 0.631). Rows 11-16 are the low-vision lines.
STANDARD_TABLE: dict[int, tuple[str, str, str]] = {
    16: ("800", "240", "0.025"),
    15: ("630", "190", "0.032"),
    14: ("500", "150", "0.04"),
    13: ("400", "120", "0.05"),
    12: ("320", "95", "0.063"),
    11: ("250", "75", "0.08"),
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
BEST_ROW = min(STANDARD_TABLE)  # -3: 20/10
WORST_ROW = max(STANDARD_TABLE)  # 16: 20/800

# ISO 3 R10 preferred numbers (rounded) for M units; the N point test types (Law 1951).
R10_PREFERRED = (1.0, 1.25, 1.6, 2.0, 2.5, 3.2, 4.0, 5.0, 6.3, 8.0)
N_POINT_SIZES = (5, 6, 8, 10, 12, 14, 18, 24, 36, 48)
N_POINTS_PER_M_UNIT = 8.0  # N8 is about 1M (Law 1951)

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


def _hundredths(logmar: float) -> int:
    """The logMAR as shown (two decimals), in hundredths. Every other notation is derived from this,
    so the Snellen line printed beside "0.25" is the same for every value printed "0.25"."""
    return round(round(_logmar(logmar), 2) * 100)


def _row(hundredths: int) -> int:
    """The nearest 0.1 chart row; half-way goes to the worse (larger) row, as a line is only credited
    when read (0.25 is the 0.3 row, -0.35 the -0.3 row)."""
    return (hundredths + 5) // 10


def _numerator(numerator: float) -> float:
    value = _number(numerator, "numerator")
    if value <= 0:
        raise ValueError(f"numerator must be greater than 0, got {value:g}; use 20 (feet) or 6 (metres)")
    return value


def _snellen_row(row: int, numerator: float) -> str:
    """Snellen text of a chart row (within the table): the table's labels for 20 and 6, otherwise
    numerator * 10^row rounded (e.g. "4/12.6")."""
    label = f"{numerator:g}"
    if numerator in (20.0, 6.0):
        feet, metres, _ = STANDARD_TABLE[row]
        return f"{label}/{feet if numerator == 20.0 else metres}"
    return f"{label}/{_format_denominator(numerator * 10.0 ** (row / 10.0))}"


def _beyond(row: int) -> str | None:
    """ "better" above the best chart line, "worse" below the worst, else None."""
    return "better" if row < BEST_ROW else "worse" if row > WORST_ROW else None


def _bounded(row: int, text_of_row, better: str = "better than", worse: str = "worse than") -> str:
    beyond = _beyond(row)
    if beyond == "better":
        return f"{better} {text_of_row(BEST_ROW)}"
    if beyond == "worse":
        return f"{worse} {text_of_row(WORST_ROW)}"
    return text_of_row(row)


def snellen_chart_line(logmar: float, numerator: float = 20) -> str:
    """The nearest chart line as Snellen text, e.g. "20/25", "6/7.5".

    The row is that of the logMAR as shown with two decimals (format_logmar), rounded to the
    nearest 0.1; half-way goes to the worse row. Beyond the chart's lines (better than -0.3, worse
    than +1.6) a bound: "better than 20/10", "worse than 6/240".
    """
    row = _row(_hundredths(logmar))
    numerator_value = _numerator(numerator)
    return _bounded(row, lambda r: _snellen_row(r, numerator_value))


def decimal_chart_line(logmar: float) -> str:
    """The nearest chart line as decimal text, e.g. "0.80", "0.125" (same rows as snellen_chart_line);
    beyond the lines "better than 2.00" or "worse than 0.025"."""
    row = _row(_hundredths(logmar))
    return _bounded(row, lambda r: STANDARD_TABLE[r][2])


def etdrs_letters(logmar: float) -> float:
    """ETDRS letter score: 85 - 50 * logMAR (Beck et al. 2003); 85 letters is 20/20.

    Not clipped: the printed chart spans 0 letters (logMAR 1.7) to 100 (logMAR -0.3).
    """
    return ETDRS_LETTERS_AT_LOGMAR_0 - ETDRS_LETTERS_PER_LOGMAR * _logmar(logmar)


def logmar_from_etdrs_letters(letters: float) -> float:
    """logMAR from an ETDRS letter score: (85 - letters) / 50 (Beck et al. 2003)."""
    value = _number(letters, "letters")
    return _logmar((ETDRS_LETTERS_AT_LOGMAR_0 - value) / ETDRS_LETTERS_PER_LOGMAR, f"the logMAR of {value:g} letters")


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


def _hundredths_text(hundredths: int) -> str:
    sign = "-" if hundredths < 0 else ""
    return f"{sign}{abs(hundredths) // 100}.{abs(hundredths) % 100:02d}"


def format_logmar(logmar: float) -> str:
    """logMAR for display with two decimals: "0.20", "-0.10", never "-0.00" or "+0.20"."""
    return _hundredths_text(_hundredths(logmar))


# The notations a practice may lead with at distance (describe's `lead`; VISUS_NOTATION).
LEADS = ("6m", "20ft", "decimal")

# The ETDRS chart's letter score runs from 0 to 100 (every letter read, the 20/10 line).
_MAX_ETDRS_LETTERS = 100


def _etdrs_at_row(row: int) -> int:
    return round(ETDRS_LETTERS_AT_LOGMAR_0 - ETDRS_LETTERS_PER_LOGMAR * row / 10)


def describe(
    logmar: float,
    *,
    bound: str | None = None,
    ci95: tuple[float, float] | None = None,
    size: bool = False,
    near_distance_mm: float | None = None,
    lead: str = "6m",
) -> dict[str, Any]:
    """Every string a person reads for one acuity (or, with size=True, one letter size shown).

    Keys: `logmar` ("0.24"), `snellen_6` ("6/10"), `snellen_20` ("20/32"), `decimal` ("0.63"),
    `etdrs_letters` (73: 85 - 50 * the logMAR shown, half a letter down, at most 100; None past the
    chart's lines) and `etdrs_text` ("73 letters", "more than 100 letters"), `beyond_chart` (None, "better" or "worse": past the chart's lines, where
    the Snellen and decimal texts are bounds) and `text`, the one line a clinician reads:
    "6/10 (20/32) · 0.24 logMAR"; `notation_text` is that line without the logMAR ("6/10 (20/32)"),
    what a patient reads beside plain words (webapp/patient_words.py).

    `bound` is a result's measurement bound ("<=": the smallest size the screen could draw was read,
    so the acuity is this or better; ">="): the text says "or better" / "or worse". `ci95` (low,
    high logMAR) adds `ci95_low` and `ci95_high` (each described) and `ci95_text` ("0.10 to 0.40
    logMAR"). A size is exact, so past the chart's lines it reads "smaller than 6/3" and "larger
    than 6/240" instead of better and worse.

    With `near_distance_mm` (a near test) also `n_point` ("N8") and `m_units` ("1.0M") at that
    distance, and `text` leads with them: "N8 (1.0M at 40 cm) · 0.40 logMAR".

    `lead` is the practice's notation, the one `text` leads with at distance (LEADS): "6m" (the
    default, "6/10 (20/32) · ..."), "20ft" ("20/32 (6/10) · ...") or "decimal" ("decimal 0.63
    (6/10) · ..."); every other key is the same whatever the lead.
    """
    if bound not in (None, "<=", ">="):
        raise ValueError(f"bound must be None, '<=' or '>=', got {bound!r}")
    if lead not in LEADS:
        raise ValueError(f"lead must be one of {', '.join(LEADS)}, got {lead!r}")
    hundredths = _hundredths(logmar)
    row = _row(hundredths)
    better, worse = ("smaller than", "larger than") if size else ("better than", "worse than")
    snellen_6 = _bounded(row, lambda r: _snellen_row(r, 6.0), better, worse)
    snellen_20 = _bounded(row, lambda r: _snellen_row(r, 20.0), better, worse)
    logmar_text = _hundredths_text(hundredths)
    beyond = _beyond(row)
    # 85 - 50 * hundredths / 100 letters, in whole letters with half a letter down: (170 - h) // 2.
    letters = None if beyond else min(_MAX_ETDRS_LETTERS, (2 * round(ETDRS_LETTERS_AT_LOGMAR_0) - hundredths) // 2)
    qualifier = ""
    if not size and bound == "<=" and _beyond(row) != "better":
        qualifier = " or better"
    elif not size and bound == ">=" and _beyond(row) != "worse":
        qualifier = " or worse"
    described: dict[str, Any] = {
        "logmar": logmar_text,
        "snellen_6": snellen_6,
        "snellen_20": snellen_20,
        "decimal": _bounded(row, lambda r: STANDARD_TABLE[r][2], better, worse),
        "etdrs_letters": letters,
        "etdrs_text": (
            f"{letters} letters"
            if letters is not None
            else f"more than {_MAX_ETDRS_LETTERS} letters"
            if beyond == "better"
            else f"fewer than {_etdrs_at_row(WORST_ROW)} letters"
        ),
        "beyond_chart": beyond,
    }
    first, second = {
        "6m": (snellen_6, snellen_20),
        "20ft": (snellen_20, snellen_6),
        "decimal": (" decimal ".join(described["decimal"].rpartition(" ")[::2]).strip(), snellen_6),
    }[lead]
    described["notation_text"] = f"{first} ({second}){qualifier}"
    described["text"] = f"{described['notation_text']} · {logmar_text} logMAR"
    if near_distance_mm is not None:
        near_mm = _number(near_distance_mm, "near_distance_mm")
        n_point = _n_point(hundredths, near_mm, better, worse)
        m_units = _bounded(row, lambda r: _m_units_of_row(r, near_mm), better, worse)
        described["n_point"] = n_point
        described["m_units"] = m_units
        described["notation_text"] = f"{n_point} ({m_units} at {format_distance_mm(near_mm)}){qualifier}"
        described["text"] = f"{described['notation_text']} · {logmar_text} logMAR"
    if ci95 is not None:
        low, high = (describe(value, near_distance_mm=near_distance_mm, lead=lead) for value in ci95)
        described["ci95_low"] = low
        described["ci95_high"] = high
        described["ci95_text"] = f"{low['logmar']} to {high['logmar']} logMAR"
    return described


def _m_units_of_row(row: int, near_distance_mm: float) -> str:
    """M units of a chart row at the near distance, as an R10 preferred number: "1.0M", "0.63M"."""
    tenths = round(10 * math.log10(near_distance_mm / 1000 * 10.0 ** (row / 10)))
    value = float(f"{R10_PREFERRED[tenths % 10] * 10.0 ** (tenths // 10):.6g}")
    text = f"{value:g}"
    return f"{text}.0M" if "." not in text and value < 10 else f"{text}M"


def _n_point(hundredths: int, near_distance_mm: float, better: str, worse: str) -> str:
    """The nearest N test type (in log size; half-way goes to the larger), or a bound past N5 and
    N48 (half a 0.1 row beyond them, as for the distance chart's lines)."""
    size = N_POINTS_PER_M_UNIT * near_distance_mm / 1000 * 10.0 ** (hundredths / 100)
    half_row = 10.0**0.05
    if size < N_POINT_SIZES[0] / half_row:
        return f"{better} N{N_POINT_SIZES[0]}"
    if size > N_POINT_SIZES[-1] * half_row:
        return f"{worse} N{N_POINT_SIZES[-1]}"
    nearest = min(reversed(N_POINT_SIZES), key=lambda n: abs(math.log10(n / size)))  # ties: the larger
    return f"N{nearest}"


def format_distance_mm(distance_mm: float, *, long: bool = False) -> str:
    """A distance for display: "3 m", "1.5 m" from 1 m up (0.1 m steps), "40 cm" below;
    with long=True "3 metres", "40 centimetres"."""
    value = _number(distance_mm, "distance_mm")
    if value <= 0:
        raise ValueError(f"distance_mm must be greater than 0, got {value:g}")
    if value >= 1000:
        metres = round(value / 1000, 1)
        return f"{metres:g} " + (("metre" if metres == 1 else "metres") if long else "m")
    centimetres = round(value / 10)
    return f"{centimetres} " + (("centimetre" if centimetres == 1 else "centimetres") if long else "cm")
