"""acuity.notation against the standard table (docs/measurement.md §1), Beck 2003 and ICD-11."""
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acuity.notation import (
    decimal_chart_line,
    decimal_from_logmar,
    etdrs_letters,
    format_logmar,
    logmar_from_decimal,
    logmar_from_etdrs_letters,
    snellen_chart_line,
    snellen_denominator,
    who_category,
)

# "Reporting visual acuities" (Am J Ophthalmol), as in docs/measurement.md §1: all 14 rows.
STANDARD_TABLE = [
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


def test_table_has_fourteen_rows_a_tenth_apart():
    assert len(STANDARD_TABLE) == 14
    assert [row[3] for row in STANDARD_TABLE] == pytest.approx([1.0 - 0.1 * i for i in range(14)])


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


def test_chart_line_beyond_the_table_gives_the_exact_rounded_value():
    assert snellen_chart_line(1.3) == "20/399"  # 20 * 10^1.3 = 399.05
    assert snellen_chart_line(1.1, 6) == "6/75.5"
    assert snellen_chart_line(-0.4) == "20/7.96"
    assert snellen_chart_line(-0.36) == "20/7.96"  # nearest row is -0.4, off the table
    assert snellen_chart_line(1.04) == "20/200"  # still the 1.0 row
    assert decimal_chart_line(1.3) == "0.050"
    assert decimal_chart_line(-0.4) == "2.5"


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
def test_chart_line_is_within_half_a_row(logmar):
    denominator = float(snellen_chart_line(logmar).split("/")[1])
    # Labels are rounded (20/32 for 31.70, 20/399 for 399.05): the standard table's labels sit up
    # to 0.0041 logMAR off their rows (20/32, 20/12.5, 20/160), so allow 0.005 for that.
    assert abs(math.log10(denominator / 20) - logmar) <= 0.05 + 0.005


@pytest.mark.parametrize(
    "function",
    [decimal_from_logmar, snellen_denominator, snellen_chart_line, decimal_chart_line, etdrs_letters,
     who_category, format_logmar],
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
