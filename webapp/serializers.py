"""The JSON-able dicts of stored rows, shared by the live test (webapp/live/) and the pages and
reports (webapp/clinician/, webapp/reports/). docs/protocol.md spells each of them out."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from flask import current_app, has_app_context

from acuity import low_vision
from acuity import notation as n
from acuity.procedures import stopped_early
from webapp import setups
from webapp.live import procedures
from webapp.live.trial_ids import format_trial_id
from webapp.models import Calibration, EyeTest, Practice, SessionEvent, TestSession, Trial


def practice_notation(practice: Practice | None) -> str:
    """The notation a practice's results lead with (acuity.notation.LEADS): the one its practice page
    set, else the server's default (VISUS_NOTATION). The one place that decides it."""
    if practice is not None and practice.notation:
        return practice.notation
    return current_app.config.get("NOTATION", "6m") if has_app_context() else "6m"


def notation_style(session: TestSession) -> dict[str, Any]:
    """How every notation of a test is written: its practice's lead and, for a near test, the distance
    (N point and M units are at it). Passed to describe() by everything that shows a number."""
    return {"lead": practice_notation(session.patient.practice), "near_distance_mm": near_distance_mm(session)}


def describe(logmar: float, style: dict[str, Any], **options: Any) -> dict[str, Any]:
    """acuity.notation.describe in a test's notation_style(): every string shown."""
    return n.describe(logmar, **style, **options)


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
        "notation": describe(trial.logmar, notation_style(eye_test.session), size=True),
    }


def near_distance_mm(session: TestSession) -> float | None:
    """A near test's distance (its notation adds N point and M units there); None otherwise."""
    return setups.near_distance_mm(session.config.get("setup"))


def with_notation(estimate: dict[str, Any], session: TestSession) -> dict[str, Any]:
    """An estimate or result (AcuityResult.to_dict()) with `notation`: every string shown for it
    and its 95% interval (acuity.notation.describe), so no page computes one."""
    return {
        **estimate,
        "notation": describe(
            estimate["logmar"],
            notation_style(session),
            bound=estimate.get("bound"),
            ci95=(estimate["ci95_low_logmar"], estimate["ci95_high_logmar"]),
        ),
    }


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


def stopped_early_dict(eye_test: EyeTest) -> dict[str, Any]:
    """Whether the eye's stored result stopped early (acuity.procedures.stopped_early: fewer trials
    than its procedure needs for its stated interval), and the words every surface shows for it."""
    result = eye_test.result
    procedure = (eye_test.procedure_config or eye_test.session.config).get("procedure", "adaptive")
    early = stopped_early(procedure, int(result["trials"]), bool(result.get("finished", True)))
    trials = int(result["trials"])
    return {
        "stopped_early": early,
        "stopped_early_text": f"stopped early, after {trials} trial{'' if trials == 1 else 's'}" if early else None,
    }


def low_vision_dict(eye_test: EyeTest) -> dict[str, Any]:
    """Where the eye was measured (low vision moves the patient closer) and its category below the
    chart, with their words (acuity.low_vision.describe_low_vision)."""
    result = eye_test.result or {}
    moved = bool(eye_test.distance_steps)
    recorded = eye_test.category
    category = low_vision.vision_category(recorded["code"]) if recorded else None
    words = low_vision.describe_low_vision(
        distance_mm=result.get("distance_mm"),
        moved=moved,
        category=category,
        category_distance_mm=recorded.get("distance_mm") if recorded else None,
    )
    return {
        "distance_mm": result.get("distance_mm"),
        "moved_closer": moved,
        "category": category.code if category else None,
        "category_distance_mm": recorded.get("distance_mm") if recorded else None,
        "category_logmar_equivalent": category.logmar_equivalent if category else None,
        **words,
    }


def result_dict(eye_test: EyeTest) -> dict[str, Any] | None:
    """The stored result of a finished eye, with its notations and whether it stopped early.

    Low vision: `distance_mm` and `distance_text` (where it was measured, when the patient was
    moved closer; the notation's `text` says so too); an eye recorded below the chart has
    `category` and its words, `notation.text` is the category's line, and `logmar` is the
    None (the conventional equivalent of CF and HM is `category_logmar_equivalent`, LP and NLP have
    none): never a number the test did not measure.
    """
    lv = low_vision_dict(eye_test)
    if lv["category"] is not None:
        return {
            "eye": eye_test.eye,
            "logmar": None,  # not measured: the conventional equivalent is category_logmar_equivalent
            "bound": None,
            "trials": (eye_test.result or {}).get("trials", 0),
            "measured_result": eye_test.result,
            "notation": {"text": lv["text"], "notation_text": lv["category_text"]},
            "stopped_early": False,
            "stopped_early_text": None,
            **lv,
        }
    if not eye_test.result:
        return None
    described = with_notation(eye_test.result, eye_test.session)
    if lv["distance_text"]:
        described["notation"]["text"] += f" · {lv['distance_text']}"
        described["notation"]["notation_text"] += f", {lv['distance_text']}"
    return {
        "eye": eye_test.eye,
        **described,
        **notation(eye_test.result["logmar"]),
        **stopped_early_dict(eye_test),
        **lv,
    }


def estimate_dict(eye_test: EyeTest) -> dict[str, Any] | None:
    if eye_test.result:
        return with_notation(eye_test.result, eye_test.session)
    if eye_test.procedure_config is None or not eye_test.trials:
        return None
    procedure = procedures.rebuild(eye_test)
    estimate = procedure.estimate().to_dict()
    procedures.remember(eye_test, procedure)
    return with_notation(estimate, eye_test.session)


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
        "position_text": (
            f"{n.format_distance_mm(calibration.viewing_distance_mm / 2)} from the mirror"
            if calibration.mirrored
            else f"{n.format_distance_mm(calibration.viewing_distance_mm)} from the screen"
        ),
        "mirrored": calibration.mirrored,
        "user_agent": calibration.user_agent,
        "at": iso(calibration.created_at),
    }


def range_dict(min_logmar: float, max_logmar: float, session: TestSession) -> dict[str, Any]:
    """A measurable range with its notation: the smallest and largest sizes described, the one-line
    text, and the chart-line sizes a clinician may present (largest first)."""

    style = notation_style(session)

    def size(logmar: float) -> dict[str, Any]:
        return describe(logmar, style, size=True)

    smallest, largest = size(min_logmar), size(max_logmar)
    # Whole 0.1 rows within the range (round first: 0.3 * 10 is 2.9999999999999996).
    rows = range(math.floor(round(max_logmar * 10, 6)), math.ceil(round(min_logmar * 10, 6)) - 1, -1)
    return {
        "min_logmar": min_logmar,
        "max_logmar": max_logmar,
        "min_notation": smallest,
        "max_notation": largest,
        "text": f"{largest.get('n_point', largest['snellen_6'])} to {smallest.get('n_point', smallest['snellen_6'])} "
        f"({largest['logmar']} to {smallest['logmar']} logMAR)",
        "sizes": [{"logmar": row / 10, "value": f"{row / 10:.1f}", "text": size(row / 10)["text"]} for row in rows],
    }


def measurable_range_dict(calibration: Calibration | None) -> dict[str, Any] | None:
    if calibration is None:
        return None
    return range_dict(calibration.min_logmar, calibration.max_logmar, calibration.session)


def detail_text(detail: dict[str, Any], session: TestSession) -> dict[str, str]:
    """Display strings of an event's distances (`*_mm`) and sizes (`*logmar`), by detail key."""
    texts = {}
    for key, value in detail.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        try:
            if key.endswith("_mm"):
                texts[key] = n.format_distance_mm(value)
            elif key.endswith("logmar"):
                texts[key] = describe(value, notation_style(session), size=True)["text"]
        except ValueError:
            continue  # not a plausible distance or size: shown as stored
    return texts


# Why the webcam distance guard is off (webapp/live/distance_guard.py, the display's `off` report), in the
# clinician's words: the live view, the stored event, the result page and the reports.
GUARD_OFF_TEXT = {
    "declined": "the patient chose not to use the camera",
    "refused": "the patient's browser did not allow the camera",
    "unavailable": "no camera on the patient's screen",
    "failed": "the camera check could not start in the patient's browser",
    "timeout": "the camera check did not start in time: camera blocked or busy, or the face model did not load; "
    "the patient was told to allow the camera and reload",
}


def guard_off_text(reason: str | None) -> str:
    return GUARD_OFF_TEXT.get(reason or "", "off")


def event_dict(event: SessionEvent) -> dict[str, Any]:
    """A stored event. A page event also has `page_kind`, the kind the server validated, and its
    `detail` is only what the page sent: the two are stored apart (webapp/live/commands.py,
    page_event), so no detail can pass for a kind."""
    detail = event.detail or {}
    values = {
        "kind": event.kind,
        "detail": detail,
        "device": event.device,
        "text": event.text,
        "at": iso(event.created_at),
    }
    if event.kind == "page_event":
        values["page_kind"] = detail.get("kind")
        # Rows stored before the split hold the page's detail beside the kind.
        values["detail"] = (
            detail.get("client", {})
            if "client" in detail
            else {key: value for key, value in detail.items() if key != "kind"}
        )
    values["detail_text"] = detail_text(values["detail"], event.session)
    if event.kind == "distance_guard" and detail.get("kind") == "off":
        values["detail_text"]["reason"] = guard_off_text(detail.get("reason"))
    return values


def session_dict(session: TestSession) -> dict[str, Any]:
    """The session as the clinician's live view knows it (docs/protocol.md: live.html, `snapshot`)."""
    return {
        "public_id": session.public_id,
        "patient_reference": session.patient_reference,
        "status": session.status,
        "created_at": iso(session.created_at),
        "config": {**session.config, "show_results": session.show_results, "language": session.language},
    }
