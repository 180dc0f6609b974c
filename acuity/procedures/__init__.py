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

__all__ = ["PROCEDURES", "AdaptiveProcedure", "BestPestProcedure", "ChartProcedure", "ManualProcedure"]
