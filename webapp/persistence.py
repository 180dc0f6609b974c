"""Mapping between the domain (acuity, calibration) and the database rows.

The procedure of an eye is rebuilt from what is stored: its frozen ProcedureConfig, its seed and
its answered trials (acuity.procedure.replay). Dicts sent over the wire are built here too.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.orm import Session, selectinload

from acuity import notation as n
from acuity.procedure import Presentation, Procedure, ProcedureConfig, TrialRecord, replay
from webapp.extensions import db
from webapp.models import Calibration, EyeTest, SessionEvent, TestSession, Trial, utcnow


# What a live event reads: the eyes and the calibrations (one query each, not one per attribute
# touched). Not the trials: an answer needs only the count of its eye's trials (`rebuild`) and the
# one trial it may repeat (`stored_trial`); loading every stored trial cost about 2.5 ms an answer.
LIVE_SESSION_LOAD = (
    selectinload(TestSession.eye_tests),
    selectinload(TestSession.calibrations),
)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def trial_id(eye: str, index: int) -> str:
    return f"{eye}-{index}"


def parse_trial_id(value: str) -> tuple[str, int] | None:
    eye, _, index = value.rpartition("-")
    if eye not in ("right", "left", "both") or not index.isdigit():
        return None
    return eye, int(index)


def procedure_config(eye_test: EyeTest) -> ProcedureConfig:
    assert eye_test.procedure_config is not None, "the eye has not started"
    return ProcedureConfig.from_dict(eye_test.procedure_config)


def history(eye_test: EyeTest) -> list[tuple[Presentation, list[str | None]]]:
    return [
        (Presentation(trial.index, trial.logmar, tuple(trial.optotypes)), list(trial.responses))
        for trial in eye_test.trials
    ]


# Replaying a Bayesian procedure costs a posterior update per stored trial, so each answer would
# cost O(trials). A procedure's state is a pure function of (config, seed, history), and stored
# trials are only ever added (never changed, never removed but with their eye). So a procedure is
# kept only once the transaction that stored its history has committed, and reused only while its
# eye still has exactly that many trials, with the same config and seed: another process's answer,
# a rollback or a restart just misses the cache, which can never disagree with the database.
_CACHE_SIZE = 1024
_cache: OrderedDict[int, Procedure] = OrderedDict()
_cache_lock = threading.Lock()
_PENDING = "visus_procedures_to_remember"  # Session.info key: kept once the transaction commits


def _trials_loaded(eye_test: EyeTest) -> bool:
    return "trials" not in inspect(eye_test).unloaded


def trial_count(eye_test: EyeTest) -> int:
    if _trials_loaded(eye_test):
        return len(eye_test.trials)
    return db.session.scalar(
        select(func.count()).select_from(Trial).where(Trial.eye_test_id == eye_test.id))


def rebuild(eye_test: EyeTest) -> Procedure:
    """The eye's procedure in the exact state it had after its last stored answer.

    The caller owns the returned object (it may record into it); `remember` offers it back.
    """
    config = procedure_config(eye_test)
    with _cache_lock:
        cached = _cache.pop(eye_test.id, None)
    if cached is not None and cached.config == config and cached.seed == eye_test.seed \
            and len(cached.history) == trial_count(eye_test):
        return cached
    return replay(config, eye_test.seed, history(eye_test))


def remember(eye_test: EyeTest, procedure: Procedure) -> None:
    """Keep a procedure for the next event on this eye, once this transaction has committed."""
    db.session.info.setdefault(_PENDING, []).append((eye_test.id, procedure))


@event.listens_for(Session, "after_commit")
def _keep_committed(session: Session) -> None:
    with _cache_lock:
        for eye_test_id, procedure in session.info.pop(_PENDING, ()):
            _cache[eye_test_id] = procedure
            _cache.move_to_end(eye_test_id)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction) -> None:
    if transaction.parent is None:  # after a commit the list is gone already; after a rollback, drop it
        session.info.pop(_PENDING, None)


def stored_trial(eye_test: EyeTest, index: int) -> Trial | None:
    """The stored trial `index` of an eye, if it was answered (one row, not the whole history)."""
    return db.session.scalar(
        select(Trial).where(Trial.eye_test_id == eye_test.id, Trial.index == index))


def add_trial(eye_test: EyeTest, trial: Trial) -> None:
    """Store a new trial without loading the eye's stored trials first."""
    if _trials_loaded(eye_test):
        eye_test.trials.append(trial)
    else:
        db.session.add(trial)


def pending_presentation(eye_test: EyeTest) -> Presentation | None:
    pending = eye_test.pending
    if not pending:
        return None
    return Presentation(pending["index"], pending["logmar"], tuple(pending["optotypes"]))


def trial_row(
    eye_test: EyeTest, record: TrialRecord, *, seq: int, scored_by: str,
    response_time_ms: float | None, height_css_px: float | None, presented_at: str | None,
) -> Trial:
    return Trial(
        eye_test_id=eye_test.id,
        index=record.presentation.index,
        seq=seq,
        logmar=record.presentation.logmar,
        optotypes=list(record.presentation.optotypes),
        responses=list(record.responses),
        correct=list(record.correct),
        response_time_ms=response_time_ms,
        height_css_px=height_css_px,
        scored_by=scored_by,
        presented_at=datetime.fromisoformat(presented_at.rstrip("Z")) if presented_at else None,
        answered_at=utcnow(),
    )


def trial_dict(eye_test: EyeTest, trial: Trial) -> dict[str, Any]:
    return {
        "trial_id": trial_id(eye_test.eye, trial.index),
        "seq": trial.seq,
        "eye": eye_test.eye,
        "index": trial.index,
        "logmar": trial.logmar,
        "optotypes": list(trial.optotypes),
        "responses": list(trial.responses),
        "correct": list(trial.correct),
        "response_time_ms": trial.response_time_ms,
        "height_css_px": trial.height_css_px,
        "scored_by": trial.scored_by,
        "at": iso(trial.answered_at),
        "notation": n.describe(trial.logmar, size=True, near_distance_mm=near_distance_mm(eye_test.session)),
    }


# Near set-ups and their distance: their notation is also written in N point and M units there.
NEAR_SETUP_DISTANCE_MM = {"near_40cm": 400.0}


def near_distance_mm(session: TestSession) -> float | None:
    return NEAR_SETUP_DISTANCE_MM.get(session.config.get("setup"))


def with_notation(estimate: dict[str, Any], near_mm: float | None = None) -> dict[str, Any]:
    """An estimate or result (AcuityResult.to_dict()) with `notation`: every string shown for it
    and its 95% interval (acuity.notation.describe), so no page computes one."""
    return {**estimate, "notation": n.describe(
        estimate["logmar"], bound=estimate.get("bound"),
        ci95=(estimate["ci95_low_logmar"], estimate["ci95_high_logmar"]), near_distance_mm=near_mm)}


def notation(logmar: float) -> dict[str, Any]:
    """The flat notation fields of a result (CSV columns, FHIR): as acuity.notation.describe shows
    them, plus the exact decimal acuity."""
    described = n.describe(logmar)
    return {
        "snellen_6": described["snellen_6"],
        "snellen_20": described["snellen_20"],
        "decimal": n.decimal_from_logmar(logmar),
        "etdrs_letters": described["etdrs_letters"],
    }


def result_dict(eye_test: EyeTest) -> dict[str, Any] | None:
    """The stored result of a finished eye, with its notations."""
    if not eye_test.result:
        return None
    return {"eye": eye_test.eye, **with_notation(eye_test.result, near_distance_mm(eye_test.session)),
            **notation(eye_test.result["logmar"])}


def estimate_dict(eye_test: EyeTest) -> dict[str, Any] | None:
    if eye_test.result:
        return with_notation(eye_test.result, near_distance_mm(eye_test.session))
    if eye_test.procedure_config is None or not eye_test.trials:
        return None
    procedure = rebuild(eye_test)
    estimate = procedure.estimate().to_dict()
    remember(eye_test, procedure)
    return with_notation(estimate, near_distance_mm(eye_test.session))


def calibration_dict(calibration: Calibration | None) -> dict[str, Any] | None:
    if calibration is None:
        return None
    return {
        "css_px_per_mm": calibration.css_px_per_mm,
        "device_pixel_ratio": calibration.device_pixel_ratio,
        "viewport_css_px": [calibration.viewport_width_css_px, calibration.viewport_height_css_px],
        "scale_method": calibration.scale_method,
        "distance_method": calibration.distance_method,
        "viewing_distance_mm": calibration.viewing_distance_mm,
        "viewing_distance_text": n.format_distance_mm(calibration.viewing_distance_mm),
        # Where the patient sits: through a mirror, half the optical distance from the mirror.
        "position_text": (f"{n.format_distance_mm(calibration.viewing_distance_mm / 2)} from the mirror"
                          if calibration.mirrored else
                          f"{n.format_distance_mm(calibration.viewing_distance_mm)} from the screen"),
        "mirrored": calibration.mirrored,
        "user_agent": calibration.user_agent,
        "at": iso(calibration.created_at),
    }


def range_dict(min_logmar: float, max_logmar: float, near_mm: float | None = None) -> dict[str, Any]:
    """A measurable range with its notation: the smallest and largest sizes described, the one-line
    text, and the chart-line sizes a clinician may present (largest first)."""
    def size(logmar: float) -> dict[str, Any]:
        return n.describe(logmar, size=True, near_distance_mm=near_mm)

    smallest, largest = size(min_logmar), size(max_logmar)
    # Whole 0.1 rows within the range (round first: 0.3 * 10 is 2.9999999999999996).
    rows = range(math.floor(round(max_logmar * 10, 6)), math.ceil(round(min_logmar * 10, 6)) - 1, -1)
    return {
        "min_logmar": min_logmar, "max_logmar": max_logmar,
        "min_notation": smallest, "max_notation": largest,
        "text": f"{largest.get('n_point', largest['snellen_6'])} to {smallest.get('n_point', smallest['snellen_6'])} "
                f"({largest['logmar']} to {smallest['logmar']} logMAR)",
        "sizes": [{"logmar": row / 10, "value": f"{row / 10:.1f}", "text": size(row / 10)["text"]} for row in rows],
    }


def measurable_range_dict(calibration: Calibration | None) -> dict[str, Any] | None:
    if calibration is None:
        return None
    return range_dict(calibration.min_logmar, calibration.max_logmar, near_distance_mm(calibration.session))


def detail_text(detail: dict[str, Any], near_mm: float | None = None) -> dict[str, str]:
    """Display strings of an event's distances (`*_mm`) and sizes (`*logmar`), by detail key."""
    texts = {}
    for key, value in detail.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        try:
            if key.endswith("_mm"):
                texts[key] = n.format_distance_mm(value)
            elif key.endswith("logmar"):
                texts[key] = n.describe(value, size=True, near_distance_mm=near_mm)["text"]
        except ValueError:
            continue  # not a plausible distance or size: shown as stored
    return texts


def event_dict(event: SessionEvent) -> dict[str, Any]:
    detail = event.detail or {}
    return {"kind": event.kind, "detail": detail, "detail_text": detail_text(detail, near_distance_mm(event.session)),
            "device": event.device,
            "text": event.text, "at": iso(event.created_at)}


def session_dict(session: TestSession) -> dict[str, Any]:
    """The JSON-able session given to clinician/live.html (docs/protocol.md)."""
    from flask import url_for

    return {
        "public_id": session.public_id,
        "patient_reference": session.patient_reference,
        "status": session.status,
        "created_at": iso(session.created_at),
        "config": {**session.config, "show_results": session.show_results},
        "result_url": url_for("clinician.result", public_id=session.public_id),
    }
