"""Procedures that estimate the threshold from a grid posterior: adaptive (default) and manual.

The posterior is over the threshold t of p(x) = g + (1 - g - l) F((x - t) / s) (see
acuity.psychometric), marginalised over three spreads s. The result is reported on the
chart-equivalent scale: t + CHART_OFFSET_LOGMAR[optotype set], the offset between the
psychometric threshold and the ETDRS letter-by-letter score of the same eye.
"""

from __future__ import annotations

import bisect

import numpy as np

from acuity.procedure import AcuityResult, Presentation, Procedure, ProcedureConfig, ProcedureError
from acuity.procedures._common import (
    SIZE_STEP_LOGMAR,
    check_config,
    choose_symbol,
    size_grid,
    size_grid_edge,
    snap_requested,
    start_size,
    trial_outcomes,
)
from acuity.psychometric import PsychometricModel, ThresholdPosterior

# Chart-equivalent offset: E[ETDRS letter-by-letter score] - E[posterior mean threshold] for the
# same simulated observers (probit SD 0.07, lapse 0.03, thresholds uniform over -0.1..0.8 logMAR,
# chart 1.0..-0.3 with 5 letters a row and the 3-miss stop rule, adaptive test of 30 trials).
# Obtained by simulation with:  python -m acuity.simulate --calibrate-offset
# (1000 observers per set, seed 2026: sloan 0.0657, tumbling_e 0.0403, landolt_c8 0.0602,
# landolt_c4 0.0453, each +/-0.001 SE; seeds 7 and 2026 at 400 observers agree within 0.004).
# Tumbling E, Landolt C 4 and HOTV share one model (guess rate 1/4), so they share the pooled value.
# Figures in docs/procedures.md. FrACT adds +0.05 logMAR for the same reason (Bach).
CHART_OFFSET_LOGMAR: dict[str, float] = {
    "sloan": 0.065,
    "tumbling_e": 0.043,
    "landolt_c8": 0.060,
    "landolt_c4": 0.043,
    "hotv": 0.043,
}

# The posterior's threshold grid reaches this far beyond the drawable range, so that an eye just
# beyond the edge is not pushed inside it by the prior; 0.01 logMAR steps.
_GRID_MARGIN_LOGMAR = 0.5
# Stop early when the eye is beyond the drawable range with this posterior probability after at
# least this many trials at the edge size: more trials there cannot measure it.
_EDGE_STOP_PROBABILITY = 0.975
_EDGE_STOP_TRIALS = 3
# An early stop on the interval width needs at least this many trials: fewer, and the posterior's
# 95% interval is not trusted to stop on. A manual eye (no stopping rule) with fewer is "stopped early".
MIN_TRIALS_FOR_INTERVAL = 8


class BayesianProcedure(Procedure):
    """Shared machinery: the posterior kept in step with the history, and the result.

    Low vision (config.reach_max_logmar): the posterior covers every size reachable by moving the
    patient closer from the start, so a move changes only which sizes may be shown (`sizes`), never
    what the answers so far mean; sizes are always on the logMAR scale at the distance shown.
    """

    chart_offset_logmar: float = 0.0
    movable = True

    def __init__(self, config: ProcedureConfig, seed: int):
        super().__init__(config, seed)
        self.optotypes = check_config(config)
        self._sizes = (0, size_grid(config))  # (moves applied, the grid drawable now)
        self.model = self._model()
        self.chart_offset_logmar = CHART_OFFSET_LOGMAR[config.optotype_set]
        top = config.reach_max_logmar if config.reach_max_logmar is not None else self.sizes[-1]
        self._low_logmar = round(min(-0.6, self.sizes[0] - _GRID_MARGIN_LOGMAR), 2)
        self._high_logmar = round(max(1.6, top + _GRID_MARGIN_LOGMAR), 2)
        self._posterior = self._new_posterior()
        self._synced = 0

    @property
    def sizes(self) -> tuple[float, ...]:
        """Every size drawable at the current distance (after the last move closer), smallest first."""
        if self._sizes[0] != len(self.steps):
            self._sizes = (len(self.steps), size_grid(self.drawable_config()))
        return self._sizes[1]

    def _range_shown(self) -> tuple[float, float]:
        """The smallest and largest sizes drawable at any distance used so far."""
        configs = [self.config, *self.steps]
        return (
            min(size_grid_edge(c.min_logmar, up=True) for c in configs),
            max(size_grid_edge(c.max_logmar, up=False) for c in configs),
        )

    def wants_closer(self) -> bool:
        reach = self.config.reach_max_logmar
        if reach is None or self.sizes[-1] >= reach - SIZE_STEP_LOGMAR + 1e-9:
            return False
        largest = self.sizes[-1]
        return (
            self._trials_at(largest) >= _EDGE_STOP_TRIALS
            and 1.0 - self.posterior().probability_below(largest - self.chart_offset_logmar) >= _EDGE_STOP_PROBABILITY
        )

    def _new_posterior(self) -> ThresholdPosterior:
        return ThresholdPosterior(self.model, self._low_logmar, self._high_logmar)

    def _model(self) -> PsychometricModel:
        return PsychometricModel.for_optotype_set(self.config.optotype_set)

    # -- state derived from the history -------------------------------------------------------

    def posterior(self) -> ThresholdPosterior:
        """The posterior after every recorded trial (updated incrementally)."""
        if self._synced > len(self.history):
            self._posterior = self._new_posterior()
            self._synced = 0
        for trial in self.history[self._synced :]:
            for correct in trial.correct:
                self._posterior.update(trial.presentation.logmar, correct)
        self._synced = len(self.history)
        return self._posterior

    def threshold_estimate_logmar(self) -> float:
        """The psychometric threshold estimate before the chart offset (posterior mean)."""
        return self.posterior().mean()

    def _trials_at(self, logmar: float) -> int:
        return sum(1 for t in self.history if abs(t.presentation.logmar - logmar) < 1e-9)

    def _presentation(self, logmar: float) -> Presentation:
        index = len(self.history)
        previous = self.history[-1].presentation.optotypes if self.history else ()
        symbol = choose_symbol(self.optotypes.symbols, self.seed, index, previous)
        return Presentation(index, logmar, (symbol,))

    # -- result -------------------------------------------------------------------------------

    def estimate(self) -> AcuityResult:
        post = self.posterior()
        offset = self.chart_offset_logmar
        point = self.threshold_estimate_logmar() + offset
        low = post.quantile(0.025) + offset
        high = post.quantile(0.975) + offset
        median = post.quantile(0.5) + offset
        smallest, largest = self._range_shown()
        bound = None
        # Beyond the edge only when tested at the edge and more likely than not beyond it.
        if median < smallest and self._trials_at(smallest):
            bound = "<="
        elif median > largest and self._trials_at(largest):
            bound = ">="
        # Report within what a chart on this screen could score: from its smallest row read in
        # full to its largest row read not at all (largest + 0.1).
        # The interval too: beyond the screen's range the posterior holds only the prior, and a
        # bound says so (a -1.05 logMAR "limit" is not a measurement).
        floor, ceiling = smallest, largest + 0.1
        logmar = min(max(point, floor), ceiling)
        outcomes = trial_outcomes(self.history)
        return AcuityResult(
            logmar=round(logmar, 3),
            ci95_low_logmar=round(max(min(low, logmar), floor), 3),
            ci95_high_logmar=round(min(max(high, logmar), ceiling), 3),
            bound=bound,
            trials=len(self.history),
            optotypes_shown=len(outcomes),
            optotypes_correct=sum(1 for _, c in outcomes if c),
            finished=self.finished,
        )

    def _beyond_edge(self) -> bool:
        post = self.posterior()
        offset = self.chart_offset_logmar
        smallest, largest = self.sizes[0], self.sizes[-1]
        if (
            self._trials_at(smallest) >= _EDGE_STOP_TRIALS
            and post.probability_below(smallest - offset) >= _EDGE_STOP_PROBABILITY
        ):
            return True
        if (
            self._trials_at(largest) >= _EDGE_STOP_TRIALS
            and 1.0 - post.probability_below(largest - offset) >= _EDGE_STOP_PROBABILITY
        ):
            return True
        return False


class AdaptiveProcedure(BayesianProcedure):
    """Minimum expected posterior variance placement (ZEST-like, King-Smith et al. 1994).

    Trial 0 shows the largest size at or below logMAR 1.0 (an easy first trial that shows every
    patient what to do); from then on each size is the one whose answer is expected to shrink the
    posterior variance of the threshold the most, which bisects the range in a few trials (faster
    than FrACT's fixed 0.3 logMAR steps). No scheduled easy trials: each costs a trial of the
    budget (1 in 6 would raise the SD by about 10%); the clinician can show an easier size with
    requested_logmar at any time, and it is used like any other trial.
    """

    def next_presentation(self, requested_logmar: float | None = None) -> Presentation | None:
        if self.finished:
            return None
        if requested_logmar is not None:
            return self._presentation(snap_requested(self.drawable_config(), requested_logmar))
        if self.wants_closer():  # nothing drawable here can measure this eye: move closer first
            return None
        if not self.history:
            return self._presentation(start_size(self.sizes))
        post = self.posterior()
        # Only sizes near the posterior can be the most informative: search those (speed).
        centre, spread = post.mean(), 4.0 * post.sd() + 0.3
        first = bisect.bisect_left(self.sizes, centre - spread)
        stop = max(bisect.bisect_right(self.sizes, centre + spread), first + 1)
        first = min(first, stop - 1, len(self.sizes) - 1)
        variance = post.expected_variance(self.sizes, first, stop)
        # Rounded so that floating-point noise cannot flip a near-tie between two servers.
        return self._presentation(self.sizes[first + int(np.argmin(np.round(variance, 12)))])

    @property
    def finished(self) -> bool:
        n = len(self.history)
        if n >= self.config.max_trials:
            return True
        if n == 0:
            return False
        target = self.config.target_ci95_half_width_logmar
        if self.wants_closer():
            return False
        if target > 0 and n >= MIN_TRIALS_FOR_INTERVAL:
            post = self.posterior()
            if (post.quantile(0.975) - post.quantile(0.025)) / 2 < target:
                return True
        return self._beyond_edge()


class ManualProcedure(BayesianProcedure):
    """The clinician picks every size; the result comes from the same posterior as "adaptive".

    Never finishes on its own: the clinician (the web app) ends it.
    """

    def next_presentation(self, requested_logmar: float | None = None) -> Presentation | None:
        if requested_logmar is None:
            raise ProcedureError(
                "the manual procedure shows only the sizes the clinician chooses: give requested_logmar"
            )
        return self._presentation(snap_requested(self.drawable_config(), requested_logmar))

    @property
    def finished(self) -> bool:
        return False

    @classmethod
    def stopped_early(cls, trials: int, finished: bool) -> bool:
        """No stopping rule of its own: stopped early with fewer trials than the adaptive procedure
        needs before it may stop on its interval (MIN_TRIALS_FOR_INTERVAL)."""
        return trials < MIN_TRIALS_FOR_INTERVAL
