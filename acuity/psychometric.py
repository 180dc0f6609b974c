"""The psychometric function of optotype identification, its Fisher information and a grid posterior.

p(x) = g + (1 - g - l) * F((x - t) / s)   (docs/measurement.md §7)

x is the stimulus size in logMAR, t the threshold in logMAR (the size at which F = 1/2), g the
guess rate of the optotype set, l the lapse rate, s the spread in logMAR (probit SD for the normal
F; for the logistic F the scale is chosen so that its SD equals s).

Everything here is pure numpy; no scipy (not a project dependency).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from acuity.optotypes import optotype_set

# Lapse rate of an attentive observer: 0.01-0.05 (docs/measurement.md §7); 0.03 is the middle.
LAPSE_RATE = 0.03

# Probit SD of the psychometric function in logMAR. High-contrast Sloan letters: 0.064-0.071
# (PMID 28211180). No comparable figure is at hand for tumbling E and Landolt C, whose detail is
# the same 1-arcmin stroke/gap at logMAR 0; we assume the same spread and marginalise over a range
# of spreads (SLOPE_SD_SET) because the spread varies several-fold between observers (Horner 1985).
SLOPE_SD_LOGMAR: dict[str, float] = {
    "sloan": 0.07,
    "tumbling_e": 0.07,
    "landolt_c8": 0.07,
    "landolt_c4": 0.07,
    "hotv": 0.07,
}
# Spreads the adaptive posterior marginalises over (relative to the set's typical spread) and their
# prior weights: half, typical, double (covers the observers simulated in acuity.simulate).
SLOPE_SD_FACTORS: tuple[float, ...] = (0.5, 1.0, 2.0)
SLOPE_SD_WEIGHTS: tuple[float, ...] = (0.25, 0.5, 0.25)

Shape = Literal["probit", "logistic"]


def norm_cdf(z: np.ndarray | float) -> np.ndarray:
    """Standard normal CDF, vectorised.

    erf by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7), enough for likelihoods whose
    probabilities are kept away from 0 and 1 by the guess and lapse rates.
    """
    z = np.asarray(z, dtype=float)
    x = np.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf_abs = 1.0 - poly * np.exp(-x * x)
    return 0.5 * (1.0 + np.sign(z) * erf_abs)


def norm_pdf(z: np.ndarray | float) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    return np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def _core(z: np.ndarray, shape: Shape) -> np.ndarray:
    if shape == "probit":
        return norm_cdf(z)
    # Logistic with the same SD as a normal of SD 1: scale sqrt(3)/pi.
    return 1.0 / (1.0 + np.exp(-z * (math.pi / math.sqrt(3.0))))


def _core_density(z: np.ndarray, shape: Shape) -> np.ndarray:
    if shape == "probit":
        return norm_pdf(z)
    k = math.pi / math.sqrt(3.0)
    e = 1.0 / (1.0 + np.exp(-z * k))
    return k * e * (1.0 - e)


def _check_rates(guess_rate: float, lapse_rate: float, slope_sd_logmar: float) -> None:
    if not (0.0 <= guess_rate < 1.0):
        raise ValueError(f"guess rate {guess_rate!r} must be in [0, 1): use 1 / number of alternatives")
    if not (0.0 <= lapse_rate < 1.0 - guess_rate):
        raise ValueError(f"lapse rate {lapse_rate!r} must be in [0, 1 - guess rate), typically 0.01-0.05")
    if not (slope_sd_logmar > 0.0 and math.isfinite(slope_sd_logmar)):
        raise ValueError(f"slope SD {slope_sd_logmar!r} must be a positive number of logMAR (e.g. 0.07)")


def probability_correct(
    x_logmar: np.ndarray | float,
    threshold_logmar: np.ndarray | float,
    slope_sd_logmar: np.ndarray | float,
    guess_rate: float,
    lapse_rate: float = LAPSE_RATE,
    shape: Shape = "probit",
) -> np.ndarray:
    """p(x) = g + (1 - g - l) F((x - t) / s); larger x (bigger optotype) is easier."""
    z = (np.asarray(x_logmar, dtype=float) - threshold_logmar) / slope_sd_logmar
    return guess_rate + (1.0 - guess_rate - lapse_rate) * _core(z, shape)


def fisher_information(
    x_logmar: np.ndarray | float,
    threshold_logmar: float,
    slope_sd_logmar: float,
    guess_rate: float,
    lapse_rate: float = LAPSE_RATE,
    shape: Shape = "probit",
) -> np.ndarray:
    """Fisher information about t of one trial at x: p'(t)^2 / (p (1 - p)), per logMAR^2."""
    _check_rates(guess_rate, lapse_rate, slope_sd_logmar)
    z = (np.asarray(x_logmar, dtype=float) - threshold_logmar) / slope_sd_logmar
    p = guess_rate + (1.0 - guess_rate - lapse_rate) * _core(z, shape)
    dp = (1.0 - guess_rate - lapse_rate) * _core_density(z, shape) / slope_sd_logmar
    return dp * dp / (p * (1.0 - p))


def max_fisher_information(
    slope_sd_logmar: float, guess_rate: float, lapse_rate: float = LAPSE_RATE, shape: Shape = "probit"
) -> tuple[float, float]:
    """(information, offset x - t in logMAR) of the most informative placement of one trial."""
    offsets = np.linspace(-4.0, 4.0, 16001) * slope_sd_logmar
    info = fisher_information(offsets, 0.0, slope_sd_logmar, guess_rate, lapse_rate, shape)
    i = int(np.argmax(info))
    return float(info[i]), float(offsets[i])


def cramer_rao_sd(
    n_trials: float,
    slope_sd_logmar: float,
    guess_rate: float,
    lapse_rate: float = LAPSE_RATE,
    placements_logmar: Sequence[float] | None = None,
    threshold_logmar: float = 0.0,
) -> float:
    """Smallest SD of an unbiased threshold estimate (known slope, guess and lapse rates).

    With `placements_logmar` None: n_trials all at the optimal placement (the physical limit,
    docs/measurement.md §7: 0.018 logMAR at N = 30 for Sloan letters, SD 0.07, lapse 0.02).
    Otherwise the information summed over the given placements for this threshold.
    """
    if placements_logmar is None:
        if not n_trials > 0:
            raise ValueError(f"n_trials {n_trials!r} must be positive")
        info, _ = max_fisher_information(slope_sd_logmar, guess_rate, lapse_rate)
        return 1.0 / math.sqrt(n_trials * info)
    info_sum = float(
        np.sum(
            fisher_information(np.asarray(placements_logmar), threshold_logmar, slope_sd_logmar, guess_rate, lapse_rate)
        )
    )
    if info_sum <= 0.0:
        raise ValueError("the placements carry no information about the threshold; give at least one trial")
    return 1.0 / math.sqrt(info_sum)


@dataclass(frozen=True)
class PsychometricModel:
    """What a procedure assumes about the observer (marginalising over a few spreads)."""

    guess_rate: float
    lapse_rate: float = LAPSE_RATE
    slope_sds_logmar: tuple[float, ...] = (0.07,)
    slope_weights: tuple[float, ...] = (1.0,)
    shape: Shape = "probit"

    def __post_init__(self) -> None:
        if len(self.slope_sds_logmar) != len(self.slope_weights) or not self.slope_sds_logmar:
            raise ValueError("give one prior weight per slope SD")
        for s in self.slope_sds_logmar:
            _check_rates(self.guess_rate, self.lapse_rate, s)

    @classmethod
    def for_optotype_set(cls, set_name: str, marginalise_slope: bool = True) -> PsychometricModel:
        guess = optotype_set(set_name).guess_rate
        s = SLOPE_SD_LOGMAR[set_name]
        if not marginalise_slope:
            return cls(guess, LAPSE_RATE, (s,), (1.0,))
        return cls(guess, LAPSE_RATE, tuple(round(s * f, 4) for f in SLOPE_SD_FACTORS), SLOPE_SD_WEIGHTS)

    def likelihood_correct(self, x_logmar: float, grid_logmar: np.ndarray) -> np.ndarray:
        """p(correct | t, s) on the (slope, threshold) grid: shape (slopes, thresholds)."""
        s = np.asarray(self.slope_sds_logmar)[:, None]
        return probability_correct(x_logmar, grid_logmar[None, :], s, self.guess_rate, self.lapse_rate, self.shape)


@lru_cache(maxsize=64)
def _candidate_likelihoods(
    model: PsychometricModel, grid_key: tuple[float, float, int], candidates: tuple[float, ...]
) -> np.ndarray:
    """p(correct) for every candidate size on the flattened (slope, threshold) grid: (m, k * n)."""
    grid = np.linspace(*grid_key)
    x = np.asarray(candidates)[:, None, None]
    s = np.asarray(model.slope_sds_logmar)[None, :, None]
    p = probability_correct(x, grid[None, None, :], s, model.guess_rate, model.lapse_rate, model.shape)
    table = np.ascontiguousarray(p.reshape(len(candidates), -1))
    table.flags.writeable = False  # shared between procedures through the cache
    return table


class ThresholdPosterior:
    """Posterior over the threshold on a grid, marginalised over the model's slope SDs."""

    def __init__(self, model: PsychometricModel, low_logmar: float, high_logmar: float, step_logmar: float = 0.01):
        if not high_logmar > low_logmar:
            raise ValueError("the threshold grid needs high_logmar > low_logmar")
        n = int(round((high_logmar - low_logmar) / step_logmar)) + 1
        self.model = model
        self._grid_key = (float(low_logmar), float(low_logmar + (n - 1) * step_logmar), n)
        self.grid_logmar = np.linspace(*self._grid_key)
        # Flat prior over thresholds (no population prior: it would bias extreme eyes), the
        # model's prior weights over slopes.
        weights = np.asarray(model.slope_weights, dtype=float)
        self._log_post = np.log(weights / weights.sum())[:, None] + np.zeros((1, n))
        self._joint: np.ndarray | None = None
        self.trials = 0

    def update(self, x_logmar: float, correct: bool) -> None:
        p = self.model.likelihood_correct(x_logmar, self.grid_logmar)
        p = np.clip(p if correct else 1.0 - p, 1e-300, None)
        self._log_post = self._log_post + np.log(p)
        self._log_post -= self._log_post.max()
        self._joint = None
        self.trials += 1

    def joint(self) -> np.ndarray:
        """Normalised posterior over (slope, threshold); read-only (cached until the next update)."""
        if self._joint is None:
            w = np.exp(self._log_post)
            self._joint = w / w.sum()
            self._joint.flags.writeable = False
        return self._joint

    def marginal(self) -> np.ndarray:
        return self.joint().sum(axis=0)

    def mean(self) -> float:
        return float(np.dot(self.marginal(), self.grid_logmar))

    def sd(self) -> float:
        m = self.marginal()
        mu = float(np.dot(m, self.grid_logmar))
        return math.sqrt(max(float(np.dot(m, (self.grid_logmar - mu) ** 2)), 0.0))

    def mode(self) -> float:
        return float(self.grid_logmar[int(np.argmax(self.marginal()))])

    def quantile(self, q: float) -> float:
        """Quantile of the threshold, treating each grid point as the centre of a uniform cell."""
        m = self.marginal()
        step = self.grid_logmar[1] - self.grid_logmar[0]
        edges = np.concatenate(([self.grid_logmar[0] - step / 2], self.grid_logmar + step / 2))
        cdf = np.concatenate(([0.0], np.cumsum(m)))
        return float(np.interp(q, cdf, edges))

    def probability_below(self, logmar: float) -> float:
        m = self.marginal()
        step = self.grid_logmar[1] - self.grid_logmar[0]
        edges = np.concatenate(([self.grid_logmar[0] - step / 2], self.grid_logmar + step / 2))
        cdf = np.concatenate(([0.0], np.cumsum(m)))
        return float(np.interp(logmar, edges, cdf))

    def expected_variance(
        self, candidates_logmar: tuple[float, ...], first: int = 0, stop: int | None = None
    ) -> np.ndarray:
        """Expected posterior variance of t after one more trial at each candidate size.

        Minimum-variance placement (King-Smith et al. 1994, Vision Res 34:885; the criterion of
        ZEST and, with entropy instead of variance, of QUEST+, Watson 2017). Computed in one
        matrix product so that a 30-trial replay stays within a few milliseconds; `first` and
        `stop` restrict it to candidates_logmar[first:stop] (the likelihood table is cached for the
        whole tuple).
        """
        lik = _candidate_likelihoods(self.model, self._grid_key, candidates_logmar)[first:stop]
        w = self.joint()
        t = self.grid_logmar - float(np.dot(w.sum(axis=0), self.grid_logmar))
        w_flat = w.reshape(-1)
        t_flat = np.broadcast_to(t, w.shape).reshape(-1)
        moments = np.stack((w_flat, w_flat * t_flat, w_flat * t_flat * t_flat), axis=1)
        right = lik @ moments  # (m, 3): P(correct), E[t; correct], E[t^2; correct]
        wrong = moments.sum(axis=0)[None, :] - right
        with np.errstate(divide="ignore", invalid="ignore"):
            var = (
                right[:, 2]
                - np.where(right[:, 0] > 0, right[:, 1] ** 2 / right[:, 0], 0.0)
                + wrong[:, 2]
                - np.where(wrong[:, 0] > 0, wrong[:, 1] ** 2 / wrong[:, 0], 0.0)
            )
        return var
