"""The webcam distance guard's rules on the server (docs/protocol.md, `distance_guard`;
docs/measurement.md, "Distance guard").

The display measures the eyes' spacing in its camera frames (webapp/static/js/patient/distance-guard.js)
and reports numbers only: a reference taken at the mark, then about two medians a second. The server
decides: it turns each into a distance and a deviation (calibration.distance_guard), pauses the test
while the patient is out of tolerance or out of view, resumes it when they are back, and keeps a
summary (method, tolerance, time out of tolerance, largest deviation) on the session. No image is
ever sent; nothing but these numbers is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from acuity.notation import format_distance_mm
from calibration import distance_guard as guard
from calibration.errors import CalibrationError
from webapp import events as ev
from webapp import serializers
from webapp.i18n import N_
from webapp.live import phases
from webapp.live.errors import LiveError
from webapp.live.outbox import Outbox
from webapp.live.phases import PauseReason
from webapp.models import TestSession, utcnow

METHOD = "webcam_eye_corners"
OFF = "off"
# Pauses and resumes stored as events per test; beyond it they are counted in the summary only
# (a patient swaying at the edge of the tolerance must not fill the event log).
STORED_PAUSES = 200


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _percent(fraction: float | None) -> str | None:
    if fraction is None:
        return None
    return "0%" if round(fraction * 100) == 0 else f"{fraction * 100:+.0f}%"


def summary(session: TestSession) -> dict[str, Any] | None:
    """What the result, the report, the CSV and FHIR record of the guard (None: never used)."""
    state = session.distance_guard
    if not state:
        return None
    out_ms = state.get("out_ms", 0)
    if state.get("out_since"):
        out_ms += (utcnow() - _parse(state["out_since"])).total_seconds() * 1000
    largest = state.get("max_deviation")
    if state["method"] == OFF:
        text = f"not used ({serializers.guard_off_text(state.get('off_reason'))})"
    else:
        text = (
            f"webcam, eye spacing from the eye corners against a reference at the mark; tolerance "
            f"±{state['tolerance'] * 100:.0f}%; out of tolerance {out_ms / 1000:.1f} s; largest deviation "
            f"{_percent(largest) or 'none'}; {state.get('pauses', 0)} pause(s)"
        )
    return {
        "text": text,
        "method": state["method"],
        "off_reason": state.get("off_reason"),
        "off_text": serializers.guard_off_text(state.get("off_reason")) if state["method"] == OFF else None,
        "tolerance": state.get("tolerance"),
        "tolerance_text": f"±{state['tolerance'] * 100:.0f}%" if state.get("tolerance") else None,
        "reference_distance_mm": state.get("reference_distance_mm"),
        "time_out_of_tolerance_s": round(out_ms / 1000, 1),
        "largest_deviation": largest,
        "largest_deviation_text": _percent(largest),
        "pauses": state.get("pauses", 0),
    }


def live(session: TestSession) -> dict[str, Any] | None:
    """The clinician's live reading (`distance_guard` event, and the snapshot's)."""
    state = session.distance_guard
    if not state:
        return None
    estimate = state.get("estimate_mm")
    return {
        **(summary(session) or {}),
        "reference": bool(state.get("reference_spacing_px")),
        "suspended": bool(state.get("suspended")),
        "face_found": state.get("face_found"),
        "within": state.get("within"),
        "estimate_mm": estimate,
        "estimate_text": format_distance_mm(estimate) if estimate else None,
        "deviation": state.get("deviation"),
        "deviation_text": _percent(state.get("deviation")),
        "paused": session.paused_reason == PauseReason.DISTANCE,
    }


def for_display(session: TestSession) -> dict[str, Any]:
    """What the patient's display needs to know (`state.distance_guard`)."""
    state = session.distance_guard or {}
    calibration = session.current_calibration
    has_reference = bool(
        state.get("reference_spacing_px") and calibration and state.get("calibration_id") == calibration.id
    )
    return {
        "method": state.get("method"),
        "reference": has_reference,
        "tolerance": state.get("tolerance"),
        "deviation": state.get("deviation") if has_reference else None,
        "face_found": state.get("face_found") if has_reference else None,
    }


def _active(session: TestSession) -> bool:
    """Whether the test is running for the guard's bookkeeping (a letter on screen, or held by it)."""
    where = phases.situation(session)
    return where in (phases.TESTING, phases.PAUSED_DISTANCE)


def report(session: TestSession, data: dict, out: Outbox) -> dict:
    """A `distance_guard` report from the display: `reference`, `sample` or `off`."""
    from webapp.live import commands  # which builds on the payloads that read this module

    phases.check(session, ev.DISTANCE_GUARD)
    kind = data["kind"]
    state = dict(session.distance_guard or {})
    if kind == OFF:
        state.update(method=OFF, off_reason=data.get("reason", "unavailable"))
        session.distance_guard = state
        event = commands._record_event(
            session, "distance_guard", "display", {"kind": OFF, "reason": state["off_reason"]}
        )
        # the live view adds the event to its list, as the stored one reads on reload
        out.clinician(ev.DISTANCE_GUARD, {**live(session), "event": serializers.event_dict(event)})
        return {"ok": True}
    try:
        spacing = guard.spacing_px(data["eye_spacing_px"]) if data.get("eye_spacing_px") is not None else None
    except CalibrationError as error:
        raise LiveError("invalid_payload", str(error)) from None
    calibration = session.current_calibration
    if calibration is None:
        raise LiveError("recalibration_needed", N_("Calibrate the screen and the distance first."))
    if kind == "reference":
        if spacing is None:
            raise LiveError("invalid_payload", N_("The camera did not find your face; face the screen and try again."))
        tolerance = guard.tolerance_for(calibration.viewing_distance_mm)
        state.update(
            method=METHOD,
            off_reason=None,
            tolerance=tolerance,
            calibration_id=calibration.id,
            reference_distance_mm=calibration.viewing_distance_mm,
            reference_spacing_px=spacing,
            suspended=False,
            estimate_mm=calibration.viewing_distance_mm,
            deviation=0.0,
            face_found=True,
            within=True,
        )
        session.distance_guard = state
        commands._record_event(
            session,
            "distance_guard",
            "display",
            {
                "kind": "reference",
                "reference_spacing_px": spacing,
                "reference_distance_mm": calibration.viewing_distance_mm,
                "tolerance": tolerance,
            },
        )
        out.clinician(ev.DISTANCE_GUARD, live(session))
        out.state_to_patients = True
        return {"ok": True, "tolerance": tolerance}
    if not state.get("reference_spacing_px") or state.get("calibration_id") != calibration.id:
        raise LiveError(
            "no_reference",
            N_('Record your place first: stand at your mark, face the screen and press "Record my place".'),
        )
    now = utcnow()
    deviation = guard.deviation(state["reference_spacing_px"], spacing) if spacing is not None else None
    within = deviation is not None and abs(deviation) <= state["tolerance"] + 1e-9
    active = _active(session)
    state.update(
        face_found=spacing is not None,
        deviation=deviation,
        within=within,
        estimate_mm=guard.distance_mm(state["reference_distance_mm"], state["reference_spacing_px"], spacing)
        if spacing is not None
        else None,
    )
    if active and deviation is not None and abs(deviation) > abs(state.get("max_deviation") or 0.0):
        state["max_deviation"] = deviation
    if active and not within:
        state["out_since"] = state.get("out_since") or now.isoformat()
    elif state.get("out_since"):
        state["out_ms"] = state.get("out_ms", 0) + (now - _parse(state["out_since"])).total_seconds() * 1000
        state["out_since"] = None
    where = phases.situation(session)
    detail = {"deviation": deviation, "estimate_mm": state["estimate_mm"], "face_found": spacing is not None}
    paused = resumed = False
    event = None
    if where == phases.TESTING and not within and not state.get("suspended"):
        commands._set_pause(session, PauseReason.DISTANCE)
        state["pauses"] = state.get("pauses", 0) + 1
        event = {"kind": "paused", "device": "server", "detail": {"reason": PauseReason.DISTANCE, **detail}}
        if state["pauses"] <= STORED_PAUSES:
            commands._record_event(session, "paused", "server", event["detail"])
        out.patients(ev.PAUSED, {"reason": PauseReason.DISTANCE})
        out.announce()
        paused = True
    elif where == phases.PAUSED_DISTANCE and within:
        commands._set_pause(session, None)
        event = {"kind": "resumed", "device": "server", "detail": {"reason": PauseReason.DISTANCE, **detail}}
        if state.get("pauses", 0) <= STORED_PAUSES:
            commands._record_event(session, "resumed", "server", event["detail"])
        out.patients(ev.RESUMED, {})
        eye = session.current_eye_test
        if phases.phase(session) == phases.Phase.TESTING and eye is not None:
            commands._show(session, eye, out)
        out.announce()
        resumed = True
    session.distance_guard = state
    reading = live(session)
    if event is not None:  # the live view adds it to its events, as the stored one reads on reload
        reading["event"] = {**event, "at": serializers.iso(now)}
    out.clinician(ev.DISTANCE_GUARD, reading)
    return {"ok": True, "within": within, "paused": paused, "resumed": resumed}


def suspend(session: TestSession) -> None:
    """The clinician resumed a test the guard held: the guard only watches until the next reference."""
    if session.distance_guard:
        session.distance_guard = {**session.distance_guard, "suspended": True}
