"""The contract every acuity procedure keeps (adaptive, chart, manual).

A procedure is deterministic given its configuration, its seed and the answers recorded so far:
`replay(config, seed, history)` rebuilds the exact state a live test had, so a reconnect, a
restart or a second server process loses nothing. Randomness (which letter to show) must come
from `trial_rng(seed, index)`, never from a shared generator whose state depends on call order.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

Bound = Literal["<=", ">="]
NOT_SURE = None  # a response of None means "not sure" (a clinician's "not seen"); it is scored as incorrect
# A symbol named wrongly without noting which (a clinician's ✗ "wrong"): scored as incorrect like
# NOT_SURE, but stored as this so the trial says the patient answered wrongly, not that they saw nothing.
WRONG_UNNAMED = "wrong"


class ProcedureError(ValueError):
    """A request the procedure cannot honour; the message says what to do instead."""


@dataclass(frozen=True)
class ProcedureConfig:
    procedure: Literal["adaptive", "chart", "manual", "best_pest"] = "adaptive"  # best_pest: benchmark reference
    optotype_set: str = "sloan"  # a name in acuity.optotypes.OPTOTYPE_SETS
    # What this screen can draw at this distance (calibration.capability): no presentation may
    # fall outside [min_logmar, max_logmar].
    min_logmar: float = -0.3
    max_logmar: float = 1.0
    max_trials: int = 30  # adaptive: trial budget
    target_ci95_half_width_logmar: float = 0.0  # adaptive: stop early when narrower (0 = never)
    chart_stop_misses: int = 3  # chart: stop after a row with this many or more misses
    chart_letters_per_row: int = 5
    chart_presentation: Literal["row", "single"] = "row"  # whole row at once, or letter by letter
    crowding: bool = True  # flanking bars at one letter width (see acuity.optotypes)
    # Low vision (acuity.low_vision): the largest size drawable at the nearest distance the patient
    # may be moved to. The posterior covers sizes up to it from the start; each move closer is a
    # DistanceStep. None: the patient stays where they are.
    reach_max_logmar: float | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> ProcedureConfig:
        return cls(**data)


@dataclass(frozen=True)
class DistanceStep:
    """The patient moved closer: from trial `trial` on, the test is at `distance_mm` and can draw
    [min_logmar, max_logmar] (the same screen: both ends grow by log10(old / new distance))."""

    trial: int
    distance_mm: float
    min_logmar: float
    max_logmar: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: dict) -> DistanceStep:
        return cls(int(data["trial"]), float(data["distance_mm"]), float(data["min_logmar"]), float(data["max_logmar"]))


@dataclass(frozen=True)
class Presentation:
    """What one trial shows: one optotype, or a chart row, all at one size."""

    index: int  # 0-based trial number within this eye's test
    logmar: float
    optotypes: tuple[str, ...]  # symbols from acuity.optotypes (a letter, or a direction)

    def to_dict(self) -> dict:
        return {"index": self.index, "logmar": self.logmar, "optotypes": list(self.optotypes)}

    @classmethod
    def from_dict(cls, data: dict) -> Presentation:
        return cls(int(data["index"]), float(data["logmar"]), tuple(data["optotypes"]))


@dataclass(frozen=True)
class TrialRecord:
    presentation: Presentation
    responses: tuple[str | None, ...]  # one per optotype shown; None = not sure
    correct: tuple[bool, ...]


@dataclass(frozen=True)
class AcuityResult:
    """An estimate on the chart-equivalent logMAR scale, with its 95% interval."""

    logmar: float
    ci95_low_logmar: float
    ci95_high_logmar: float
    bound: Bound | None  # "<=" : better than the smallest size drawable; ">=" : worse than the largest
    trials: int
    optotypes_shown: int
    optotypes_correct: int
    finished: bool

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def trial_rng(seed: int, index: int, salt: str = "") -> random.Random:
    """A generator for one trial that depends only on (seed, index): replay-safe."""
    return random.Random(f"{seed}:{index}:{salt}")


class Procedure(ABC):
    # Whether the patient can be moved closer during the test (DistanceStep): procedures whose
    # sizes are not a fixed chart.
    movable = False

    def __init__(self, config: ProcedureConfig, seed: int):
        self.config = config
        self.seed = seed
        self.history: list[TrialRecord] = []
        self.steps: list[DistanceStep] = []

    def drawable_config(self) -> ProcedureConfig:
        """The configuration with the drawable range in effect now (after the last move closer)."""
        if not self.steps:
            return self.config
        last = self.steps[-1]
        return replace(self.config, min_logmar=last.min_logmar, max_logmar=last.max_logmar)

    def wants_closer(self) -> bool:
        """Whether the test cannot go on at this distance: the eye is beyond the largest size
        drawable here and the patient can still be moved closer (config.reach_max_logmar)."""
        return False

    def move(self, step: DistanceStep) -> None:
        """The patient moved closer before trial `step.trial`: sizes come from the new range."""
        if not self.movable or self.config.reach_max_logmar is None:
            raise ProcedureError("this test does not move the patient closer (low vision is off for it)")
        if step.trial != len(self.history):
            raise ProcedureError(f"a move takes effect at the current trial ({len(self.history)}), not {step.trial}")
        current = self.drawable_config()
        if not step.max_logmar > current.max_logmar + 1e-9:
            raise ProcedureError(
                f"a move closer must show larger letters than now (largest logMAR {current.max_logmar:.2f}); "
                f"the new distance allows only {step.max_logmar:.2f}: move closer"
            )
        if not step.min_logmar < step.max_logmar or step.distance_mm <= 0:
            raise ProcedureError("a move needs a positive distance and a drawable range (min below max)")
        self.steps.append(step)

    @abstractmethod
    def next_presentation(self, requested_logmar: float | None = None) -> Presentation | None:
        """The next trial to show, or None when the test is finished.

        Pure with respect to state: calling it twice without recording returns the same
        presentation. `requested_logmar` is the clinician's choice (manual procedure; an
        override elsewhere); it is snapped to what the screen can draw or refused.
        """

    @abstractmethod
    def estimate(self) -> AcuityResult:
        """The running (or final) result from the history so far."""

    @property
    @abstractmethod
    def finished(self) -> bool: ...

    @classmethod
    def stopped_early(cls, trials: int, finished: bool) -> bool:
        """Whether a result of this procedure ended with fewer trials than its 95% interval is
        stated for (docs/measurement.md §7, "Stopped early"): here, ended before the procedure's own
        stopping rule (`finished` False: the clinician moved on or ended the test). A function of
        the stored result only, so every page and export says the same."""
        return not finished

    def expected_presentation(self, stored: Presentation) -> Presentation | None:
        """What this procedure would show as `stored`'s trial: used by replay to refuse a history
        it would not produce. The procedure's own choice, or the clinician's size when `stored`
        is an override (`requested_logmar`) the procedure accepts; symbols always come from the seed.
        """
        try:
            own = self.next_presentation()
        except ProcedureError:  # a procedure that shows only requested sizes (manual)
            own = None
        if own is not None and _same_presentation(own, stored):
            return own
        try:
            requested = self.next_presentation(requested_logmar=stored.logmar)
        except ProcedureError:
            return own
        return requested if requested is not None else own

    def record(self, presentation: Presentation, responses: Sequence[str | None]) -> TrialRecord:
        """Score one answer and add it to the history."""
        from acuity.scoring import score_responses

        if presentation.index != len(self.history):
            raise ProcedureError(f"trial {presentation.index} is not the current trial ({len(self.history)})")
        if len(responses) != len(presentation.optotypes):
            raise ProcedureError(f"expected {len(presentation.optotypes)} responses, got {len(responses)}")
        correct = score_responses(presentation.optotypes, responses)
        trial = TrialRecord(presentation, tuple(responses), correct)
        self.history.append(trial)
        return trial


def _same_presentation(a: Presentation, b: Presentation) -> bool:
    return a.index == b.index and abs(a.logmar - b.logmar) < 1e-6 and tuple(a.optotypes) == tuple(b.optotypes)


def build_procedure(config: ProcedureConfig, seed: int) -> Procedure:
    from acuity.procedures import PROCEDURES

    try:
        cls = PROCEDURES[config.procedure]
    except KeyError:
        raise ProcedureError(f"unknown procedure {config.procedure!r}; choose one of {sorted(PROCEDURES)}") from None
    return cls(config, seed)


def replay(
    config: ProcedureConfig,
    seed: int,
    history: Iterable[tuple[Presentation, Sequence[str | None]]],
    verify: bool = True,
    steps: Iterable[DistanceStep] = (),
) -> Procedure:
    """Rebuild a procedure from stored trials; refuses a history the procedure would not produce.

    With `verify` (the default) every stored presentation must be what the procedure shows at
    that point (its own choice, or an accepted clinician's size with the seed's symbols);
    otherwise ProcedureError: the history was altered, or the configuration or seed differ.
    `steps` are the moves closer (DistanceStep), each applied before its trial.
    """
    procedure = build_procedure(config, seed)
    moves = sorted(steps, key=lambda step: step.trial)
    for presentation, responses in history:
        while moves and moves[0].trial == len(procedure.history):
            procedure.move(moves.pop(0))
        if verify:
            expected = procedure.expected_presentation(presentation)
            if expected is None or not _same_presentation(expected, presentation):
                raise ProcedureError(
                    f"stored trial {presentation.index} ({presentation.to_dict()}) is not what this "
                    f"procedure shows there ({expected.to_dict() if expected else 'the test had ended'}): "
                    "the history does not match its configuration and seed"
                )
        procedure.record(presentation, responses)
    while moves and moves[0].trial == len(procedure.history):
        procedure.move(moves.pop(0))
    if moves:
        raise ProcedureError(f"a stored move closer at trial {moves[0].trial} is past the stored trials")
    return procedure
