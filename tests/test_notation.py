"""acuity.notation against the standard table (docs/measurement.md §1; Am J Ophthalmol, ICO 1984), Beck 2003 and ICD-11."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acuity.notation import (
    decimal_chart_line,
    decimal_from_logmar,
    describe,
    etdrs_letters,
    format_distance_mm,
    format_logmar,
    logmar_from_decimal,
    logmar_from_etdrs_letters,
    snellen_chart_line,
    snellen_denominator,
    who_category,
)

# "Reporting visual acuities" (Am J Ophthalmol): all 14 rows, +1.0 to -0.3; then the low-vision
# lines +1.1 to +1.6 as the ICO Visual Acuity Measurement Standard (1984) prints them (R10 series).
STANDARD_TABLE = [
    ("20/800", "6/240", "0.025", 1.6),
    ("20/630", "6/190", "0.032", 1.5),
    ("20/500", "6/150", "0.04", 1.4),
    ("20/400", "6/120", "0.05", 1.3),
    ("20/320", "6/95", "0.063", 1.2),
    ("20/250", "6/75", "0.08", 1.1),
    ("20/200", "6/60", "0.10", 1.0),
    ("20/160", "6/48", "0.125", 0.9),
    ("20/125", "6/38", "0.16", 0.8),
    ("20/100", "6/30", "0.20", 0.7),
    ("20/80", "6/24", "0.25", 0.6),
    ("20/63", "6/20", "0.32", 0.5),
    ("20/50", "6/15", "0.40", 0.4),
    ("20/40", "6/12", "0.50", 0.3),
    ("20/32", "6/10", "0.63", 0.2),
    ("20/25", "6/7.5", "0.80", 0.1),
    ("20/20", "6/6", "1.00", 0.0),
    ("20/16", "6/5", "1.25", -0.1),
    ("20/12.5", "6/3.75", "1.60", -0.2),
    ("20/10", "6/3", "2.00", -0.3),
]

logmars = st.floats(min_value=-1.0, max_value=3.0, allow_nan=False)


def test_table_has_twenty_rows_a_tenth_apart():
    assert len(STANDARD_TABLE) == 20
    assert [row[3] for row in STANDARD_TABLE] == pytest.approx([1.6 - 0.1 * i for i in range(20)])


@pytest.mark.parametrize("feet, metres, decimal, logmar", STANDARD_TABLE)
def test_standard_table_row(feet, metres, decimal, logmar):
    # Chart-line labels, exactly as printed.
    assert snellen_chart_line(logmar) == feet
    assert snellen_chart_line(logmar, 20) == feet
    assert snellen_chart_line(logmar, 6) == metres
    assert decimal_chart_line(logmar) == decimal
    # The exact values round to the labels (the 6-m column is conventional: 6/20 is exactly
    # 6/18.97, 6/10 is 6/9.46, so within 6%; the 20-ft and decimal columns within 1.5%).
    assert snellen_denominator(logmar) == pytest.approx(float(feet.split("/")[1]), rel=0.015)
    described = describe(logmar)
    assert (described["snellen_20"], described["snellen_6"], described["decimal"]) == (feet, metres, decimal)
    assert described["text"] == f"{metres} ({feet}) · {format_logmar(logmar)} logMAR"
    assert described["beyond_chart"] is None
    assert snellen_denominator(logmar, 6) == pytest.approx(float(metres.split("/")[1]), rel=0.06)
    assert decimal_from_logmar(logmar) == pytest.approx(float(decimal), rel=0.015)
    # Each column read back gives the row's logMAR.
    assert round(logmar_from_decimal(float(decimal)), 1) == pytest.approx(logmar)
    assert round(math.log10(float(feet.split("/")[1]) / 20), 1) == pytest.approx(logmar)
    assert round(math.log10(float(metres.split("/")[1]) / 6), 1) == pytest.approx(logmar)
    assert etdrs_letters(logmar) == pytest.approx(85 - 50 * logmar)
    assert format_logmar(logmar) == f"{logmar:.2f}".replace("-0.00", "0.00")


def test_exact_values():
    assert decimal_from_logmar(0.0) == 1.0
    assert decimal_from_logmar(1.0) == pytest.approx(0.1)
    assert logmar_from_decimal(0.5) == pytest.approx(0.30103, abs=1e-5)
    assert snellen_denominator(0.0) == 20.0
    assert snellen_denominator(1.0, 6) == pytest.approx(60.0)
    assert snellen_denominator(0.3, numerator_distance=6) == pytest.approx(6 * 10**0.3)
    assert etdrs_letters(0.0) == 85.0  # Beck et al. 2003: 85 letters is 20/20
    assert etdrs_letters(1.0) == 35.0
    assert etdrs_letters(-0.3) == pytest.approx(100.0)
    assert logmar_from_etdrs_letters(85) == 0.0
    assert logmar_from_etdrs_letters(84) == pytest.approx(0.02)  # 0.02 logMAR per letter


def test_chart_line_rounds_to_nearest_row_and_ties_go_worse():
    assert snellen_chart_line(0.04) == "20/20"
    assert snellen_chart_line(0.06) == "20/25"
    assert snellen_chart_line(0.05) == "20/25"  # half-way: the worse line
    assert snellen_chart_line(-0.05) == "20/20"
    assert snellen_chart_line(0.14, 6) == "6/7.5"


def test_beyond_the_chart_lines_is_a_bound():
    assert snellen_chart_line(1.7) == "worse than 20/800"
    assert snellen_chart_line(1.65, 6) == "worse than 6/240"  # half-way: the worse side
    assert snellen_chart_line(1.64, 6) == "6/240"
    assert snellen_chart_line(-0.4) == "better than 20/10"
    assert snellen_chart_line(-0.36, 6) == "better than 6/3"  # nearest row is -0.4, off the chart
    assert snellen_chart_line(-0.35, 6) == "6/3"  # half-way: the worse row, on the chart
    assert snellen_chart_line(-0.76, 6) == "better than 6/3"  # never "6/0.951"
    assert snellen_chart_line(1.04) == "20/200"  # still the 1.0 row
    assert decimal_chart_line(1.7) == "worse than 0.025"
    assert decimal_chart_line(-0.4) == "better than 2.00"
    assert snellen_chart_line(-0.5, 4) == "better than 4/2"


def test_the_row_is_that_of_the_logmar_as_shown():
    # 0.245 is shown "0.24" (the float is 0.24499...), so the 0.2 row; 0.2499 is shown "0.25", the
    # 0.3 row, as 0.25 is: one shown logMAR never sits beside two different Snellen lines.
    assert describe(0.245)["text"] == "6/10 (20/32) · 0.24 logMAR"
    assert describe(0.2499)["text"] == describe(0.25)["text"] == "6/12 (20/40) · 0.25 logMAR"
    assert describe(0.15)["snellen_6"] == "6/10"  # 0.15 * 10 + 0.5 is 1.9999... in floats


@pytest.mark.parametrize(
    "logmar, text, decimal, letters, etdrs_text",
    [
        (
            -0.76,
            "better than 6/3 (better than 20/10) · -0.76 logMAR",
            "better than 2.00",
            None,
            "more than 100 letters",
        ),
        (-0.35, "6/3 (20/10) · -0.35 logMAR", "2.00", 100, "100 letters"),
        (-0.004, "6/6 (20/20) · 0.00 logMAR", "1.00", 85, "85 letters"),
        (0.25, "6/12 (20/40) · 0.25 logMAR", "0.50", 72, "72 letters"),  # half a letter: down
        (1.3, "6/120 (20/400) · 1.30 logMAR", "0.05", 20, "20 letters"),
        (1.75, "worse than 6/240 (worse than 20/800) · 1.75 logMAR", "worse than 0.025", None, "fewer than 5 letters"),
    ],
)
def test_describe(logmar, text, decimal, letters, etdrs_text):
    described = describe(logmar)
    assert (described["text"], described["decimal"], described["etdrs_letters"], described["etdrs_text"]) == (
        text,
        decimal,
        letters,
        etdrs_text,
    )


def test_describe_a_measurement_bound_and_an_interval():
    described = describe(0.1, bound="<=", ci95=(-0.004, 0.245))
    assert described["text"] == "6/7.5 (20/25) or better · 0.10 logMAR"
    assert described["ci95_text"] == "0.00 to 0.24 logMAR"
    assert described["ci95_low"]["text"] == "6/6 (20/20) · 0.00 logMAR"
    assert described["ci95_high"]["snellen_6"] == "6/10"
    assert describe(1.0, bound=">=")["text"] == "6/60 (20/200) or worse · 1.00 logMAR"
    # Past the chart's line the Snellen text is a bound already: no "better than 6/3 ... or better".
    assert describe(-0.5, bound="<=")["text"] == "better than 6/3 (better than 20/10) · -0.50 logMAR"
    with pytest.raises(ValueError, match="bound"):
        describe(0.1, bound="<")


def test_describe_a_size():
    assert describe(0.3, size=True)["text"] == "6/12 (20/40) · 0.30 logMAR"
    assert describe(-0.5, size=True)["text"] == "smaller than 6/3 (smaller than 20/10) · -0.50 logMAR"
    assert describe(1.8, size=True)["snellen_20"] == "larger than 20/800"


@pytest.mark.parametrize(
    "distance_mm, short, long",
    [
        (3000, "3 m", "3 metres"),
        (1500, "1.5 m", "1.5 metres"),
        (1000, "1 m", "1 metre"),
        (400, "40 cm", "40 centimetres"),
        (2046.4, "2 m", "2 metres"),
        (333, "33 cm", "33 centimetres"),
    ],
)
def test_format_distance(distance_mm, short, long):
    assert format_distance_mm(distance_mm) == short
    assert format_distance_mm(distance_mm, long=True) == long


@pytest.mark.parametrize("bad", [0, -400, math.nan, "3000", None])
def test_bad_distance_is_refused(bad):
    with pytest.raises(ValueError, match="distance_mm"):
        format_distance_mm(bad)


def test_other_numerators_use_exact_row_values():
    assert snellen_chart_line(0.0, 4) == "4/4"
    assert snellen_chart_line(0.5, 4) == "4/12.6"
    assert snellen_chart_line(1.0, 3) == "3/30"


@pytest.mark.parametrize(
    "logmar, category",
    [
        (-0.3, "none"),
        (0.0, "none"),
        (0.3, "none"),  # the 6/12 chart row is labelled 0.3
        (math.log10(2), "none"),  # exactly 6/12 is not worse than 6/12
        (math.log10(2) + 1e-6, "mild"),
        (0.4, "mild"),
        (math.log10(3), "mild"),  # exactly 6/18
        (math.log10(3) + 1e-6, "moderate"),
        (1.0, "moderate"),  # exactly 6/60
        (1.0 + 1e-6, "severe"),
        (math.log10(20), "severe"),  # exactly 3/60
        (math.log10(20) + 1e-6, "blindness"),
        (2.3, "blindness"),
    ],
)
def test_who_category_boundaries_are_strict(logmar, category):
    assert who_category(logmar) == category


def test_who_category_from_fractions_computed_another_way():
    # -log10(1/3) and log10(3) differ in the last bit; exactly 6/18 must stay "mild".
    assert who_category(logmar_from_decimal(6 / 12)) == "none"
    assert who_category(logmar_from_decimal(6 / 18)) == "mild"
    assert who_category(logmar_from_decimal(6 / 60)) == "moderate"
    assert who_category(logmar_from_decimal(3 / 60)) == "severe"


def test_who_category_is_monotonic():
    order = ["none", "mild", "moderate", "severe", "blindness"]
    ranks = [order.index(who_category(x / 100)) for x in range(-100, 301)]
    assert ranks == sorted(ranks)
    assert set(ranks) == set(range(5))


@pytest.mark.parametrize(
    "logmar, text",
    [(0.2, "0.20"), (-0.1, "-0.10"), (0.0, "0.00"), (-0.004, "0.00"), (1.0, "1.00"), (0.125, "0.12"), (0.126, "0.13")],
)
def test_format_logmar(logmar, text):
    assert format_logmar(logmar) == text


@given(logmars)
def test_decimal_round_trip(logmar):
    assert logmar_from_decimal(decimal_from_logmar(logmar)) == pytest.approx(logmar, abs=1e-12)


@given(logmars)
def test_etdrs_round_trip(logmar):
    assert logmar_from_etdrs_letters(etdrs_letters(logmar)) == pytest.approx(logmar, abs=1e-12)


@given(logmars, st.sampled_from([20.0, 6.0, 4.0]))
def test_snellen_denominator_is_numerator_over_decimal(logmar, numerator):
    assert snellen_denominator(logmar, numerator) == pytest.approx(numerator / decimal_from_logmar(logmar))


@given(logmars)
def test_chart_line_is_within_half_a_row_or_a_bound(logmar):
    line = snellen_chart_line(logmar)
    denominator = float(line.split("/")[1])
    if line.startswith("better than "):
        assert line == "better than 20/10" and logmar < -0.35
    elif line.startswith("worse than "):
        assert line == "worse than 20/800" and logmar > 1.64
    else:
        # Labels are rounded (20/32 for 31.70, 20/630 for 632.5): up to 0.0041 logMAR off their
        # rows; and the row is that of the logMAR shown (two decimals): 0.005 more.
        assert abs(math.log10(denominator / 20) - logmar) <= 0.05 + 0.005 + 0.005


@given(logmars)
def test_describe_depends_only_on_the_logmar_shown(logmar):
    described = describe(logmar)
    assert described == describe(float(described["logmar"]))
    assert described["logmar"] == format_logmar(logmar) != "-0.00"
    assert described["snellen_6"] == snellen_chart_line(logmar, 6)
    assert described["snellen_20"] == snellen_chart_line(logmar, 20)
    assert described["decimal"] == decimal_chart_line(logmar)
    if described["etdrs_letters"] is not None:
        assert abs(described["etdrs_letters"] - etdrs_letters(logmar)) <= 0.5 + 0.25 + 1e-9 or (
            described["etdrs_letters"] == 100
        )


@given(logmars, logmars)
def test_a_better_acuity_never_reads_worse(a, b):
    rows = [row[1] for row in STANDARD_TABLE]  # worst first

    def rank(logmar):
        text = describe(logmar)["snellen_6"]
        return -1 if text.startswith("worse") else len(rows) if text.startswith("better") else rows.index(text)

    if a <= b:
        assert rank(a) >= rank(b)


@pytest.mark.parametrize(
    "function",
    [
        decimal_from_logmar,
        snellen_denominator,
        snellen_chart_line,
        decimal_chart_line,
        etdrs_letters,
        who_category,
        format_logmar,
        describe,
    ],
)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "0.1", None, True, [0.1]])
def test_bad_logmar_is_refused(function, bad):
    with pytest.raises(ValueError, match="logmar|number"):
        function(bad)


@pytest.mark.parametrize("function", [decimal_from_logmar, etdrs_letters, who_category])
def test_a_snellen_denominator_passed_as_logmar_is_refused(function):
    with pytest.raises(ValueError, match="not a Snellen denominator"):
        function(20)


@pytest.mark.parametrize("bad", [0, -0.5, math.nan, math.inf, "0.5", None])
def test_bad_decimal_is_refused(bad):
    with pytest.raises(ValueError, match="decimal"):
        logmar_from_decimal(bad)


@pytest.mark.parametrize("bad", [math.nan, "85", None, 500])
def test_bad_letter_score_is_refused(bad):
    with pytest.raises(ValueError, match="letters"):
        logmar_from_etdrs_letters(bad)


@pytest.mark.parametrize("bad", [0, -20, math.nan])
def test_bad_numerator_is_refused(bad):
    with pytest.raises(ValueError, match="numerator"):
        snellen_denominator(0.0, bad)
    with pytest.raises(ValueError, match="numerator"):
        snellen_chart_line(0.0, bad)


@pytest.mark.parametrize(
    "logmar, n_point, m_units",
    [
        (0.2, "N5", "0.63M"),  # N5 is 0.63M: 8 x 0.4 m x 10^0.2 = 5.05 points
        (0.3, "N6", "0.8M"),
        (0.4, "N8", "1.0M"),  # N8 is about 1M (Law 1951); 1M at 40 cm is 0.4/1.0M, logMAR 0.4
        (0.5, "N10", "1.25M"),
        (0.6, "N12", "1.6M"),
        (0.9, "N24", "3.2M"),
        (1.2, "N48", "6.3M"),
        (0.0, "better than N5", "0.4M"),  # normal near acuity reads print smaller than N5
        (1.3, "worse than N48", "8.0M"),
        (1.7, "worse than N48", "worse than 16M"),
    ],
)
def test_near_notation_at_40_cm(logmar, n_point, m_units):
    described = describe(logmar, near_distance_mm=400)
    assert (described["n_point"], described["m_units"]) == (n_point, m_units)
    assert described["text"] == f"{n_point} ({m_units} at 40 cm) · {format_logmar(logmar)} logMAR"
    assert described["snellen_6"] == describe(logmar)["snellen_6"]  # the distance equivalent is kept
    assert "n_point" not in describe(logmar)


def test_near_m_units_follow_the_distance():
    # 1M subtends 5 arcmin at 1 m (Sloan & Habel 1956): at 1 m logMAR 0 is 1.0M, at 25 cm 0.25M.
    assert describe(0.0, near_distance_mm=1000)["m_units"] == "1.0M"
    assert describe(0.0, near_distance_mm=250)["m_units"] == "0.25M"
    assert describe(0.4, size=True, near_distance_mm=400)["text"] == "N8 (1.0M at 40 cm) · 0.40 logMAR"
    assert describe(-0.1, size=True, near_distance_mm=400)["n_point"] == "smaller than N5"
    near = describe(0.3, near_distance_mm=400, ci95=(0.2, 0.4), bound="<=")
    assert near["text"] == "N6 (0.8M at 40 cm) or better · 0.30 logMAR"
    assert (near["ci95_low"]["n_point"], near["ci95_high"]["n_point"]) == ("N5", "N8")


def test_the_practices_notation_leads_the_line_and_changes_nothing_else():
    """describe(lead=...): the line a clinician reads starts with the practice's notation (6/, 20/ or
    decimal); bounds keep their words; every other string and a near test's line stay the same."""
    from acuity.notation import LEADS

    lines = {lead: describe(0.245, ci95=(0.1, 0.4), lead=lead) for lead in LEADS}
    assert [lines[lead]["text"] for lead in LEADS] == [
        "6/10 (20/32) · 0.24 logMAR",
        "20/32 (6/10) · 0.24 logMAR",
        "decimal 0.63 (6/10) · 0.24 logMAR",
    ]

    def same(described):
        return {k: v for k, v in described.items() if k not in ("text", "notation_text", "ci95_low", "ci95_high")}

    assert same(lines["20ft"]) == same(lines["6m"]) == same(lines["decimal"])
    assert describe(-0.5, lead="decimal")["text"] == "better than decimal 2.00 (better than 6/3) · -0.50 logMAR"
    assert describe(-0.3, bound="<=", lead="20ft")["text"] == "20/10 (6/3) or better · -0.30 logMAR"
    assert describe(0.4, near_distance_mm=400, lead="20ft")["text"] == "N8 (1.0M at 40 cm) · 0.40 logMAR"
    with pytest.raises(ValueError, match="lead must be one of 6m, 20ft, decimal"):
        describe(0.2, lead="snellen")
