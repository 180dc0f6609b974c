"""Simulation benchmark of the acuity procedures against simulated observers.

    python -m acuity.simulate                    # table (default run: see docs/procedures.md)
    python -m acuity.simulate --json             # the same rows as JSON
    python -m acuity.simulate --quick --json     # a small run for tests
    python -m acuity.simulate --calibrate-offset # the chart-equivalent offsets of acuity.procedures.bayesian
    python -m acuity.simulate --low-vision       # only the low-vision rows
    python -m acuity.simulate --near-text        # only the near text-row rows

Near text rows (procedure "chart_text_near"): the chart with text-like rows (letters a stroke apart, no
bars) on a phone held at 40 cm, rows 1.0 down to 0.2, observers over 0.25..0.95 logMAR; the expected
score is the same rows' (the simulated observer has no crowding: docs/procedures.md, "Text-like rows").

Low-vision rows (procedure "adaptive_low_vision"): observers with thresholds over 1.0..1.6 logMAR, worse
than the screen shows at 4 m (largest 0.9, as on a 1440 x 900 laptop), set up at 4 m and moved closer
(acuity.low_vision: 2 m, 1 m, 50 cm) whenever the procedure asks; their expected chart score is that
of a chart whose top row is 2.0 (a low-vision chart read close enough).

Observers follow p(x) = g + (1 - g - l) F((x - t) / s) (acuity.psychometric) with thresholds t
spread over -0.2..1.0 logMAR, probit SD s of 0.04, 0.07 or 0.14 and lapse l = 0.03, on a screen
that draws -0.3..1.0 logMAR. Each observer is tested twice with each procedure (a test-retest
pair). Figures per (procedure, optotype set, observer SD):

- trials_mean: optotypes shown per test (for the chart: letters, not rows)
- bias: mean(estimate - the observer's expected ETDRS chart score), the expectation computed
  exactly (acuity.procedures.chart.chart_score_distribution: same rows, 5 letters, 3-miss stop)
- sd: within-observer SD of the estimates, sqrt(mean((test - retest)^2) / 2)
- rmse: sqrt(mean((estimate - expected chart score)^2))
- loa95: test-retest 95% limits half-width, 1.96 * sqrt(mean((test - retest)^2))
- cr_sd: the Cramer-Rao bound for this observer SD, guess rate and lapse with trials_mean trials
  all at the optimal placement (the physical limit; acuity.psychometric.cramer_rao_sd)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from acuity.low_vision import closer_distances_mm, logmar_shift
from acuity.optotypes import optotype_set
from acuity.procedure import AcuityResult, DistanceStep, Procedure, ProcedureConfig
from acuity.procedures import AdaptiveProcedure, BestPestProcedure, ChartProcedure
from acuity.procedures.chart import chart_score_distribution
from acuity.psychometric import LAPSE_RATE, cramer_rao_sd, probability_correct

SCREEN_MIN_LOGMAR = -0.3
SCREEN_MAX_LOGMAR = 1.0
THRESHOLD_RANGE_LOGMAR = (-0.2, 1.0)
OBSERVER_SDS_LOGMAR = (0.04, 0.07, 0.14)
OPTOTYPE_SETS = ("sloan", "tumbling_e", "landolt_c8", "hotv")
PROCEDURE_NAMES = ("adaptive", "best_pest", "best_pest_30", "chart")
# Low vision: a screen drawing this range at this distance, observers over this range (worse than it).
LOW_VISION_START_MM = 4000.0
LOW_VISION_RANGE_LOGMAR = (-0.2, 0.9)
LOW_VISION_THRESHOLDS_LOGMAR = (1.0, 1.6)
LOW_VISION_CHART_TOP_LOGMAR = 2.0
LOW_VISION_PROCEDURE = "adaptive_low_vision"  # the rows' procedure name
# Near text rows (chart presentation "text", docs/procedures.md): a phone held at 40 cm (6.3 CSS px/mm,
# DPR 3, 390 x 844) draws a row of five letters a stroke apart from about logMAR 0.13 to 1.03
# (calibration.capability.measurable_range), so the chart's rows 1.0 down to 0.2; observers over 0.25..0.95.
NEAR_TEXT_RANGE_LOGMAR = (0.13, 1.0)
NEAR_TEXT_THRESHOLDS_LOGMAR = (0.25, 0.95)
NEAR_TEXT_PROCEDURE = "chart_text_near"  # the rows' procedure name
ROW_KEYS = ("procedure", "optotype", "observer_sd", "trials_mean", "bias", "sd", "rmse", "loa95", "cr_sd")


class SimulationError(ValueError):
    """Bad simulation arguments; the message says what to give instead."""


@dataclass(frozen=True)
class SimulatedObserver:
    threshold_logmar: float
    slope_sd_logmar: float
    guess_rate: float
    lapse_rate: float = LAPSE_RATE

    def respond(
        self, shown: Sequence[str], logmar: float, symbols: Sequence[str], rng: np.random.Generator
    ) -> list[str]:
        """Right with p(logmar) for each optotype (guessing included), else a wrong symbol."""
        p = float(
            probability_correct(logmar, self.threshold_logmar, self.slope_sd_logmar, self.guess_rate, self.lapse_rate)
        )
        answers = []
        for symbol in shown:
            if rng.random() < p:
                answers.append(symbol)
            else:
                wrong = [s for s in symbols if s != symbol]
                answers.append(wrong[int(rng.integers(len(wrong)))])
        return answers

    def expected_chart_logmar(self, config: ProcedureConfig) -> float:
        """Expected letter-by-letter score on the chart procedure for this config (exact)."""
        chart = ChartProcedure(config, 0)
        start = chart._next_row_logmar([])
        rows = [r for r in reversed(chart.rows_logmar) if r <= start + 1e-9]
        scores, probs = chart_score_distribution(
            self.threshold_logmar,
            self.slope_sd_logmar,
            self.guess_rate,
            rows,
            config.chart_letters_per_row,
            config.chart_stop_misses,
            self.lapse_rate,
        )
        return float(np.dot(scores, probs))


def run_test(procedure: Procedure, observer: SimulatedObserver, rng: np.random.Generator) -> AcuityResult:
    symbols = optotype_set(procedure.config.optotype_set).symbols
    while (presentation := procedure.next_presentation()) is not None:
        procedure.record(presentation, observer.respond(presentation.optotypes, presentation.logmar, symbols, rng))
    return procedure.estimate()


def low_vision_config(optotype: str) -> ProcedureConfig:
    """The adaptive procedure at LOW_VISION_START_MM, allowed to move the patient to 50 cm."""
    low, high = LOW_VISION_RANGE_LOGMAR
    nearest = closer_distances_mm(LOW_VISION_START_MM)[-1]
    return ProcedureConfig(
        procedure="adaptive",
        optotype_set=optotype,
        min_logmar=low,
        max_logmar=high,
        reach_max_logmar=round(high + logmar_shift(LOW_VISION_START_MM, nearest), 3),
    )


def run_low_vision_test(
    procedure: Procedure, observer: SimulatedObserver, rng: np.random.Generator, start_mm: float = LOW_VISION_START_MM
) -> tuple[AcuityResult, float]:
    """run_test, moving the patient to the next distance whenever the procedure asks (as the live
    test does, the clinician agreeing); returns the result and the distance it ended at."""
    symbols = optotype_set(procedure.config.optotype_set).symbols
    distance_mm = start_mm
    while True:
        presentation = procedure.next_presentation()
        if presentation is None:
            if not procedure.wants_closer():
                break
            closer = closer_distances_mm(distance_mm)[0]
            shift = logmar_shift(start_mm, closer)
            config = procedure.config
            procedure.move(
                DistanceStep(
                    len(procedure.history),
                    closer,
                    round(config.min_logmar + shift, 3),
                    round(config.max_logmar + shift, 3),
                )
            )
            distance_mm = closer
            continue
        procedure.record(presentation, observer.respond(presentation.optotypes, presentation.logmar, symbols, rng))
    return procedure.estimate(), distance_mm


def expected_low_vision_chart_logmar(observer: SimulatedObserver) -> float:
    rows = [round(LOW_VISION_CHART_TOP_LOGMAR - 0.1 * i, 1) for i in range(24)]  # 2.0 down to -0.3
    scores, probs = chart_score_distribution(
        observer.threshold_logmar, observer.slope_sd_logmar, observer.guess_rate, rows, 5, 3, observer.lapse_rate
    )
    return float(np.dot(scores, probs))


def low_vision_row(optotype: str, slope_sd_logmar: float, n_observers: int, seed: int) -> dict:
    """A benchmark row (ROW_KEYS) for low-vision observers moved closer as the procedure asks."""
    config = low_vision_config(optotype)
    tested = observers(n_observers, optotype, slope_sd_logmar, seed, LOW_VISION_THRESHOLDS_LOGMAR)
    return _test_retest_row(
        (LOW_VISION_PROCEDURE, optotype, slope_sd_logmar, seed, 41),
        tested,
        expected_low_vision_chart_logmar,
        lambda observer, test_seed, rng: run_low_vision_test(AdaptiveProcedure(config, test_seed), observer, rng)[0],
    )


def near_text_config(optotype: str) -> ProcedureConfig:
    """The chart procedure with text-like rows (letters a stroke apart, no bars) on a phone at 40 cm."""
    low, high = NEAR_TEXT_RANGE_LOGMAR
    return ProcedureConfig(
        procedure="chart",
        optotype_set=optotype,
        min_logmar=low,
        max_logmar=high,
        chart_presentation="text",
        crowding=False,
    )


def near_text_row(optotype: str, slope_sd_logmar: float, n_observers: int, seed: int) -> dict:
    """A benchmark row (ROW_KEYS) for the near text rows. The simulated observer has no crowding, so
    the bias is that of the procedure's sizes, stop rule and score against the expected score of the
    same rows; the lower acuity crowding gives a real eye reading text is not modelled (docs/procedures.md)."""
    config = near_text_config(optotype)
    tested = observers(n_observers, optotype, slope_sd_logmar, seed, NEAR_TEXT_THRESHOLDS_LOGMAR)
    return _test_retest_row(
        (NEAR_TEXT_PROCEDURE, optotype, slope_sd_logmar, seed, 43),
        tested,
        lambda observer: observer.expected_chart_logmar(config),
        lambda observer, test_seed, rng: run_test(ChartProcedure(config, test_seed), observer, rng),
    )


def _test_retest_row(
    condition: tuple[str, str, float, int, int],
    tested: Sequence[SimulatedObserver],
    expected_of: Callable[[SimulatedObserver], float],
    run_one: Callable[[SimulatedObserver, int, np.random.Generator], AcuityResult],
) -> dict:
    """Each observer tested twice (a test-retest pair), against the score expected of them; the row's
    figures (ROW_KEYS). `condition` is (procedure, optotype, observer SD, seed, stream): each test has
    its own procedure seed and an answer stream keyed by all of them."""
    procedure, optotype, slope_sd_logmar, seed, stream = condition
    rng_key = (stream, OPTOTYPE_SETS.index(optotype), int(slope_sd_logmar * 1000))
    errors, diffs, shown = [], [], []
    for i, observer in enumerate(tested):
        expected = expected_of(observer)
        pair = []
        for repeat in range(2):
            rng = np.random.default_rng([seed, i, repeat, *rng_key])
            result = run_one(observer, seed * 1_000_003 + i * 2 + repeat, rng)
            pair.append(result.logmar)
            errors.append(result.logmar - expected)
            shown.append(result.optotypes_shown)
        diffs.append(pair[0] - pair[1])
    return _row(procedure, optotype, slope_sd_logmar, errors, diffs, shown)


def _row(procedure: str, optotype: str, slope_sd_logmar: float, errors, diffs, shown) -> dict:
    errors_a, diffs_a = np.asarray(errors), np.asarray(diffs)
    trials_mean = float(np.mean(shown))
    sd = math.sqrt(float(np.mean(diffs_a**2)) / 2)
    return {
        "procedure": procedure,
        "optotype": optotype,
        "observer_sd": slope_sd_logmar,
        "trials_mean": round(trials_mean, 1),
        "bias": round(float(np.mean(errors_a)), 4),
        "sd": round(sd, 4),
        "rmse": round(math.sqrt(float(np.mean(errors_a**2))), 4),
        "loa95": round(1.96 * math.sqrt(float(np.mean(diffs_a**2))), 4),
        "cr_sd": round(cramer_rao_sd(trials_mean, slope_sd_logmar, optotype_set(optotype).guess_rate, LAPSE_RATE), 4),
    }


def _factory(name: str) -> Callable[[ProcedureConfig, int], Procedure]:
    if name == "adaptive":
        return lambda config, seed: AdaptiveProcedure(config, seed)
    if name == "best_pest":
        return lambda config, seed: BestPestProcedure(config, seed)
    if name == "best_pest_30":
        return lambda config, seed: BestPestProcedure(config, seed, trials=30)
    if name == "chart":
        return lambda config, seed: ChartProcedure(config, seed)
    raise SimulationError(f"unknown procedure {name!r}; choose from {', '.join(PROCEDURE_NAMES)}")


def sim_config(optotype: str, procedure: str = "adaptive") -> ProcedureConfig:
    return ProcedureConfig(
        procedure="chart" if procedure == "chart" else "adaptive",
        optotype_set=optotype,
        min_logmar=SCREEN_MIN_LOGMAR,
        max_logmar=SCREEN_MAX_LOGMAR,
    )


def observers(
    n: int,
    optotype: str,
    slope_sd_logmar: float,
    seed: int,
    threshold_range: tuple[float, float] = THRESHOLD_RANGE_LOGMAR,
) -> list[SimulatedObserver]:
    """n observers with thresholds stratified over threshold_range (one per equal slice, jittered)."""
    if n < 1:
        raise SimulationError(f"give at least one observer, got {n}")
    rng = np.random.default_rng([seed, int(slope_sd_logmar * 1000), 7, sum(map(ord, optotype))])
    low, high = threshold_range
    thresholds = low + (high - low) * (np.arange(n) + rng.random(n)) / n
    guess = optotype_set(optotype).guess_rate
    return [SimulatedObserver(float(t), slope_sd_logmar, guess) for t in thresholds]


def benchmark_row(procedure: str, optotype: str, slope_sd_logmar: float, n_observers: int, seed: int) -> dict:
    make = _factory(procedure)
    config = sim_config(optotype, procedure)
    chart_config = sim_config(optotype, "chart")
    return _test_retest_row(
        (procedure, optotype, slope_sd_logmar, seed, PROCEDURE_NAMES.index(procedure)),
        observers(n_observers, optotype, slope_sd_logmar, seed),
        lambda observer: observer.expected_chart_logmar(chart_config),
        lambda observer, test_seed, rng: run_test(make(config, test_seed), observer, rng),
    )


def benchmark(
    n_observers: int,
    seed: int,
    procedures: Sequence[str] = PROCEDURE_NAMES,
    optotypes: Sequence[str] = OPTOTYPE_SETS,
    observer_sds: Sequence[float] = OBSERVER_SDS_LOGMAR,
) -> list[dict]:
    rows = [
        benchmark_row(procedure, optotype, s, n_observers, seed)
        for optotype in optotypes
        for s in observer_sds
        for procedure in procedures
    ]
    if "adaptive" in procedures:
        rows += [low_vision_row(optotype, s, n_observers, seed) for optotype in optotypes for s in observer_sds]
    if "chart" in procedures:
        rows += [near_text_row(optotype, s, n_observers, seed) for optotype in optotypes for s in observer_sds]
    return rows


def calibrate_offsets(
    n_observers: int,
    seed: int,
    optotypes: Sequence[str] = ("sloan", "tumbling_e", "landolt_c8", "landolt_c4", "hotv"),
    slope_sd_logmar: float = 0.07,
) -> list[dict]:
    """E[expected chart score - adaptive posterior-mean threshold] per optotype set.

    Observers away from the screen's edges (-0.1..0.8) so that no bound clips the estimate.
    Also the coverage of the posterior's 95% interval of the threshold.
    """
    rows = []
    for optotype in optotypes:
        config = sim_config(optotype)
        chart_config = sim_config(optotype, "chart")
        gaps, covered = [], 0
        for i, observer in enumerate(observers(n_observers, optotype, slope_sd_logmar, seed, (-0.1, 0.8))):
            rng = np.random.default_rng([seed, i, 99, sum(map(ord, optotype))])
            procedure = AdaptiveProcedure(config, seed * 1_000_003 + i + 7919 * len(rows))
            run_test(procedure, observer, rng)
            post = procedure.posterior()
            gaps.append(observer.expected_chart_logmar(chart_config) - procedure.threshold_estimate_logmar())
            covered += post.quantile(0.025) <= observer.threshold_logmar <= post.quantile(0.975)
        rows.append(
            {
                "optotype": optotype,
                "offset": round(float(np.mean(gaps)), 4),
                "offset_se": round(float(np.std(gaps, ddof=1) / math.sqrt(len(gaps))), 4),
                "ci95_coverage": round(covered / len(gaps), 3),
                "observers": len(gaps),
            }
        )
    return rows


def format_table(rows: list[dict]) -> str:
    width = max([13, *(len(r["procedure"]) + 1 for r in rows)])  # "adaptive_low_vision" is longer
    header = f"{'procedure':<{width}}{'optotype':<12}{'obs_sd':>7}{'trials':>8}{'bias':>9}{'sd':>8}{'rmse':>8}{'loa95':>8}{'cr_sd':>8}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['procedure']:<{width}}{r['optotype']:<12}{r['observer_sd']:>7.2f}{r['trials_mean']:>8.1f}"
            f"{r['bias']:>+9.4f}{r['sd']:>8.4f}{r['rmse']:>8.4f}{r['loa95']:>8.4f}{r['cr_sd']:>8.4f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acuity.simulate", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the rows as a JSON list")
    parser.add_argument("--quick", action="store_true", help="few observers (for tests)")
    parser.add_argument("--observers", type=int, default=None, help="observers per condition (default 150, quick 6)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--low-vision", action="store_true", help="only the low-vision rows (moved closer)")
    parser.add_argument("--near-text", action="store_true", help="only the near text-row rows (phone at 40 cm)")
    parser.add_argument(
        "--calibrate-offset",
        action="store_true",
        help="estimate the chart-equivalent offsets of the adaptive procedure",
    )
    args = parser.parse_args(argv)
    n = args.observers if args.observers is not None else (6 if args.quick else 150)
    if n < 1:
        parser.error("--observers must be at least 1")
    started = time.perf_counter()
    if args.calibrate_offset:
        rows = calibrate_offsets(
            args.observers if args.observers is not None else (40 if args.quick else 1000), args.seed
        )
        print(json.dumps(rows, indent=1) if args.json else "\n".join(str(r) for r in rows))
    elif args.near_text:
        rows = [near_text_row(optotype, sd, n, args.seed) for optotype in OPTOTYPE_SETS for sd in OBSERVER_SDS_LOGMAR]
        print(json.dumps(rows, indent=1) if args.json else format_table(rows))
    elif args.low_vision:
        rows = [low_vision_row(optotype, sd, n, args.seed) for optotype in OPTOTYPE_SETS for sd in OBSERVER_SDS_LOGMAR]
        print(json.dumps(rows, indent=1) if args.json else format_table(rows))
    else:
        rows = benchmark(n, args.seed)
        print(json.dumps(rows, indent=1) if args.json else format_table(rows))
    if not args.json:
        what = "observers per optotype set" if args.calibrate_offset else "observers per condition"
        count = rows[0]["observers"] if args.calibrate_offset else n
        print(f"({count} {what}, seed {args.seed}, {time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
