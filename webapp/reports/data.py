"""The report of a test session as plain dicts, read from the models (no Flask request needed).

One builder feeds every output (HTML, PDF, CSV, FHIR), so they cannot disagree. Notation comes
from acuity.notation.describe through webapp.serializers (each result's `notation`), the same strings
the live view and the patient's screen show; nothing is recomputed here that is stored.
"""

from __future__ import annotations

from typing import Any

from acuity import notation
from webapp import serializers as p
from webapp.clinician.forms import NewTestForm
from webapp.live import distance_guard
from webapp.models import Calibration, EyeTest, SessionEvent, TestSession

# Test-retest 95% limits of agreement of remote and chart acuity tests are about +/-0.10 to
# +/-0.18 logMAR (docs/measurement.md §8: Arditi & Cagenello 1993, Rosser 2003, DigiVis,
# Bach 2024 at 18 trials +/-0.17); a change larger than this is flagged in a patient's history.
DEFAULT_CHANGE_LIMIT_LOGMAR = 0.15

# What each procedure's result means (docs/procedures.md sections 1-3).
SCORING_RULES = {
    "adaptive": (
        "Bayesian adaptive: posterior mean threshold plus the chart-equivalent offset; "
        "95% interval from the posterior's 2.5% and 97.5% quantiles (docs/procedures.md 1)"
    ),
    "chart": (
        "Letter by letter: logMAR = (largest row tested + 0.1) - 0.02 x letters correct "
        "(5 letters per row); stop after a row with 3 or more misses; 95% interval "
        "= score +/- 1.96 x within-test SD (docs/procedures.md 2)"
    ),
    "manual": (
        "Clinician-chosen sizes scored by the adaptive procedure's posterior (same offset, "
        "interval and bounds; docs/procedures.md 3)"
    ),
    "best_pest": "Best PEST as FrACT runs it (reference procedure)",
}

SCALE_METHODS = {
    "card": "bank card (ISO/IEC 7810 ID-1, 85.60 mm) matched on screen",
    "ruler": "ruler held against the screen",
}
DISTANCE_METHODS = {
    "tape": "measured with a tape or string",
    "mirror": "mirror: twice the patient-to-mirror distance",
    "blind_spot": "blind-spot method (Li et al. 2020)",
}
BOUNDS = {
    "<=": "better than or equal to this: the smallest size this screen could draw was read",
    ">=": "worse than or equal to this: the largest size this screen could draw was not read",
}
EYE_NAMES = {"right": "Right eye (OD)", "left": "Left eye (OS)", "both": "Both eyes (OU)"}

# A report is built in the request, on the server's one event loop: its size is bounded so that it
# takes a fraction of a second whatever a page reported (docs/security.md, stored events). A real
# test has a few dozen warnings, each a short line.
REPORT_WARNINGS = 100
SUMMARY_CHARS = 200

# Events that are warnings about the conduct of the test (shown and exported as such).
WARNING_KINDS = ("page_event", "calibration_invalidated", "paused", "resumed", "warning", "ended")


def _choices(field: str) -> dict[str, str]:
    """The labels the new-test form shows for a config value (one place for the wording)."""
    return {choice.value: choice.label for choice in getattr(NewTestForm, field).kwargs["choices"]}


def _label(field: str, value: Any) -> str:
    return _choices(field).get(value, str(value)) if value is not None else ""


def result_values(eye_test: EyeTest) -> dict[str, Any] | None:
    """The stored result with every notation the report shows, or None for an eye without one."""
    result = p.result_dict(eye_test)
    if result is None:
        return None
    shown = result["notation"]
    return {
        **result,
        "logmar_text": shown["logmar"],
        "ci95_low_text": shown["ci95_low"]["logmar"],
        "ci95_high_text": shown["ci95_high"]["logmar"],
        "decimal_line": shown["decimal"],
        "etdrs_text": shown["etdrs_letters"] if shown["etdrs_letters"] is not None else shown["etdrs_text"],
        "who_category": notation.who_category(result["logmar"]),
        "bound_text": BOUNDS.get(result.get("bound") or "", ""),
    }


def calibration_values(calibration: Calibration) -> dict[str, Any]:
    return {
        **p.calibration_dict(calibration),
        "id": calibration.id,
        "scale_method_text": SCALE_METHODS.get(calibration.scale_method, calibration.scale_method),
        "distance_method_text": DISTANCE_METHODS.get(calibration.distance_method, calibration.distance_method),
        "distance_input": dict(calibration.distance_input or {}),
        "measurable_range": p.measurable_range_dict(calibration),
        "invalidated_at": p.iso(calibration.invalidated_at),
        "invalidated_reason": calibration.invalidated_reason,
    }


def _calibration_for(eye_test: EyeTest, calibrations: list[Calibration]) -> Calibration | None:
    """The calibration in force when the eye's last trial was answered (else when it started)."""
    moment = eye_test.trials[-1].answered_at if eye_test.trials else eye_test.started_at
    if moment is None:
        return None
    before = [c for c in calibrations if c.created_at <= moment]
    return before[-1] if before else None


def event_values(event: SessionEvent) -> dict[str, Any]:
    values = p.event_dict(event)
    detail = values["detail"]
    extras = {k: v for k, v in detail.items() if k not in ("reason", "code")}
    if event.kind == "page_event":  # the server's kind; the page's detail only as extras
        summary = f"page {values['page_kind'] or '?'}"
        extras = dict(detail)
    elif event.kind == "calibration_invalidated":
        summary = f"calibration voided ({detail.get('reason', '?')}); the patient recalibrated"
    elif event.kind == "warning":
        summary = f"warning: {detail.get('code', '?')}"
    else:
        summary = event.kind.replace("_", " ")
    if extras:
        summary += " (" + ", ".join(f"{k} {v}" for k, v in extras.items()) + ")"
    if len(summary) > SUMMARY_CHARS:
        summary = summary[: SUMMARY_CHARS - 1] + "…"
    return {**values, "summary": summary}


def _bounded(warnings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first REPORT_WARNINGS warnings and a line counting the rest."""
    if len(warnings) <= REPORT_WARNINGS:
        return warnings
    rest = warnings[REPORT_WARNINGS:]
    return warnings[:REPORT_WARNINGS] + [
        {
            "kind": "warning",
            "detail": {},
            "device": "server",
            "text": None,
            "at": rest[-1]["at"],
            "summary": f"{len(rest)} more warnings, not listed here (the result page lists every stored event)",
        }
    ]


def eye_values(eye_test: EyeTest, calibrations: list[Calibration]) -> dict[str, Any]:
    calibration = _calibration_for(eye_test, calibrations)
    trials = [p.trial_dict(eye_test, trial) for trial in eye_test.trials]
    for trial in trials:
        trial["right_count"] = sum(trial["correct"])
        trial["shown_count"] = len(trial["correct"])
    config = eye_test.procedure_config or {}
    return {
        "eye": eye_test.eye,
        "eye_name": EYE_NAMES.get(eye_test.eye, eye_test.eye),
        "status": eye_test.status,
        "started_at": p.iso(eye_test.started_at),
        "finished_at": p.iso(eye_test.finished_at),
        "result": result_values(eye_test),
        "drawable_range": (
            {"min_logmar": config["min_logmar"], "max_logmar": config["max_logmar"]} if config else None
        ),
        "calibration_id": calibration.id if calibration else None,
        "trials": trials,
    }


def session_report(session: TestSession) -> dict[str, Any]:
    """Everything the clinical report holds, as JSON-able dicts (docs/exports.md)."""
    config = session.config
    calibrations = list(session.calibrations)
    events = [event_values(e) for e in session.events]
    return {
        "public_id": session.public_id,
        "patient_reference": session.patient_reference,
        "clinician": session.clinician.email,
        "status": session.status,
        "created_at": p.iso(session.created_at),
        "consent_at": p.iso(session.consent_at),
        "finished_at": p.iso(session.finished_at),
        "config": dict(config),
        "optotype_set": config.get("optotype_set"),
        "optotype_text": _label("optotype_set", config.get("optotype_set")),
        "procedure": config.get("procedure"),
        "procedure_text": _label("procedure", config.get("procedure")),
        "chart_presentation_text": (
            _label("chart_presentation", config.get("chart_presentation")) if config.get("procedure") == "chart" else ""
        ),
        "correction": config.get("correction"),
        "correction_text": _label("correction", config.get("correction")),
        "setup": config.get("setup"),
        "setup_text": _label("setup", config.get("setup")),
        "answer_mode_text": _label("answer_mode", config.get("answer_mode")),
        "scoring_rule": SCORING_RULES.get(config.get("procedure"), ""),
        "eyes": [eye_values(e, calibrations) for e in session.eye_tests],
        "calibrations": [calibration_values(c) for c in calibrations],
        "warnings": _bounded([e for e in events if e["kind"] in WARNING_KINDS]),
        "notes": [e for e in events if e["kind"] == "note"],
        "distance_guard": distance_guard.summary(session),
    }


def history(sessions: list[TestSession], change_limit_logmar: float) -> dict[str, Any]:
    """Results of one patient reference over time, per eye, with changes beyond the limit flagged.

    `sessions` are the clinician's sessions with that reference, any order. A change is flagged
    between consecutive results of the same eye when |difference| > change_limit_logmar.
    """
    ordered = sorted(sessions, key=lambda s: (s.created_at, s.id))
    rows, per_eye = [], {}
    for session in ordered:
        for eye_test in session.eye_tests:
            result = result_values(eye_test)
            if result is None:
                continue
            when = eye_test.finished_at or session.created_at
            point = {
                "public_id": session.public_id,
                "eye": eye_test.eye,
                "at": p.iso(when),
                "logmar": result["logmar"],
                "logmar_text": result["logmar_text"],
                "ci95_low_logmar": result["ci95_low_logmar"],
                "ci95_high_logmar": result["ci95_high_logmar"],
                "snellen_6": result["snellen_6"],
                "snellen_20": result["snellen_20"],
                "notation": result["notation"],
                "bound": result["bound"],
                "correction": session.config.get("correction"),
                "optotype_set": session.config.get("optotype_set"),
                "procedure": session.config.get("procedure"),
                "change_logmar": None,
                "flagged": False,
            }
            series = per_eye.setdefault(eye_test.eye, [])
            if series:
                change = point["logmar"] - series[-1]["logmar"]
                point["change_logmar"] = change
                # 1e-9: a difference of exactly the limit is within it, despite float noise.
                point["flagged"] = abs(change) > change_limit_logmar + 1e-9
            series.append(point)
            rows.append(point)
    return {
        "change_limit_logmar": change_limit_logmar,
        "rows": rows,
        "eyes": {eye: per_eye[eye] for eye in ("right", "left", "both") if eye in per_eye},
    }
