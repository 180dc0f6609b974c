"""Pieces every procedure shares: config checks, the drawable size grid, symbol choice."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

from acuity.optotypes import OPTOTYPE_SETS, OptotypeSet
from acuity.procedure import Presentation, ProcedureConfig, ProcedureError, TrialRecord

# Sizes are shown on a 0.01 logMAR grid: 2.3% steps in size, well inside the 5% tolerance of
# ISO 10938:2016, and a grid keeps every stored size exactly reproducible.
SIZE_STEP_LOGMAR = 0.01
# ETDRS charts start at logMAR 1.0 (20/200) (docs/measurement.md §7).
CHART_TOP_LOGMAR = 1.0


def check_config(config: ProcedureConfig) -> OptotypeSet:
    """The optotype set of a valid configuration; ProcedureError saying what to fix otherwise."""
    if not isinstance(config, ProcedureConfig):
        raise ProcedureError("pass an acuity.procedure.ProcedureConfig")
    if config.optotype_set not in OPTOTYPE_SETS:
        raise ProcedureError(f"unknown optotype set {config.optotype_set!r}; choose one of {', '.join(OPTOTYPE_SETS)}")
    for name in ("min_logmar", "max_logmar", "target_ci95_half_width_logmar"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ProcedureError(f"{name} must be a finite number of logMAR, got {value!r}")
    if not config.min_logmar < config.max_logmar:
        raise ProcedureError(
            f"min_logmar ({config.min_logmar}) must be below max_logmar ({config.max_logmar}): "
            "check the screen calibration and viewing distance"
        )
    reach = config.reach_max_logmar
    if reach is not None and (
        isinstance(reach, bool) or not isinstance(reach, (int, float)) or not math.isfinite(reach)
    ):
        raise ProcedureError(f"reach_max_logmar must be a finite number of logMAR or None, got {reach!r}")
    if reach is not None and not reach > config.max_logmar:
        raise ProcedureError(
            f"reach_max_logmar ({reach}) must be above max_logmar ({config.max_logmar}): "
            "moving closer shows larger letters; leave it None when the patient cannot move closer"
        )
    if config.target_ci95_half_width_logmar < 0:
        raise ProcedureError("target_ci95_half_width_logmar must be 0 (no early stop) or positive")
    for name, low, high in (("max_trials", 1, 500), ("chart_letters_per_row", 1, 10), ("chart_stop_misses", 1, 10)):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ProcedureError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    if config.chart_stop_misses > config.chart_letters_per_row:
        raise ProcedureError(
            f"chart_stop_misses ({config.chart_stop_misses}) cannot exceed chart_letters_per_row "
            f"({config.chart_letters_per_row})"
        )
    if config.chart_presentation not in ("row", "single"):
        raise ProcedureError(f"chart_presentation must be 'row' or 'single', got {config.chart_presentation!r}")
    if not size_grid(config):
        raise ProcedureError(
            f"the drawable range {config.min_logmar}..{config.max_logmar} logMAR holds no 0.01 logMAR "
            "size: widen it (move closer or use a larger screen)"
        )
    return OPTOTYPE_SETS[config.optotype_set]


def size_grid(config: ProcedureConfig, step_logmar: float = SIZE_STEP_LOGMAR) -> tuple[float, ...]:
    """Every size on the step grid within [min_logmar, max_logmar], smallest first."""
    low = round(size_grid_edge(config.min_logmar, True, step_logmar) / step_logmar)
    high = round(size_grid_edge(config.max_logmar, False, step_logmar) / step_logmar)
    return tuple(round(i * step_logmar, 2) for i in range(low, high + 1))


def size_grid_edge(logmar: float, up: bool, step_logmar: float = SIZE_STEP_LOGMAR) -> float:
    """The first grid size at or above (`up`) or at or below `logmar` (an end of size_grid)."""
    rounding = math.ceil if up else math.floor
    return round(rounding(logmar / step_logmar + (-1e-9 if up else 1e-9)) * step_logmar, 2)


def snap_requested(
    config: ProcedureConfig, requested_logmar: float | None, step_logmar: float = SIZE_STEP_LOGMAR
) -> float:
    """The requested size on the grid; ProcedureError when missing or outside the drawable range."""
    if requested_logmar is None:
        raise ProcedureError("give requested_logmar: the size to show next, in logMAR")
    if (
        isinstance(requested_logmar, bool)
        or not isinstance(requested_logmar, (int, float))
        or not math.isfinite(requested_logmar)
    ):
        raise ProcedureError(f"requested_logmar must be a number of logMAR, got {requested_logmar!r}")
    grid = size_grid(config, step_logmar)
    if not config.min_logmar - 1e-9 <= requested_logmar <= config.max_logmar + 1e-9:
        raise ProcedureError(
            f"logMAR {requested_logmar} cannot be drawn on this screen at this distance; "
            f"choose from {grid[0]:+.2f} to {grid[-1]:+.2f}"
        )
    return min(grid, key=lambda size: (abs(size - requested_logmar), size))


def start_size(grid: Sequence[float]) -> float:
    """Largest drawable size at or below the chart top (1.0), else the smallest drawable."""
    at_or_below = [size for size in grid if size <= CHART_TOP_LOGMAR + 1e-9]
    return at_or_below[-1] if at_or_below else grid[0]


def choose_symbol(symbols: Sequence[str], seed: int, index: int, previous: Sequence[str]) -> str:
    """One symbol from trial_rng(seed, index), never one shown in the previous trial."""
    from acuity.procedure import trial_rng

    allowed = [s for s in symbols if s not in previous] or list(symbols)
    return trial_rng(seed, index, "symbol").choice(allowed)


def chart_rows(symbols: Sequence[str], n_rows: int, per_row: int, rng: random.Random) -> list[tuple[str, ...]]:
    """Rows of a chart, balanced: each symbol used equally often, never the same one twice in a row.

    Sets at least as large as a row (Sloan, Landolt C 8): no symbol repeats within a row, drawn from
    shuffled bags of the whole set (two consecutive Sloan rows use all 10 letters, as on ETDRS
    charts). Smaller sets (tumbling E, Landolt C 4: 4 symbols, 5 a row): every row holds every
    symbol. Never the same symbol twice in succession, also across rows (letter-by-letter display).
    """
    rows: list[tuple[str, ...]] = []
    bag: list[str] = []
    previous: str | None = None
    for _ in range(n_rows):
        row: list[str] = []
        if per_row <= len(symbols):
            while len(row) < per_row:
                if not bag:
                    bag = list(symbols)
                    rng.shuffle(bag)
                choices = [s for s in bag if s != previous and s not in row]
                if not choices:  # what is left of the bag cannot go here: start a new bag
                    bag = []
                    continue
                row.append(choices[0])
                bag.remove(choices[0])
                previous = choices[0]
        else:
            while len(row) < per_row:
                block = list(symbols)
                rng.shuffle(block)
                if block[0] == previous:
                    block[0], block[-1] = block[-1], block[0]
                for symbol in block[: per_row - len(row)]:
                    row.append(symbol)
                    previous = symbol
        rows.append(tuple(row))
    return rows


def trial_outcomes(history: Sequence[TrialRecord]) -> list[tuple[float, bool]]:
    """(logMAR, correct) for every optotype shown so far."""
    return [(t.presentation.logmar, c) for t in history for c in t.correct]


def same_presentation(a: Presentation | None, b: Presentation | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.index == b.index and abs(a.logmar - b.logmar) < 1e-6 and tuple(a.optotypes) == tuple(b.optotypes)
