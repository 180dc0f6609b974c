"""ETDRS-style chart: rows, stop rule, letter-by-letter score, bounds, interval."""

import numpy as np
import pytest

from acuity.optotypes import optotype_set
from acuity.procedure import ProcedureConfig, ProcedureError, build_procedure
from acuity.procedures.chart import chart_score_distribution, chart_score_sd_logmar


def read_chart(config, seed, correct_per_row):
    """Answer row k with correct_per_row[k] letters right (the first ones), the rest wrong."""
    chart = build_procedure(config, seed)
    symbols = optotype_set(config.optotype_set).symbols
    letters = {}
    while (presentation := chart.next_presentation()) is not None:
        row = len({t.presentation.logmar for t in chart.history} | {presentation.logmar}) - 1
        responses = []
        for shown in presentation.optotypes:
            position = letters.get(row, 0)
            letters[row] = position + 1
            right = position < correct_per_row[min(row, len(correct_per_row) - 1)]
            responses.append(shown if right else next(s for s in symbols if s != shown))
        chart.record(presentation, responses)
    return chart


@pytest.mark.parametrize("mode", ["row", "single", "text"])
def test_letter_by_letter_score_on_a_hand_worked_example(mode):
    # Rows 1.0 .. 0.3 read in full (8 rows, 40 letters), row 0.2: 2 right, 3 missed -> stop.
    # logMAR = (1.0 + 0.1) - 0.02 * 42 = 0.26
    config = ProcedureConfig(procedure="chart", chart_presentation=mode)
    chart = read_chart(config, 5, [5] * 8 + [2])
    result = chart.estimate()
    assert result.finished and chart.next_presentation() is None
    assert [round(x, 2) for x in sorted({t.presentation.logmar for t in chart.history}, reverse=True)] == [
        1.0,
        0.9,
        0.8,
        0.7,
        0.6,
        0.5,
        0.4,
        0.3,
        0.2,
    ]
    assert result.logmar == pytest.approx(0.26)
    assert result.optotypes_shown == 45 and result.optotypes_correct == 42
    assert result.trials == (45 if mode == "single" else 9)  # text: whole rows, like "row"
    assert result.bound is None


def test_two_misses_continue_three_stop():
    # Row 1.0 .. 0.5 with 3 right (2 misses: continue), 0.4 with 2 right (3 misses: stop).
    # logMAR = 1.1 - 0.02 * (6 * 3 + 2) = 0.70
    chart = read_chart(ProcedureConfig(procedure="chart"), 1, [3] * 6 + [2])
    assert chart.finished
    assert chart.history[-1].presentation.logmar == pytest.approx(0.4)
    assert chart.estimate().logmar == pytest.approx(0.70)


def test_a_custom_stop_rule_is_honoured():
    chart = read_chart(ProcedureConfig(procedure="chart", chart_stop_misses=2), 1, [5, 3])
    assert chart.finished and len(chart.history) == 2
    assert chart.estimate().logmar == pytest.approx(1.1 - 0.02 * 8)


def test_failing_the_top_row_gives_the_worse_than_bound():
    result = read_chart(ProcedureConfig(procedure="chart"), 2, [1]).estimate()
    assert result.finished and result.bound == ">="
    assert result.logmar == pytest.approx(1.08)


def test_reading_the_smallest_drawable_row_gives_the_better_than_bound():
    config = ProcedureConfig(procedure="chart", min_logmar=-0.14, max_logmar=1.0)
    chart = read_chart(config, 3, [5])
    result = chart.estimate()
    assert chart.history[-1].presentation.logmar == pytest.approx(-0.1)  # smallest row on the 0.1 grid
    assert result.finished and result.bound == "<="
    assert result.logmar == pytest.approx(-0.1)


def test_the_chart_starts_at_1_0_or_the_largest_drawable_row():
    assert build_procedure(ProcedureConfig(procedure="chart", max_logmar=1.3), 1).next_presentation().logmar == 1.0
    assert build_procedure(ProcedureConfig(procedure="chart", max_logmar=0.67), 1).next_presentation().logmar == 0.6


def test_the_clinician_may_choose_the_start_row_only_before_the_first_row():
    chart = build_procedure(ProcedureConfig(procedure="chart"), 1)
    first = chart.next_presentation(requested_logmar=0.52)
    assert first.logmar == pytest.approx(0.5)
    chart.record(first, list(first.optotypes))
    assert chart.next_presentation().logmar == pytest.approx(0.4)
    with pytest.raises(ProcedureError, match="row by row"):
        chart.next_presentation(requested_logmar=0.1)
    with pytest.raises(ProcedureError, match="cannot be drawn"):
        build_procedure(ProcedureConfig(procedure="chart"), 1).next_presentation(requested_logmar=1.4)


@pytest.mark.parametrize("seed", range(20))
def test_sloan_rows_have_five_different_letters_and_two_rows_use_all_ten(seed):
    chart = read_chart(ProcedureConfig(procedure="chart"), seed, [5])
    rows = [t.presentation.optotypes for t in chart.history]
    assert len(rows) == 14
    for row in rows:
        assert len(set(row)) == 5
    for a, b in zip(rows[0::2], rows[1::2], strict=False):
        assert set(a) | set(b) == set(optotype_set("sloan").symbols)


@pytest.mark.parametrize("name", ["tumbling_e", "landolt_c4", "landolt_c8"])
@pytest.mark.parametrize("seed", range(10))
def test_symbol_sets_never_repeat_a_symbol_immediately(name, seed):
    config = ProcedureConfig(procedure="chart", optotype_set=name, chart_presentation="single")
    chart = read_chart(config, seed, [5])
    sequence = [t.presentation.optotypes[0] for t in chart.history]
    assert len(sequence) == 70
    assert all(a != b for a, b in zip(sequence, sequence[1:], strict=False))
    rows = [tuple(sequence[i : i + 5]) for i in range(0, 70, 5)]
    symbols = optotype_set(name).symbols
    for row in rows:  # as varied as the set allows: 5 different of 8, or all 4 directions
        assert len(set(row)) == min(5, len(symbols))


def test_exact_expected_score_matches_the_chart_procedure_run_many_times():
    rng = np.random.default_rng(4)
    threshold, slope_sd, guess = 0.33, 0.07, 0.1
    scores, probs = chart_score_distribution(threshold, slope_sd, guess)
    expected = float(np.dot(scores, probs))
    sd = float(np.sqrt(np.dot(probs, (scores - expected) ** 2)))
    from acuity.simulate import SimulatedObserver, run_test

    observer = SimulatedObserver(threshold, slope_sd, guess)
    config = ProcedureConfig(procedure="chart")
    results = [run_test(build_procedure(config, seed), observer, rng).logmar for seed in range(400)]
    assert abs(np.mean(results) - expected) < 4 * sd / np.sqrt(400)
    # The spread: share of scores within 0.03 of the mean (the SD itself hangs on rare lapses).
    near = float(probs[np.abs(scores - expected) <= 0.03].sum())
    observed = float(np.mean(np.abs(np.asarray(results) - expected) <= 0.03))
    assert abs(observed - near) < 4 * np.sqrt(near * (1 - near) / 400)


def test_interval_half_width_comes_from_the_binomial_within_test_sd():
    sd = chart_score_sd_logmar("sloan", 5, 3)
    assert 0.035 < sd < 0.055  # published within-test SD about 0.04 (docs/measurement.md §8)
    result = read_chart(ProcedureConfig(procedure="chart"), 1, [5] * 5 + [1]).estimate()
    assert result.ci95_high_logmar - result.logmar == pytest.approx(1.96 * sd, abs=0.002)
