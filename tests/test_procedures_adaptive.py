"""Adaptive (Bayesian), manual and Best PEST procedures, and the psychometric model under them."""

import numpy as np
import pytest

from acuity.optotypes import optotype_set
from acuity.procedure import ProcedureConfig, ProcedureError, build_procedure
from acuity.procedures.bayesian import CHART_OFFSET_LOGMAR
from acuity.procedures.best_pest import BestPestProcedure
from acuity.psychometric import cramer_rao_sd, fisher_information, norm_cdf, probability_correct
from acuity.simulate import SimulatedObserver, run_test, sim_config


def always(procedure, right: bool):
    symbols = optotype_set(procedure.config.optotype_set).symbols
    while (presentation := procedure.next_presentation()) is not None:
        shown = presentation.optotypes[0]
        procedure.record(presentation, [shown if right else next(s for s in symbols if s != shown)])
    return procedure.estimate()


# -- psychometric model ---------------------------------------------------------------------------


def test_cramer_rao_bound_reproduces_the_published_limits():
    # docs/measurement.md §7: known slope, probit SD 0.07, lapse 0.02.
    for n, sloan, tumbling_e in ((18, 0.023, 0.027), (24, 0.020, 0.024), (30, 0.018, 0.021)):
        assert cramer_rao_sd(n, 0.07, 1 / 10, 0.02) == pytest.approx(sloan, abs=0.0006)
        assert cramer_rao_sd(n, 0.07, 1 / 4, 0.02) == pytest.approx(tumbling_e, abs=0.0006)
    # "for a probit SD of 0.10 multiply by about 1.4"
    assert cramer_rao_sd(30, 0.10, 0.1, 0.02) / cramer_rao_sd(30, 0.07, 0.1, 0.02) == pytest.approx(1.43, abs=0.02)


def test_cramer_rao_with_given_placements_sums_the_information():
    placements = [0.0] * 10 + [0.1] * 10
    info = 10 * fisher_information(0.0, 0.0, 0.07, 0.1) + 10 * fisher_information(0.1, 0.0, 0.07, 0.1)
    assert cramer_rao_sd(20, 0.07, 0.1, placements_logmar=placements) == pytest.approx(1 / np.sqrt(info))
    assert cramer_rao_sd(20, 0.07, 0.1, placements_logmar=placements) > cramer_rao_sd(20, 0.07, 0.1)


def test_psychometric_function_values():
    assert float(norm_cdf(1.959964)) == pytest.approx(0.975, abs=2e-7)
    assert float(norm_cdf(-1.0)) == pytest.approx(0.1586552539, abs=2e-7)
    assert float(probability_correct(0.3, 0.3, 0.07, 0.1, 0.03)) == pytest.approx(0.1 + 0.87 / 2)
    assert float(probability_correct(2.0, 0.0, 0.07, 0.1, 0.03)) == pytest.approx(0.97)
    assert float(probability_correct(-2.0, 0.0, 0.07, 0.1, 0.03)) == pytest.approx(0.10)
    with pytest.raises(ValueError, match="lapse rate"):
        fisher_information(0.0, 0.0, 0.07, 0.5, 0.6)


# -- adaptive -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, threshold", [("sloan", 0.3), ("sloan", -0.1), ("tumbling_e", 0.7), ("landolt_c8", 0.1)])
def test_adaptive_estimate_converges_for_a_simulated_observer(name, threshold):
    observer = SimulatedObserver(threshold, 0.07, optotype_set(name).guess_rate)
    expected_chart = observer.expected_chart_logmar(sim_config(name, "chart"))
    errors = []
    for seed in range(6):
        procedure = build_procedure(sim_config(name), seed)
        result = run_test(procedure, observer, np.random.default_rng(seed))
        assert result.finished and result.trials == 30 and result.bound is None
        assert (
            result.ci95_low_logmar < expected_chart < result.ci95_high_logmar
            or abs(result.logmar - expected_chart) < 0.08
        )
        errors.append(result.logmar - expected_chart)
    assert abs(np.mean(errors)) < 0.04
    assert np.sqrt(np.mean(np.square(errors))) < 0.06


def test_adaptive_starts_large_and_never_shows_the_same_symbol_twice_in_a_row():
    procedure = build_procedure(ProcedureConfig(), 9)
    assert procedure.next_presentation().logmar == 1.0
    observer = SimulatedObserver(0.2, 0.07, 0.1)
    run_test(procedure, observer, np.random.default_rng(1))
    symbols = [t.presentation.optotypes[0] for t in procedure.history]
    assert all(a != b for a, b in zip(symbols, symbols[1:], strict=False))
    sizes = [t.presentation.logmar for t in procedure.history]
    assert max(abs(s - 0.2) for s in sizes[-10:]) < 0.2  # it homes in on the threshold


def test_adaptive_stops_early_at_the_target_interval():
    config = ProcedureConfig(target_ci95_half_width_logmar=0.08, max_trials=60)
    result = run_test(build_procedure(config, 1), SimulatedObserver(0.4, 0.07, 0.1), np.random.default_rng(2))
    assert result.finished and 8 <= result.trials < 60
    assert (result.ci95_high_logmar - result.ci95_low_logmar) / 2 < 0.08 + 0.002


def test_an_observer_always_right_gets_the_better_than_bound_at_the_smallest_size():
    config = ProcedureConfig(min_logmar=-0.234, max_logmar=1.0)
    procedure = build_procedure(config, 4)
    result = always(procedure, True)
    assert result.bound == "<=" and result.finished
    assert result.logmar == pytest.approx(-0.23)  # the smallest size on the 0.01 grid
    assert result.trials < 30  # stopped: more trials at the edge cannot measure it
    assert min(t.presentation.logmar for t in procedure.history) == pytest.approx(-0.23)


def test_an_observer_always_wrong_gets_the_worse_than_bound_at_the_largest_size():
    procedure = build_procedure(ProcedureConfig(max_logmar=0.8), 4)
    result = always(procedure, False)
    assert result.bound == ">=" and result.finished
    assert result.logmar == pytest.approx(0.9)  # clipped at what a chart could score: largest + 0.1
    assert max(t.presentation.logmar for t in procedure.history) == pytest.approx(0.8)


def test_chart_offsets_are_the_calibrated_constants():
    # Calibrated with `python -m acuity.simulate --calibrate-offset` (docs/procedures.md).
    assert set(CHART_OFFSET_LOGMAR) == set(["sloan", "tumbling_e", "landolt_c8", "landolt_c4", "hotv"])
    assert all(0.02 < v < 0.09 for v in CHART_OFFSET_LOGMAR.values())
    procedure = build_procedure(ProcedureConfig(), 1)
    first = procedure.next_presentation()
    procedure.record(first, list(first.optotypes))
    assert procedure.estimate().logmar == pytest.approx(
        procedure.threshold_estimate_logmar() + CHART_OFFSET_LOGMAR["sloan"], abs=0.0006
    )


# -- manual ---------------------------------------------------------------------------------------


def test_manual_shows_the_requested_size_snapped_and_never_finishes():
    procedure = build_procedure(ProcedureConfig(procedure="manual", min_logmar=-0.2, max_logmar=0.9), 1)
    presentation = procedure.next_presentation(requested_logmar=0.304)
    assert presentation.logmar == 0.3
    for i in range(40):
        presentation = procedure.next_presentation(requested_logmar=0.3 if i % 2 else 0.5)
        procedure.record(presentation, [presentation.optotypes[0] if i % 2 == 0 else None])
    result = procedure.estimate()
    assert not procedure.finished and not result.finished
    assert result.ci95_low_logmar < result.logmar < result.ci95_high_logmar
    assert 0.25 < result.logmar < 0.55  # between the sizes always read and never read


@pytest.mark.parametrize("requested", [None, 0.95, -0.25, float("nan"), "0.5"])
def test_manual_refuses_a_missing_or_undrawable_size(requested):
    procedure = build_procedure(ProcedureConfig(procedure="manual", min_logmar=-0.2, max_logmar=0.9), 1)
    with pytest.raises(ProcedureError, match="requested_logmar|cannot be drawn"):
        procedure.next_presentation(requested_logmar=requested)


def test_adaptive_refuses_an_undrawable_override():
    with pytest.raises(ProcedureError, match="cannot be drawn"):
        build_procedure(ProcedureConfig(), 1).next_presentation(requested_logmar=1.2)


# -- Best PEST (reference) ------------------------------------------------------------------------


def test_best_pest_runs_as_fract():
    assert BestPestProcedure(ProcedureConfig(optotype_set="landolt_c8"), 1).trials == 18
    assert BestPestProcedure(ProcedureConfig(optotype_set="tumbling_e"), 1).trials == 24
    assert BestPestProcedure(ProcedureConfig(optotype_set="sloan"), 1).trials == 24
    procedure = build_procedure(ProcedureConfig(procedure="best_pest"), 2)
    result = always(procedure, True)
    assert [t.presentation.logmar for t in procedure.history[:4]] == [1.0, 0.7, 0.4, 0.1]
    assert result.trials == 24
    # Always right: maximum likelihood at the smallest size, +0.05 (FrACT's final correction).
    assert procedure.threshold_estimate_logmar() == pytest.approx(-0.3)
    assert result.logmar == pytest.approx(-0.25) and result.bound == "<="
    worst = always(build_procedure(ProcedureConfig(procedure="best_pest"), 2), False)
    assert worst.logmar == pytest.approx(1.05) and worst.bound == ">="


def test_interval_stays_within_what_the_screen_can_measure():
    """A patient who reads everything down to the smallest drawable size gets a bound, and the
    interval does not reach into sizes the screen never showed (the report prints it)."""
    from acuity.procedure import ProcedureConfig, build_procedure

    for name in ("adaptive", "manual"):
        config = ProcedureConfig(procedure=name, optotype_set="sloan", min_logmar=-0.6, max_logmar=0.7)
        procedure = build_procedure(config, seed=3)
        for _ in range(30):
            shown = procedure.next_presentation(requested_logmar=-0.6 if name == "manual" else None)
            if shown is None:
                break
            procedure.record(shown, shown.optotypes)
        result = procedure.estimate()
        assert result.bound == "<="
        assert -0.6 <= result.ci95_low_logmar <= result.logmar <= result.ci95_high_logmar <= 0.8
