"""Best PEST as FrACT runs it: the reference the adaptive procedure is benchmarked against.

Bach M (1996) Optom Vis Sci 73:49-53, and docs/measurement.md §7: logistic psychometric
function, guess rate 1 / alternatives, no lapse term, start at logMAR 1.0 then 0.7, 0.4, 0.1 while
every answer is correct, then each trial at the current maximum-likelihood threshold; 18 trials
for 8 choices, 24 for 4 choices and for letters; a final correction of +0.05 logMAR.

As in FrACT10's ThresholderPest.j (michaelbach/FrACT10 on GitHub): the likelihood lives on the
screen's range of sizes only (FrACT: smallest to largest stroke, log-spaced, mapped to 0..1), the
logistic's scale is 1/10 of that range (so the assumed slope depends on the screen: 0.13 logMAR
for a -0.3..1.0 range), the search starts from two pseudo-trials (wrong at the smallest size,
right at the largest), and each next size is the middle of the likelihood's plateau of maxima.
Differences from FrACT: sizes on a 0.01 logMAR grid, no easy trials, and the 95% interval comes
from the normalised likelihood (FrACT offers a bootstrap).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from acuity.procedure import AcuityResult, Presentation, ProcedureConfig
from acuity.procedures._common import snap_requested
from acuity.procedures.bayesian import BayesianProcedure
from acuity.psychometric import PsychometricModel, ThresholdPosterior

FRACT_START_LOGMAR = (1.0, 0.7, 0.4, 0.1)
FRACT_FINAL_CORRECTION_LOGMAR = 0.05


def fract_trials(optotype_set_name: str, alternatives: int) -> int:
    return 18 if alternatives >= 8 and optotype_set_name != "sloan" else 24


class BestPestProcedure(BayesianProcedure):
    def __init__(self, config: ProcedureConfig, seed: int, trials: int | None = None):
        super().__init__(config, seed)
        self.chart_offset_logmar = FRACT_FINAL_CORRECTION_LOGMAR
        self.trials = trials or fract_trials(config.optotype_set, len(self.optotypes.symbols))

    def _model(self) -> PsychometricModel:
        sizes = self.sizes
        guess = 1.0 / len(self.optotypes.symbols)
        # FrACT: logistic exp((t - x) / scale) with scale = range / 10; our logistic is parametrised
        # by its SD, scale * pi / sqrt(3).
        scale = (sizes[-1] - sizes[0]) / 10.0
        return PsychometricModel(guess, 0.0, (scale * math.pi / math.sqrt(3.0),), (1.0,), "logistic")

    def _new_posterior(self) -> ThresholdPosterior:
        post = ThresholdPosterior(self.model, self.sizes[0], self.sizes[-1])
        post.update(self.sizes[0], False)  # FrACT's two pseudo-trials
        post.update(self.sizes[-1], True)
        return post

    def threshold_estimate_logmar(self) -> float:
        """Maximum likelihood: the middle of the plateau of maxima (as FrACT)."""
        marginal = self.posterior().marginal()
        at_max = np.flatnonzero(marginal >= marginal.max())
        return float(self.posterior().grid_logmar[int(round((at_max[0] + at_max[-1]) / 2))])

    def estimate(self) -> AcuityResult:
        """As FrACT: at the floor or ceiling of the screen's range when the estimate sits there."""
        result = super().estimate()
        if not self.history:
            return result
        threshold = self.threshold_estimate_logmar()
        if abs(threshold - self.sizes[0]) < 1e-9:
            return dataclasses.replace(result, bound="<=")
        if abs(threshold - self.sizes[-1]) < 1e-9:
            return dataclasses.replace(result, bound=">=")
        return dataclasses.replace(result, bound=None)

    def next_presentation(self, requested_logmar: float | None = None) -> Presentation | None:
        if self.finished:
            return None
        if requested_logmar is not None:
            return self._presentation(snap_requested(self.config, requested_logmar))
        n = len(self.history)
        if n < len(FRACT_START_LOGMAR) and all(all(t.correct) for t in self.history):
            return self._presentation(self._clamp(FRACT_START_LOGMAR[n]))
        return self._presentation(self._clamp(self.threshold_estimate_logmar()))

    def _clamp(self, logmar: float) -> float:
        return min(self.sizes, key=lambda size: (abs(size - logmar), size))

    @property
    def finished(self) -> bool:
        return len(self.history) >= self.trials
