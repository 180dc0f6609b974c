"""What the live test sends: each message's payload, built from what is stored (docs/protocol.md)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from acuity.low_vision import closer_distances_mm
from acuity.notation import format_distance_mm
from acuity.optotypes import letter_gap_strokes, optotype_set
from calibration.size import MARK_TEXT_LOGMAR, optotype_height_css_px, readable_text_css_px
from webapp import serializers as s
from webapp.extensions import db
from webapp.live import distance_guard, phases, processes
from webapp.live.phases import Phase
from webapp.live.procedures import procedure_config
from webapp.models import EyeTest, SessionEvent, TestSession
from webapp.patient_words import child_practice_words, distance_texts, move_closer_words, position_text, result_words
from webapp.setups import SETUP_DISTANCE_MM


def stimulus_payload(session: TestSession) -> dict[str, Any] | None:
    """The current stimulus for the display, or None when no trial is on screen."""
    eye = session.current_eye_test
    if eye is None or not eye.pending or phases.phase(session) != Phase.TESTING:
        return None
    pending = eye.pending
    config = procedure_config(eye)
    calibration = session.current_calibration
    return {
        "trial_id": pending["trial_id"],
        "seq": pending["seq"],
        "eye": eye.eye,
        "index": pending["index"],
        "logmar": pending["logmar"],
        "optotypes": list(pending["optotypes"]),
        "height_css_px": pending["height_css_px"],
        "stroke_css_px": pending["height_css_px"] / 5,  # 5-stroke optotypes (docs/measurement.md, "Optotype size")
        "mirrored": bool(calibration and calibration.mirrored),
        "crowding": config.crowding,
        "letter_gap_strokes": letter_gap_strokes(config.chart_presentation),
        "optotype_set": config.optotype_set,
        "notation": s.describe(pending["logmar"], s.notation_style(session), size=True),
    }


def answer_request_payload(session: TestSession) -> dict[str, Any] | None:
    """What the pad needs to collect an answer: never the optotypes themselves."""
    eye = session.current_eye_test
    if eye is None or not eye.pending or phases.phase(session) != Phase.TESTING:
        return None
    name = session.config["optotype_set"]
    return {
        "trial_id": eye.pending["trial_id"],
        "seq": eye.pending["seq"],
        "optotype_set": name,
        "count": len(eye.pending["optotypes"]),
        "symbols": list(optotype_set(name).symbols),
    }


# The practice letter is as tall as the words at the mark (a logMAR-1.0 letter at the viewing
# distance: calibration.size.readable_text_css_px), but never more than this part of the window.
PRACTICE_MAX_VIEWPORT_FRACTION = 0.15
# A child's practice teaches matching, not acuity: its letter is the size of the top line of a
# paediatric HOTV chart and larger (logMAR 1.3, 6/120; the top line is 1.0, 6/60), so that any
# child the test can measure sees it at once; up to a quarter of the window's height.
CHILD_PRACTICE_LOGMAR = 1.3
CHILD_PRACTICE_MAX_VIEWPORT_FRACTION = 0.25


def _latest_calibration(session: TestSession):
    """The latest calibration, valid or not: where the patient stands and how big a mm is on their
    screen are still the best known while they measure again."""
    return session.calibrations[-1] if session.calibrations else None


def mark_text_css_px(session: TestSession) -> float | None:
    """The font size of the display's messages to the patient at the mark (docs/protocol.md, `state`)."""
    calibration = _latest_calibration(session)
    if calibration is None:
        return None
    return round(readable_text_css_px(calibration.viewing_distance_mm, calibration.css_px_per_mm), 1)


def child_mode(session: TestSession) -> bool:
    """A child's test: HOTV letters (or the clinician chose "child"), matched on the pad's large
    buttons, with a practice round that teaches matching. The one place this is decided."""
    return bool(session.config.get("child")) or session.config["optotype_set"] == "hotv"


def helper_tapping(session: TestSession) -> bool:
    """Whether an adult helper taps the answers the child points to: the latest stored `helper`
    event says (webapp/live/commands.py, helper); none means the child taps."""
    if not child_mode(session):
        return False
    latest = db.session.scalar(
        select(SessionEvent)
        .where(SessionEvent.session_id == session.id, SessionEvent.kind == "helper")
        .order_by(SessionEvent.id.desc())
        .limit(1)
    )
    return bool(latest and (latest.detail or {}).get("on"))


def practice_left(session: TestSession) -> int | None:
    """A child's practice round: how many of the set's letters are still to be matched once
    (None for an adult's single practice letter)."""
    if not child_mode(session) or not session.practice:
        return None
    symbols = optotype_set(session.config["optotype_set"]).symbols
    return len(set(symbols) - set(session.practice.get("matched", [])))


def _practice_open(session: TestSession) -> bool:
    return bool(session.practice) and phases.phase(session) in (Phase.READY, Phase.BETWEEN_EYES)


def practice_payload(session: TestSession) -> dict[str, Any] | None:
    """Display: the practice letter to draw (and its answer, once given)."""
    if not _practice_open(session):
        return None
    calibration = _latest_calibration(session)
    height = None
    if calibration is not None:
        child = child_mode(session)
        logmar = CHILD_PRACTICE_LOGMAR if child else MARK_TEXT_LOGMAR
        fraction = CHILD_PRACTICE_MAX_VIEWPORT_FRACTION if child else PRACTICE_MAX_VIEWPORT_FRACTION
        height = min(
            optotype_height_css_px(logmar, calibration.viewing_distance_mm, calibration.css_px_per_mm),
            calibration.viewport_height_css_px * fraction,
        )
    return {
        "practice_id": session.practice["id"],
        "symbol": session.practice["symbol"],
        "optotype_set": session.config["optotype_set"],
        "height_css_px": round(height, 1) if height else None,
        "mirrored": bool(calibration and calibration.mirrored) or session.config["setup"] == "mirror",
        **_practice_answered(session),
    }


def practice_request_payload(session: TestSession) -> dict[str, Any] | None:
    """Pad: buttons for the practice letter (never the letter itself until it is answered)."""
    if not _practice_open(session):
        return None
    name = session.config["optotype_set"]
    return {
        "practice_id": session.practice["id"],
        "optotype_set": name,
        "count": 1,
        "symbols": list(optotype_set(name).symbols),
        **_practice_answered(session),
    }


def _practice_answered(session: TestSession) -> dict[str, Any]:
    if session.practice["correct"] is None:
        return {"answered": False}
    return {"answered": True, **practice_result_payload(session)}


def practice_result_payload(session: TestSession) -> dict[str, Any]:
    practice = session.practice
    result = {
        "practice_id": practice["id"],
        "symbol": practice["symbol"],
        "response": practice["response"],
        "correct": practice["correct"],
    }
    left = practice_left(session)
    if left is not None:  # a child's round: how many letters are left, and what to say
        result["practice_left"] = left
        result["words"] = child_practice_words(practice["symbol"], bool(practice["correct"]), left, session.language)
    return result


def stimulus_shown_payload(stimulus: dict[str, Any]) -> dict[str, Any]:
    """The clinician's copy of a stimulus put on screen."""
    return {
        k: stimulus[k] for k in ("trial_id", "seq", "eye", "index", "logmar", "optotypes", "height_css_px", "notation")
    }


def results(session: TestSession) -> list[dict[str, Any]]:
    return [r for r in (s.result_dict(eye) for eye in session.eye_tests) if r]


def state(
    session: TestSession,
    device: str,
    pad_url: str | None = None,
    pad_qr_svg: str | None = None,
    pad_short_url: str | None = None,
) -> dict:
    """The full state one patient device needs to draw its screen (docs/protocol.md, `state`)."""
    calibration = session.current_calibration
    eye = session.current_eye_test
    current_phase = phases.phase(session)
    show = session.show_results and current_phase == Phase.DONE
    data: dict[str, Any] = {
        "phase": str(current_phase),
        "actions": phases.actions(session, phases.PATIENT_COMMANDS),
        "eye": eye.eye if eye else None,
        "eye_index": session.current_eye_index,
        "eyes": list(session.config["eyes"]),
        "optotype_set": session.config["optotype_set"],
        "answer_mode": session.config["answer_mode"],
        "procedure": session.config["procedure"],
        "setup": session.config["setup"],
        "correction": session.config["correction"],
        "mirrored": bool(calibration and calibration.mirrored) or session.config["setup"] == "mirror",
        "required_distance_mm": SETUP_DISTANCE_MM[session.config["setup"]],
        **distance_texts(SETUP_DISTANCE_MM[session.config["setup"]], session.language),
        "calibration": _patient_calibration(calibration, session.language),
        "measurable_range": s.measurable_range_dict(calibration),
        "pad_connected": session.pad_sid is not None,
        "display_connected": session.display_sid is not None,
        "paused_reason": session.paused_reason,
        "distance_guard": distance_guard.for_display(session),
        "show_results": show,
        "results": results(session) if show else None,
        # The shared results as the patient reads them: plain words with the clinician's notation.
        "results_words": [
            result_words(
                r["eye"],
                r["logmar"],
                r.get("bound"),
                s.notation_style(session),
                r["trials"] if r["stopped_early"] else None,
                session.language,
                r,
            )["text"]
            for r in results(session)
        ]
        if show
        else None,
        "contact_line": session.contact_line,
        "move_closer": move_closer_state(session),
        "child": child_mode(session),
        "helper": helper_tapping(session),
        "language": session.language,
    }
    if device == "display":
        data["pad_url"] = pad_url
        data["pad_qr_svg"] = pad_qr_svg
        data["pad_short_url"] = pad_short_url
        data["pad_paired"] = any(c.device == "pad" and c.revoked_at is None for c in session.credentials)
        data["mark_text_css_px"] = mark_text_css_px(session)
        data["current_stimulus"] = stimulus_payload(session)
        data["practice"] = practice_payload(session)
    else:
        data["current_request"] = answer_request_payload(session)
        data["practice"] = practice_request_payload(session)
    return data


def _patient_calibration(calibration, language: str) -> dict[str, Any] | None:
    """The calibration as the patient's pages get it: where they stand in their own language."""
    data = s.calibration_dict(calibration)
    if data is not None:
        data["position_text"] = position_text(calibration.viewing_distance_mm, calibration.mirrored, language)
    return data


def move_closer_state(session: TestSession) -> dict[str, Any] | None:
    """Low vision: where the patient is asked to come to now (until they measure it), with their words."""
    eye = session.current_eye_test
    if eye is None or eye.move_to_mm is None or session.status in ("done", "ended"):
        return None
    return {"distance_mm": eye.move_to_mm, **move_closer_words(eye.move_to_mm, session.language)}


def eye_distance_mm(session: TestSession, eye: EyeTest) -> float:
    """Where the patient is for this eye: the last move closer, else the latest calibration's distance."""
    if eye.distance_steps:
        return float(eye.distance_steps[-1]["distance_mm"])
    latest = max(session.calibrations, key=lambda c: c.id)
    return latest.viewing_distance_mm


def move_payload(session: TestSession, eye: EyeTest, done: bool = False) -> dict:
    """The clinician's `move_closer`: where the patient is asked to go (or went), and the choices."""
    here = eye_distance_mm(session, eye)
    return {
        "eye": eye.eye,
        "asked_mm": eye.move_to_mm,
        "asked_text": format_distance_mm(eye.move_to_mm) if eye.move_to_mm else None,
        "distance_mm": here,
        "distance_text": format_distance_mm(here),
        "choices": [{"distance_mm": d, "text": format_distance_mm(d)} for d in closer_distances_mm(here)],
        "moved": done,
        "steps": list(eye.distance_steps or ()),
    }


def snapshot(session: TestSession) -> dict[str, Any]:
    """Everything the clinician's live view needs (docs/protocol.md, `watch`)."""
    calibration = session.current_calibration
    current = session.current_eye_test
    return {
        "session": s.session_dict(session),
        **status_payload(session),
        "devices": {
            "display": processes.device_connected(session.display_sid),
            "pad": processes.device_connected(session.pad_sid),
        },
        "calibration": s.calibration_dict(calibration),
        "measurable_range": s.measurable_range_dict(calibration),
        "eyes": [
            {
                "eye": eye.eye,
                "status": eye.status,
                "result": s.result_dict(eye),
                "estimate": s.estimate_dict(eye),
                "trials": [s.trial_dict(eye, trial) for trial in eye.trials],
            }
            for eye in session.eye_tests
        ],
        "current_stimulus": stimulus_payload(session),
        "estimate": s.estimate_dict(current) if current else None,
        "distance_guard": distance_guard.live(session),
        # Low vision: the current eye's distance, moves and choices (null: the test does not move the patient).
        "move_closer": move_payload(session, current)
        if current is not None and (current.procedure_config or {}).get("reach_max_logmar") is not None
        else None,
        "child": child_mode(session),
        "helper": helper_tapping(session),
        **snapshot_events(session),
    }


# The live view gets the latest events only (the result page and the reports have them all): a
# reload stays small however much a test stored (docs/security.md, stored events).
SNAPSHOT_EVENTS = 200


def snapshot_events(session: TestSession) -> dict[str, Any]:
    latest = db.session.scalars(
        select(SessionEvent)
        .where(SessionEvent.session_id == session.id)
        .order_by(SessionEvent.id.desc())
        .limit(SNAPSHOT_EVENTS)
    ).all()
    total = db.session.scalar(
        select(func.count()).select_from(SessionEvent).where(SessionEvent.session_id == session.id)
    )
    return {"events": [s.event_dict(event) for event in reversed(latest)], "events_total": total}


def status_payload(session: TestSession) -> dict[str, Any]:
    """The clinician's `status`: the session's status, the phase, what the clinician may do now, the
    state of the patient's link, and the eye to record below the chart, if any."""
    return {
        "status": session.status,
        "phase": str(phases.phase(session)),
        "paused_reason": session.paused_reason,
        "actions": phases.actions(session, phases.CLINICIAN_COMMANDS),
        "link": link_payload(session),
        "below_chart": below_chart(session),
    }


def below_chart(session: TestSession) -> dict[str, Any] | None:
    """Low vision: the first eye that could not read the largest letter (a result bound ">=") where
    no move closer is left (at the nearest distance, or a test that does not move the patient) and
    has no category yet: the live view opens "Below the chart" for it. None otherwise."""
    for eye in session.eye_tests:
        result = eye.result
        if eye.category or not result or result.get("bound") != ">=":
            continue
        distance_mm = result.get("distance_mm")
        moves = (eye.procedure_config or {}).get("reach_max_logmar") is not None
        if moves and distance_mm and closer_distances_mm(distance_mm):
            continue  # the clinician kept the patient where they were: they may still move them
        at = f" at {format_distance_mm(distance_mm)}" if distance_mm else ""
        return {
            "eye": eye.eye,
            "text": f"The {eye.eye} eye could not read the largest letter{at}: record what it sees below the chart.",
        }
    return None


def link_payload(session: TestSession) -> dict[str, Any]:
    """The patient's link as the dashboard and the invite panel name it (webapp/clinician/sessions.py,
    STATES), so the live view's link panel follows it without a reload."""
    from webapp.clinician.sessions import STATES, test_state  # here: clinician -> live -> this module

    state = test_state(session)
    return {"state": state, "state_text": STATES[state], "opened": session.invite_used_at is not None}


def device_status(session: TestSession) -> dict[str, bool]:
    return {
        "display_connected": processes.device_connected(session.display_sid),
        "pad_connected": processes.device_connected(session.pad_sid),
    }
