"""ETDRS-style chart: rows of letters 0.1 logMAR apart, read from the top, letter-by-letter score.

A row is shown whole (`row`: one letter width apart, between crowding bars), letter by letter
(`single`), or set like a short line of print (`text`: letters a stroke apart, no bars; near reading,
docs/procedures.md "Text-like rows"); the sizes, the stop rule and the score are the same for all three.

Rows of `chart_letters_per_row` (5) optotypes, 0.1 logMAR apart, starting at logMAR 1.0 (or the
largest row the screen can draw below it), descending one row at a time until a row has
`chart_stop_misses` (3) or more misses (Gilchrist 1996) or the smallest drawable row is done.
Score (docs/measurement.md §7, Ferris et al. 1982):
    logMAR = (logMAR of the largest row tested + 0.1) - (0.1 / letters per row) * letters correct
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from acuity.optotypes import optotype_set
from acuity.procedure import AcuityResult, Presentation, Procedure, ProcedureConfig, ProcedureError, trial_rng
from acuity.procedures._common import chart_rows, check_config, size_grid, snap_requested, start_size, trial_outcomes
from acuity.psychometric import LAPSE_RATE, SLOPE_SD_LOGMAR, probability_correct

ROW_STEP_LOGMAR = 0.1
# The standard chart's rows (ETDRS / Bailey-Lovie: +1.0 to -0.3, 14 rows).
STANDARD_ROWS_LOGMAR = tuple(round(1.0 - 0.1 * i, 1) for i in range(14))


def chart_score_distribution(
    threshold_logmar: float,
    slope_sd_logmar: float,
    guess_rate: float,
    rows_logmar: Sequence[float] = STANDARD_ROWS_LOGMAR,
    letters_per_row: int = 5,
    stop_misses: int = 3,
    lapse_rate: float = LAPSE_RATE,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact distribution of the letter-by-letter score for a simulated observer.

    Rows are read from rows_logmar[0] downwards; each letter is correct independently with
    p(row) of acuity.psychometric; the test stops after a row with `stop_misses` or more misses.
    Returns (scores, probabilities), scores in logMAR.
    """
    n = letters_per_row
    n_rows = len(rows_logmar)
    going = np.zeros(n * n_rows + 1)
    going[0] = 1.0
    done = np.zeros_like(going)
    for i, row in enumerate(rows_logmar):
        q = float(probability_correct(row, threshold_logmar, slope_sd_logmar, guess_rate, lapse_rate))
        after = np.zeros_like(going)
        for k in range(n + 1):
            shifted = np.roll(going, k) * (math.comb(n, k) * q**k * (1.0 - q) ** (n - k))
            if n - k >= stop_misses or i == n_rows - 1:
                done += shifted
            else:
                after += shifted
        going = after
    correct = np.arange(len(done))
    scores = rows_logmar[0] + ROW_STEP_LOGMAR - (ROW_STEP_LOGMAR / n) * correct
    return scores, done


@lru_cache(maxsize=32)
def chart_score_sd_logmar(optotype_set_name: str, letters_per_row: int, stop_misses: int) -> float:
    """Within-test SD of the letter-by-letter score, computed exactly from the binomial.

    RMS over eyes with thresholds from -0.2 to 0.8 logMAR on the standard chart, probit SD of the
    set (0.07), lapse 0.03. For Sloan letters, 5 a row, 3-miss stop: 0.047 logMAR, in line with
    the published within-test SD of about 0.04 (docs/measurement.md §8) and with the
    test-retest limits of +/-0.10 (Arditi & Cagenello 1993: SD 0.036) to +/-0.18 (Rosser 2003).
    """
    guess = optotype_set(optotype_set_name).guess_rate
    s = SLOPE_SD_LOGMAR[optotype_set_name]
    variances = []
    for t in np.linspace(-0.2, 0.8, 51):
        scores, probs = chart_score_distribution(float(t), s, guess, STANDARD_ROWS_LOGMAR, letters_per_row, stop_misses)
        mean = float(np.dot(scores, probs))
        variances.append(float(np.dot(probs, (scores - mean) ** 2)))
    return math.sqrt(float(np.mean(variances)))


class ChartProcedure(Procedure):
    def __init__(self, config: ProcedureConfig, seed: int):
        super().__init__(config, seed)
        self.optotypes = check_config(config)
        self.per_row = config.chart_letters_per_row
        self.rows_logmar = size_grid(config, ROW_STEP_LOGMAR)  # smallest first
        if not self.rows_logmar:
            raise ProcedureError(
                f"the drawable range {config.min_logmar}..{config.max_logmar} logMAR holds no chart row "
                "(rows are 0.1 logMAR apart): widen it, or use the adaptive procedure"
            )
        self._symbols = chart_rows(
            self.optotypes.symbols, len(self.rows_logmar), self.per_row, trial_rng(seed, 0, "chart-rows")
        )

    # -- state derived from the history -------------------------------------------------------

    def _rows(self) -> list[tuple[float, list[bool]]]:
        """(row logMAR, the correct flags so far) for every row started, in order."""
        rows: list[tuple[float, list[bool]]] = []
        for trial in self.history:
            if not rows or len(rows[-1][1]) >= self.per_row:
                rows.append((trial.presentation.logmar, []))
            rows[-1][1].extend(trial.correct)
        return rows

    def _next_row_logmar(self, rows: list[tuple[float, list[bool]]]) -> float | None:
        if not rows:
            return start_size(self.rows_logmar)
        size = round(rows[-1][0] - ROW_STEP_LOGMAR, 2)
        return size if size >= self.rows_logmar[0] - 1e-9 else None

    @property
    def finished(self) -> bool:
        rows = self._rows()
        if not rows or len(rows[-1][1]) < self.per_row:
            return False
        if rows[-1][1].count(False) >= self.config.chart_stop_misses:
            return True
        return self._next_row_logmar(rows) is None

    def next_presentation(self, requested_logmar: float | None = None) -> Presentation | None:
        if requested_logmar is not None and self.history:
            raise ProcedureError(
                "a chart descends row by row from its first row: choose the start row before the "
                "first trial, or use the manual procedure to choose each size"
            )
        if self.finished:
            return None
        rows = self._rows()
        index = len(self.history)
        if requested_logmar is not None:
            snap_requested(self.config, requested_logmar)  # refuses sizes the screen cannot draw
            size = min(self.rows_logmar, key=lambda row: (abs(row - requested_logmar), row))
            row_number, position = 0, 0
        elif rows and len(rows[-1][1]) < self.per_row:
            size, row_number, position = rows[-1][0], len(rows) - 1, len(rows[-1][1])
        else:
            size, row_number, position = self._next_row_logmar(rows), len(rows), 0
        symbols = self._symbols[row_number]
        if self.config.chart_presentation in ("row", "text"):
            return Presentation(index, size, symbols)
        return Presentation(index, size, (symbols[position],))

    # -- result -------------------------------------------------------------------------------

    def estimate(self) -> AcuityResult:
        rows = self._rows()
        outcomes = trial_outcomes(self.history)
        correct = sum(1 for _, c in outcomes if c)
        top = rows[0][0] if rows else start_size(self.rows_logmar)
        logmar = round(top + ROW_STEP_LOGMAR - (ROW_STEP_LOGMAR / self.per_row) * correct, 3)
        half_width = 1.96 * chart_score_sd_logmar(self.config.optotype_set, self.per_row, self.config.chart_stop_misses)
        finished = self.finished
        bound = None
        if finished and rows[0][1].count(False) >= self.config.chart_stop_misses:
            bound = ">="  # failed the largest row tested (the chart's top)
        elif finished and rows[-1][1].count(False) < self.config.chart_stop_misses:
            bound = "<="  # read the smallest drawable row
        return AcuityResult(
            logmar=logmar,
            ci95_low_logmar=round(logmar - half_width, 3),
            ci95_high_logmar=round(logmar + half_width, 3),
            bound=bound,
            trials=len(self.history),
            optotypes_shown=len(outcomes),
            optotypes_correct=correct,
            finished=finished,
        )
