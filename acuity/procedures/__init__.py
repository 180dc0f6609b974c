"""The acuity procedures, by the name a ProcedureConfig gives (see acuity.procedure)."""

from __future__ import annotations

from acuity.procedures.bayesian import AdaptiveProcedure, ManualProcedure
from acuity.procedures.best_pest import BestPestProcedure
from acuity.procedures.chart import ChartProcedure

PROCEDURES = {
    "adaptive": AdaptiveProcedure,
    "chart": ChartProcedure,
    "manual": ManualProcedure,
    "best_pest": BestPestProcedure,  # FrACT's Best PEST, the benchmark's reference
}


def stopped_early(procedure: str, trials: int, finished: bool) -> bool:
    """Whether a stored result of `procedure` (its `trials` and `finished`) stopped early: fewer
    trials than the procedure needs for its stated 95% interval (Procedure.stopped_early)."""
    cls = PROCEDURES.get(procedure)
    if cls is None:
        raise ValueError(f"unknown procedure {procedure!r}; choose one of {sorted(PROCEDURES)}")
    return cls.stopped_early(trials, finished)


__all__ = ["PROCEDURES", "stopped_early", "AdaptiveProcedure", "BestPestProcedure", "ChartProcedure", "ManualProcedure"]
