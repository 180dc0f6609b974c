"""The JSON-able dicts of stored rows, shared by the live test (webapp/live/) and the pages and
reports (webapp/clinician/, webapp/reports/). docs/protocol.md spells each of them out."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from webapp.live import procedures
from webapp.live.trial_ids import format_trial_id
from webapp.models import Calibration, EyeTest, SessionEvent, TestSession, Trial


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def trial_dict(eye_test: EyeTest, trial: Trial) -> dict[str, Any]:
    return {
        "trial_id": format_trial_id(eye_test.eye, trial.index),
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
    }


def notation(logmar: float) -> dict[str, Any]:
    from acuity import notation as n

    return {
        "snellen_6": n.snellen_chart_line(logmar, 6),
        "snellen_20": n.snellen_chart_line(logmar, 20),
        "decimal": n.decimal_from_logmar(logmar),
        "etdrs_letters": n.etdrs_letters(logmar),
    }


def result_dict(eye_test: EyeTest) -> dict[str, Any] | None:
    """The stored result of a finished eye, with its notations."""
    if not eye_test.result:
        return None
    return {"eye": eye_test.eye, **eye_test.result, **notation(eye_test.result["logmar"])}


def estimate_dict(eye_test: EyeTest) -> dict[str, Any] | None:
    if eye_test.result:
        return dict(eye_test.result)
    if eye_test.procedure_config is None or not eye_test.trials:
        return None
    procedure = procedures.rebuild(eye_test)
    estimate = procedure.estimate().to_dict()
    procedures.remember(eye_test, procedure)
    return estimate


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
        "mirrored": calibration.mirrored,
        "user_agent": calibration.user_agent,
        "at": iso(calibration.created_at),
    }


def measurable_range_dict(calibration: Calibration | None) -> dict[str, float] | None:
    if calibration is None:
        return None
    return {"min_logmar": calibration.min_logmar, "max_logmar": calibration.max_logmar}


def event_dict(event: SessionEvent) -> dict[str, Any]:
    """A stored event. A page event also has `page_kind`, the kind the server validated, and its
    `detail` is only what the page sent: the two are stored apart (webapp/live/commands.py,
    page_event), so no detail can pass for a kind."""
    detail = event.detail or {}
    values = {"kind": event.kind, "detail": detail, "device": event.device,
              "text": event.text, "at": iso(event.created_at)}
    if event.kind == "page_event":
        values["page_kind"] = detail.get("kind")
        # Rows stored before the split hold the page's detail beside the kind.
        values["detail"] = detail.get("client", {}) if "client" in detail else {
            key: value for key, value in detail.items() if key != "kind"}
    return values


def session_dict(session: TestSession) -> dict[str, Any]:
    """The session as the clinician's live view knows it (docs/protocol.md: live.html, `snapshot`)."""
    return {
        "public_id": session.public_id,
        "patient_reference": session.patient_reference,
        "status": session.status,
        "created_at": iso(session.created_at),
        "config": {**session.config, "show_results": session.show_results},
    }
