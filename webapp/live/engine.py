"""The live test: what each event does to a stored test session, and what it sends to whom.

Functions here change database rows and queue outgoing messages in an Outbox; they never commit
and never emit. The socket handlers (webapp/live/patient.py, clinician.py) commit first, then
flush the outbox: every change is stored before anyone hears of it. The procedure of an eye is
rebuilt from the database on every event (webapp/persistence.py), so a restart loses nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from acuity.optotypes import optotype_set
from acuity.procedure import Procedure, ProcedureConfig, ProcedureError
from calibration.capability import check_drawn, css_px_size_changed, measurable_range
from calibration.distance import distance_from_blind_spot, distance_from_mirror, distance_from_tape
from calibration.errors import CalibrationError
from calibration.screen import screen_scale
from calibration.size import optotype_height_css_px
from webapp import events as ev
from webapp import persistence as p
from webapp.extensions import db, socketio
from webapp.models import Calibration, EyeTest, SessionEvent, TestSession, Trial, utcnow

# Optical distance each set-up asks for, in mm (the mirror set-up: whatever the patient measured).
SETUP_DISTANCE_MM = {"2m": 2000.0, "3m": 3000.0, "4m": 4000.0, "near_40cm": 400.0, "mirror": None}
SETUP_DISTANCE_METHODS = {
    "2m": ("tape",), "3m": ("tape",), "4m": ("tape",), "mirror": ("mirror",), "near_40cm": ("tape", "blind_spot"),
}
# A measured distance this far from the set-up's is stored with a warning for the clinician.
DISTANCE_WARNING_FRACTION = 0.10
PATIENT_PAUSE_REASONS = ("page_hidden", "awaiting_ready")


class LiveError(Exception):
    """A request refused: sent back as {ok: false, error: code, message}. Nothing is stored."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Outbox:
    """Messages to send once the transaction is committed."""

    public_id: str
    messages: list[tuple[str, str, Any]] = field(default_factory=list)  # (target, event, data)
    state_to_patients: bool = False

    def display(self, event: str, data: Any) -> None:
        self.messages.append(("display", event, data))

    def pad(self, event: str, data: Any) -> None:
        self.messages.append(("pad", event, data))

    def patients(self, event: str, data: Any) -> None:
        self.display(event, data)
        self.pad(event, data)

    def clinician(self, event: str, data: Any) -> None:
        self.messages.append(("clinician", event, data))

    def flush(self) -> None:
        rooms = {
            "display": (ev.display_room(self.public_id), ev.PATIENT_NS),
            "pad": (ev.pad_room(self.public_id), ev.PATIENT_NS),
            "clinician": (ev.watch_room(self.public_id), ev.CLINICIAN_NS),
        }
        for target, event, data in self.messages:
            room, namespace = rooms[target]
            socketio.emit(event, data, to=room, namespace=namespace)
        self.messages.clear()


# ---- reading the state -------------------------------------------------------------------------

def phase(session: TestSession) -> str:
    if session.status in ("done", "ended"):
        return "done"
    if not session.consent_at:
        return "welcome"
    if session.current_calibration is None:
        return "calibrate"
    if session.paused_reason and session.paused_reason != "awaiting_ready":
        return "paused"
    eye = session.current_eye_test
    if eye is None:
        return "done"
    if eye.status == "pending":
        return "ready" if eye.order_index == 0 else "between_eyes"
    if session.paused_reason == "awaiting_ready":
        return "ready"
    return "testing"


def stimulus_payload(session: TestSession) -> dict[str, Any] | None:
    """The current stimulus for the display, or None when no trial is on screen."""
    eye = session.current_eye_test
    if eye is None or not eye.pending or phase(session) != "testing":
        return None
    pending = eye.pending
    config = p.procedure_config(eye)
    calibration = session.current_calibration
    return {
        "trial_id": pending["trial_id"],
        "seq": pending["seq"],
        "eye": eye.eye,
        "index": pending["index"],
        "logmar": pending["logmar"],
        "optotypes": list(pending["optotypes"]),
        "height_css_px": pending["height_css_px"],
        "stroke_css_px": pending["height_css_px"] / 5,  # 5-stroke optotypes (vision-science.md s.2)
        "mirrored": bool(calibration and calibration.mirrored),
        "crowding": config.crowding,
        "optotype_set": config.optotype_set,
    }


def answer_request_payload(session: TestSession) -> dict[str, Any] | None:
    """What the pad needs to collect an answer: never the optotypes themselves."""
    eye = session.current_eye_test
    if eye is None or not eye.pending or phase(session) != "testing":
        return None
    name = session.config["optotype_set"]
    return {
        "trial_id": eye.pending["trial_id"],
        "seq": eye.pending["seq"],
        "optotype_set": name,
        "count": len(eye.pending["optotypes"]),
        "symbols": list(optotype_set(name).symbols),
    }


def results(session: TestSession) -> list[dict[str, Any]]:
    return [r for r in (p.result_dict(eye) for eye in session.eye_tests) if r]


def state(session: TestSession, device: str, pad_url: str | None = None, pad_qr_svg: str | None = None) -> dict:
    """The full state one patient device needs to draw its screen (docs/protocol.md, `state`)."""
    calibration = session.current_calibration
    eye = session.current_eye_test
    current_phase = phase(session)
    show = session.show_results and current_phase == "done"
    data: dict[str, Any] = {
        "phase": current_phase,
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
        "calibration": p.calibration_dict(calibration),
        "measurable_range": p.measurable_range_dict(calibration),
        "pad_connected": session.pad_sid is not None,
        "display_connected": session.display_sid is not None,
        "paused_reason": session.paused_reason,
        "show_results": show,
        "results": results(session) if show else None,
    }
    if device == "display":
        data["pad_url"] = pad_url
        data["pad_qr_svg"] = pad_qr_svg
        data["current_stimulus"] = stimulus_payload(session)
    else:
        data["current_request"] = answer_request_payload(session)
    return data


def snapshot(session: TestSession) -> dict[str, Any]:
    """Everything the clinician's live view needs (docs/protocol.md, `watch`)."""
    calibration = session.current_calibration
    current = session.current_eye_test
    return {
        "session": p.session_dict(session),
        "phase": phase(session),
        "paused_reason": session.paused_reason,
        "devices": {"display": session.display_sid is not None, "pad": session.pad_sid is not None},
        "calibration": p.calibration_dict(calibration),
        "measurable_range": p.measurable_range_dict(calibration),
        "eyes": [
            {
                "eye": eye.eye,
                "status": eye.status,
                "result": p.result_dict(eye),
                "estimate": p.estimate_dict(eye),
                "trials": [p.trial_dict(eye, trial) for trial in eye.trials],
            }
            for eye in session.eye_tests
        ],
        "current_stimulus": stimulus_payload(session),
        "estimate": p.estimate_dict(current) if current else None,
        "events": [p.event_dict(event) for event in session.events],
    }


def status_payload(session: TestSession) -> dict[str, Any]:
    return {"status": session.status, "phase": phase(session), "paused_reason": session.paused_reason}


def device_status(session: TestSession) -> dict[str, bool]:
    return {"display_connected": session.display_sid is not None, "pad_connected": session.pad_sid is not None}


def device_replaced(session: TestSession, device: str) -> dict[str, Any]:
    """A newer connection of `device` took over (a second device on the same link, or the same
    device back before its old connection was closed): stored as a warning; returns the clinician's
    `page_event` payload, to send after the commit."""
    event = _record_event(session, "warning", device, {"code": "device_replaced"})
    return {"kind": "warning", "detail": {"code": "device_replaced"}, "device": device, "at": p.iso(event.created_at)}


# ---- changing the state ------------------------------------------------------------------------

def _require_open(session: TestSession) -> None:
    if session.status in ("done", "ended"):
        raise LiveError("session_closed", "This test has finished. Ask your clinician if you need another.")


def _record_event(session: TestSession, kind: str, device: str, detail: dict | None = None,
                  text: str | None = None) -> SessionEvent:
    event = SessionEvent(session_id=session.id, kind=kind, device=device, detail=detail or {}, text=text,
                         created_at=utcnow())
    db.session.add(event)  # not session.events.append: that would load every stored event first
    return event


def _announce(session: TestSession, out: Outbox) -> None:
    """After a change of phase: every device gets its state again, the clinician the status."""
    out.state_to_patients = True
    out.clinician(ev.STATUS, status_payload(session))


def consent(session: TestSession, out: Outbox) -> dict:
    _require_open(session)
    if session.consent_at is None:
        session.consent_at = utcnow()
        if session.status == "invited":
            session.status = "active"
        _record_event(session, "consent", "display")
        _announce(session, out)
    return {"ok": True}


def _optotypes_per_row(session: TestSession) -> int:
    if session.config["procedure"] == "chart" and session.config.get("chart_presentation", "row") == "row":
        return ProcedureConfig().chart_letters_per_row
    return 1


def calibrate(session: TestSession, data: dict, out: Outbox) -> dict:
    """Store a calibration of the display; answers with what the screen can measure."""
    _require_open(session)
    if session.consent_at is None:
        raise LiveError("wrong_phase", "Agree to the test first, then calibrate the screen.")
    setup = session.config["setup"]
    distance = data["distance"]
    if distance["method"] not in SETUP_DISTANCE_METHODS[setup]:
        allowed = " or ".join(SETUP_DISTANCE_METHODS[setup])
        raise LiveError("invalid_payload", f"This test's set-up ({setup}) measures the distance by {allowed}; "
                                           f"set the distance that way.")
    try:
        if distance["method"] == "tape":
            viewing = distance_from_tape(distance["distance_mm"])
        elif distance["method"] == "mirror":
            viewing = distance_from_mirror(distance["patient_to_mirror_mm"])
        else:
            viewing = distance_from_blind_spot(distance["offsets_mm"])
        scale = screen_scale(data["css_px_per_mm"], data["device_pixel_ratio"], data["scale_method"])
        width, height = data["viewport_css_px"]
        drawable = measurable_range(scale, (width, height), viewing.viewing_distance_mm,
                                    crowding=True, optotypes_per_row=_optotypes_per_row(session))
    except CalibrationError as error:
        raise LiveError("calibration_refused", str(error)) from None

    calibration = Calibration(
        css_px_per_mm=scale.css_px_per_mm, device_pixel_ratio=scale.device_pixel_ratio,
        viewport_width_css_px=width, viewport_height_css_px=height, scale_method=scale.method,
        distance_method=viewing.method, distance_input=dict(distance),
        viewing_distance_mm=viewing.viewing_distance_mm, mirrored=viewing.mirrored,
        min_logmar=drawable.min_logmar, max_logmar=drawable.max_logmar,
        user_agent=data.get("user_agent", "")[:512], created_at=utcnow(),
    )
    for older in session.calibrations:
        if older.invalidated_at is None:
            older.invalidated_at = utcnow()
            older.invalidated_reason = "replaced by a new calibration"
    session.calibrations.append(calibration)
    expected = SETUP_DISTANCE_MM[setup]
    if expected and abs(viewing.viewing_distance_mm - expected) > DISTANCE_WARNING_FRACTION * expected:
        _record_event(session, "warning", "server", {
            "code": "distance_differs", "viewing_distance_mm": viewing.viewing_distance_mm, "setup_mm": expected})
    eye = session.current_eye_test
    if eye is not None and eye.status == "active" and session.paused_reason in (None, "page_hidden"):
        # Mid-eye: the patient says `ready` before the trial is shown again at the new size.
        session.paused_reason = "awaiting_ready"
    if eye is not None and eye.status == "active" and eye.procedure_config:
        frozen = eye.procedure_config
        if drawable.min_logmar > frozen["min_logmar"] + 1e-9 or drawable.max_logmar < frozen["max_logmar"] - 1e-9:
            _record_event(session, "warning", "server", {
                "code": "range_narrower_than_eye_test", "min_logmar": drawable.min_logmar,
                "max_logmar": drawable.max_logmar})
    _record_event(session, "calibration", "display", {
        "viewing_distance_mm": viewing.viewing_distance_mm, "css_px_per_mm": scale.css_px_per_mm,
        "device_pixel_ratio": scale.device_pixel_ratio})
    out.clinician(ev.CALIBRATION, {"calibration": p.calibration_dict(calibration),
                                   "measurable_range": drawable.to_dict()})
    _announce(session, out)
    return {"ok": True, "measurable_range": drawable.to_dict(),
            "viewing_distance_mm": viewing.viewing_distance_mm, "mirrored": viewing.mirrored}


def _start_eye(session: TestSession, eye: EyeTest) -> None:
    calibration = session.current_calibration
    assert calibration is not None
    cfg = session.config
    config = ProcedureConfig(
        procedure=cfg["procedure"], optotype_set=cfg["optotype_set"],
        min_logmar=calibration.min_logmar, max_logmar=calibration.max_logmar,
        chart_presentation=cfg.get("chart_presentation", "row"),
    )
    eye.procedure_config = config.to_dict()
    eye.status = "active"
    eye.started_at = utcnow()


def _put_up(session: TestSession, eye: EyeTest, presentation, out: Outbox) -> None:
    """Make `presentation` the trial on screen, with a new seq."""
    calibration = session.current_calibration
    assert calibration is not None
    session.seq += 1
    height = optotype_height_css_px(presentation.logmar, calibration.viewing_distance_mm, calibration.css_px_per_mm)
    eye.pending = {
        "trial_id": p.trial_id(eye.eye, presentation.index),
        "seq": session.seq,
        "index": presentation.index,
        "logmar": presentation.logmar,
        "optotypes": list(presentation.optotypes),
        "height_css_px": height,
        "calibration_id": calibration.id,
        "presented_at": p.iso(utcnow()),
    }
    _hold_if_not_drawable(session, eye, out)


def _drawable(calibration: Calibration, logmar: float) -> bool:
    return calibration.min_logmar - 1e-9 <= logmar <= calibration.max_logmar + 1e-9


def _hold_if_not_drawable(session: TestSession, eye: EyeTest, out: Outbox) -> bool:
    """A size the current calibration cannot draw is never shown (vision-science.md s.2): hold the
    test and tell the clinician (who can present another size, or ask for a new calibration)."""
    calibration = session.current_calibration
    if not eye.pending or calibration is None or _drawable(calibration, eye.pending["logmar"]):
        return False
    if session.paused_reason != "clinician":
        session.paused_reason = "size_not_drawable"
    _record_event(session, "warning", "server", {
        "code": "size_not_drawable", "logmar": eye.pending["logmar"],
        "min_logmar": calibration.min_logmar, "max_logmar": calibration.max_logmar})
    out.patients(ev.PAUSED, {"reason": "size_not_drawable"})
    _announce(session, out)
    return True


def _send_current(session: TestSession, out: Outbox) -> None:
    stimulus = stimulus_payload(session)
    if stimulus is None:
        return
    out.display(ev.STIMULUS, stimulus)
    request = answer_request_payload(session)
    out.pad(ev.ANSWER_REQUEST, request)
    out.clinician(ev.STIMULUS_SHOWN, {k: stimulus[k] for k in (
        "trial_id", "seq", "eye", "index", "logmar", "optotypes", "height_css_px")})


def _advance(session: TestSession, eye: EyeTest, procedure: Procedure, out: Outbox) -> None:
    """After an answer (or a start): the next trial, or the end of this eye."""
    if procedure.finished:
        _finish_eye(session, eye, procedure, out)
        return
    if procedure.config.procedure == "manual":
        eye.pending = None  # the clinician chooses the next size (`present`)
        return
    presentation = procedure.next_presentation()
    if presentation is None:
        _finish_eye(session, eye, procedure, out)
        return
    _put_up(session, eye, presentation, out)


def _finish_eye(session: TestSession, eye: EyeTest, procedure: Procedure | None, out: Outbox) -> None:
    eye.pending = None
    eye.finished_at = utcnow()
    if procedure is not None and procedure.history:
        eye.result = procedure.estimate().to_dict()
        eye.status = "done"
    else:
        eye.status = "skipped"
    next_eye = session.eye_tests[eye.order_index + 1] if eye.order_index + 1 < len(session.eye_tests) else None
    result = p.result_dict(eye)
    out.patients(ev.EYE_DONE, {"eye": eye.eye, "next_eye": next_eye.eye if next_eye else None})
    out.clinician(ev.EYE_DONE, {"eye": eye.eye, "next_eye": next_eye.eye if next_eye else None, "result": result})
    if session.current_eye_index == eye.order_index and next_eye is not None:
        session.current_eye_index = next_eye.order_index
        if session.paused_reason == "awaiting_ready":
            session.paused_reason = None
    elif next_eye is None:
        _finish_session(session, "done", out)
    _announce(session, out)


def _finish_session(session: TestSession, status: str, out: Outbox) -> None:
    session.status = status
    session.finished_at = utcnow()
    session.paused_reason = None
    for eye in session.eye_tests:
        eye.pending = None
    all_results = results(session)
    out.patients(ev.TEST_DONE, {"show_results": session.show_results,
                                **({"results": all_results} if session.show_results else {})})
    out.clinician(ev.TEST_DONE, {"results": all_results, "status": status})
    _announce(session, out)


def ready(session: TestSession, out: Outbox) -> dict:
    """The patient is in place with one eye covered: start or continue the current eye."""
    _require_open(session)
    current = phase(session)
    if current == "welcome":
        raise LiveError("wrong_phase", "Agree to the test first.")
    if current == "calibrate":
        raise LiveError("recalibration_needed", "Calibrate the screen and the distance first.")
    if session.paused_reason == "clinician":
        raise LiveError("wrong_phase", "Your clinician has paused the test; wait until they continue it.")
    session.paused_reason = None
    eye = session.current_eye_test
    assert eye is not None
    if eye.status == "pending":
        _start_eye(session, eye)
    _show(session, eye, out)
    _announce(session, out)
    return {"ok": True}


def _show(session: TestSession, eye: EyeTest, out: Outbox) -> None:
    """Put the current trial on screen: the stored one (again), or the procedure's next."""
    calibration = session.current_calibration
    if eye.pending:
        if eye.pending.get("calibration_id") != (calibration.id if calibration else None):
            # Calibrated again since it was put up: same trial, new size, new seq.
            presentation = p.pending_presentation(eye)
            _put_up(session, eye, presentation, out)
        elif _hold_if_not_drawable(session, eye, out):
            return
    else:
        procedure = p.rebuild(eye)
        _advance(session, eye, procedure, out)
        p.remember(eye, procedure)
    _send_current(session, out)


def invalidate_calibration(session: TestSession, reason: str, device: str, out: Outbox) -> None:
    calibration = session.current_calibration
    if calibration is None:
        return
    calibration.invalidated_at = utcnow()
    calibration.invalidated_reason = reason
    _record_event(session, "calibration_invalidated", device, {"reason": reason})
    out.display(ev.RECALIBRATE, {"reason": reason})
    out.pad(ev.PAUSED, {"reason": "recalibrate"})
    out.clinician(ev.CALIBRATION, {"calibration": None, "measurable_range": None, "reason": reason})
    _announce(session, out)


def drawn(session: TestSession, data: dict, out: Outbox) -> dict:
    """The display reports the ink it drew; more than 2% off (calibration.capability.check_drawn),
    or a changed devicePixelRatio or pinch zoom, voids the calibration."""
    _require_open(session)
    eye = session.current_eye_test
    pending = eye.pending if eye else None
    if not pending or pending["trial_id"] != data["trial_id"] or pending["seq"] != data["seq"]:
        raise LiveError("stale_trial", "That trial is no longer on screen; draw the current one.")
    calibration = session.current_calibration
    if calibration is None:
        raise LiveError("recalibration_needed", "Calibrate the screen again first.")
    try:
        check = check_drawn(pending["height_css_px"], calibration.device_pixel_ratio, data["ink_device_px"],
                            data["device_pixel_ratio"], data["visual_viewport_scale"], len(pending["optotypes"]))
    except CalibrationError as error:
        raise LiveError("invalid_payload", str(error)) from None
    out.clinician(ev.DRAWN_REPORT, {"trial_id": pending["trial_id"], "seq": pending["seq"],
                                    "requested_css_px": pending["height_css_px"],
                                    "drawn_css_px": check.drawn_device_px / calibration.device_pixel_ratio,
                                    **check.to_dict()})
    if not check.within_tolerance:
        invalidate_calibration(session, check.reason, "display", out)
    return {"ok": True, "within_tolerance": check.within_tolerance}


def _responses_for(session: TestSession, pending: dict, responses: list) -> list:
    symbols = set(optotype_set(session.config["optotype_set"]).symbols)
    if len(responses) != len(pending["optotypes"]):
        raise LiveError("invalid_payload",
                        f"send {len(pending['optotypes'])} responses (one per optotype shown), got {len(responses)}")
    for i, response in enumerate(responses):
        if response is not None and response not in symbols:
            raise LiveError("invalid_payload",
                            f"responses[{i}] {response!r} is not a symbol of {session.config['optotype_set']}; "
                            f"send one of {', '.join(sorted(symbols))} or null for not sure")
    return responses


def stored_answer(session: TestSession, trial_id_text: str) -> Trial | None:
    """The stored trial a trial id names in this session, or None."""
    parsed = p.parse_trial_id(trial_id_text)
    if parsed is None:
        return None
    eye_name, index = parsed
    eye = next((eye for eye in session.eye_tests if eye.eye == eye_name), None)
    return p.stored_trial(eye, index) if eye else None


def answer(session: TestSession, data: dict, scored_by: str, out: Outbox) -> dict:
    """Score one answer to the trial on screen (patient `answer` or clinician `score`).

    Returns the ack; the caller commits before acknowledging. A repeat of the answered
    (trial_id, seq) is a duplicate, counted once; anything else not current is stale.
    """
    eye = session.current_eye_test
    pending = eye.pending if eye else None
    if not pending or pending["trial_id"] != data["trial_id"] or pending["seq"] != data["seq"]:
        # Not the trial on screen (which is never stored yet): a repeat of a stored answer, or stale.
        stored = stored_answer(session, data["trial_id"])
        if stored is not None and stored.seq == data["seq"]:
            return {"ok": True, "accepted": True, "duplicate": True}
        if stored is not None:
            raise LiveError("stale_trial", "That trial was already answered; answer the one on screen.")
        _require_open(session)
        raise LiveError("stale_trial", "That trial is no longer on screen; answer the one shown now.")
    _require_open(session)
    if phase(session) != "testing":
        raise LiveError("wrong_phase", "The test is paused; answers count again once it continues.")
    mode = session.config["answer_mode"]
    if mode != scored_by:
        raise LiveError("answer_mode", "The clinician scores this test." if mode == "clinician"
                        else "The patient answers this test; the clinician cannot score it.")
    if "correct" in data:
        flags = data["correct"]
        if len(flags) != len(pending["optotypes"]):
            raise LiveError("invalid_payload",
                            f"send {len(pending['optotypes'])} correct flags (one per optotype shown)")
        responses = [shown if ok else None for shown, ok in zip(pending["optotypes"], flags)]
    else:
        responses = _responses_for(session, pending, data["responses"])

    procedure = p.rebuild(eye)
    try:
        record = procedure.record(p.pending_presentation(eye), responses)
    except ProcedureError as error:
        raise LiveError("procedure_error", str(error)) from None
    row = p.trial_row(eye, record, seq=pending["seq"], scored_by=scored_by,
                      response_time_ms=data.get("response_time_ms"), height_css_px=pending["height_css_px"],
                      presented_at=pending.get("presented_at"))
    p.add_trial(eye, row)
    eye.pending = None
    estimate = procedure.estimate().to_dict()
    out.clinician(ev.ANSWER_SCORED, {"trial": p.trial_dict(eye, row), "estimate": estimate})
    out.clinician(ev.ESTIMATE, {"eye": eye.eye, "estimate": estimate})
    _advance(session, eye, procedure, out)
    _send_current(session, out)
    if eye.status == "active":  # a finished eye's procedure is not needed again (and is large)
        p.remember(eye, procedure)
    return {"ok": True, "accepted": True, "duplicate": False}


def page_event(session: TestSession, device: str, data: dict, out: Outbox) -> dict:
    """Store a page event, relay it to the clinician, and pause or void the calibration if needed."""
    kind, detail = data["kind"], data.get("detail", {})
    event = _record_event(session, "page_event", device, {"kind": kind, **detail})
    out.clinician(ev.PAGE_EVENT, {"kind": kind, "detail": detail, "device": device, "at": p.iso(event.created_at)})
    if session.status in ("done", "ended"):
        return {"ok": True, "paused": False}
    calibration = session.current_calibration
    if device == "display" and calibration is not None:
        # A zoom of any kind (browser zoom, another monitor, pinch zoom) changes the size of a CSS px.
        if kind == "zoom" or css_px_size_changed(calibration.device_pixel_ratio, detail.get("device_pixel_ratio"),
                                                 detail.get("visual_viewport_scale")):
            invalidate_calibration(session, "zoom_or_screen_changed", device, out)
            return {"ok": True, "paused": True}
    if device == "display" and calibration is not None and kind in ("resize", "fullscreen_exit", "fullscreen_enter"):
        if not _pending_fits_viewport(session, calibration, detail.get("viewport_css_px")):
            invalidate_calibration(session, "window_too_small", device, out)
            return {"ok": True, "paused": True}
    if kind == "hidden" and device == "display" and phase(session) == "testing":
        session.paused_reason = "page_hidden"
        out.patients(ev.PAUSED, {"reason": "page_hidden"})
        _announce(session, out)
        return {"ok": True, "paused": True}
    return {"ok": True, "paused": phase(session) in ("paused", "calibrate")}


def _pending_fits_viewport(session: TestSession, calibration: Calibration, viewport: Any) -> bool:
    """Whether the stimulus on screen still fits a resized window (the calibration's largest size
    was computed for the window it was made in)."""
    eye = session.current_eye_test
    if not eye or not eye.pending or not (isinstance(viewport, list) and len(viewport) == 2):
        return True
    # Only a stimulus on screen can stop fitting: a trial held for `ready` after a re-calibration,
    # or held because this calibration cannot draw it, is not on screen.
    if phase(session) != "testing" or eye.pending.get("calibration_id") != calibration.id:
        return True
    try:
        scale = screen_scale(calibration.css_px_per_mm, calibration.device_pixel_ratio, calibration.scale_method)
        drawable = measurable_range(scale, (viewport[0], viewport[1]), calibration.viewing_distance_mm,
                                    crowding=True, optotypes_per_row=_optotypes_per_row(session))
    except CalibrationError:
        return False  # nothing fits this window at all
    return eye.pending["logmar"] <= drawable.max_logmar + 1e-9


# ---- clinician commands ------------------------------------------------------------------------

def pause(session: TestSession, out: Outbox) -> dict:
    _require_open(session)
    if session.paused_reason != "clinician":
        session.paused_reason = "clinician"
        _record_event(session, "paused", "clinician")
        out.patients(ev.PAUSED, {"reason": "clinician"})
        _announce(session, out)
    return {"ok": True}


def resume(session: TestSession, out: Outbox) -> dict:
    _require_open(session)
    was_paused = session.paused_reason is not None
    session.paused_reason = None
    if was_paused:
        _record_event(session, "resumed", "clinician")
        out.patients(ev.RESUMED, {})
    eye = session.current_eye_test
    if phase(session) == "testing" and eye is not None:
        _show(session, eye, out)
    _announce(session, out)
    return {"ok": True}


def request_recalibration(session: TestSession, out: Outbox) -> dict:
    _require_open(session)
    if session.current_calibration is None:
        raise LiveError("wrong_phase", "The patient has no calibration yet.")
    invalidate_calibration(session, "clinician_request", "clinician", out)
    return {"ok": True}


def next_eye(session: TestSession, out: Outbox) -> dict:
    _require_open(session)
    eye = session.current_eye_test
    if eye is None:
        raise LiveError("wrong_phase", "There is no eye left to test.")
    procedure = p.rebuild(eye) if eye.procedure_config else None
    _finish_eye(session, eye, procedure, out)
    return {"ok": True}


def end(session: TestSession, out: Outbox) -> dict:
    _require_open(session)
    for eye in session.eye_tests:
        if eye.status == "active":
            procedure = p.rebuild(eye)
            eye.result = procedure.estimate().to_dict() if procedure.history else None
            eye.status = "done" if procedure.history else "skipped"
            eye.finished_at = utcnow()
        elif eye.status == "pending":
            eye.status = "skipped"
    _record_event(session, "ended", "clinician")
    _finish_session(session, "ended", out)
    return {"ok": True}


def note(session: TestSession, text: str, out: Outbox) -> dict:
    event = _record_event(session, "note", "clinician", text=text.strip())
    out.clinician(ev.NOTE, {"text": event.text, "at": p.iso(event.created_at)})
    return {"ok": True}


def present(session: TestSession, logmar: float, out: Outbox) -> dict:
    """The clinician chooses the next size (manual procedure; an override in the others)."""
    _require_open(session)
    eye = session.current_eye_test
    if eye is None or eye.status != "active":
        raise LiveError("wrong_phase", "Wait until the patient has started this eye (they press Ready).")
    procedure = p.rebuild(eye)
    try:
        presentation = procedure.next_presentation(requested_logmar=logmar)
    except ProcedureError as error:
        raise LiveError("procedure_error", str(error)) from None
    if presentation is None:
        raise LiveError("procedure_error", "This eye's test has finished; go to the next eye.")
    calibration = session.current_calibration
    if calibration is not None and not _drawable(calibration, presentation.logmar):
        raise LiveError("procedure_error",
                        f"logMAR {presentation.logmar:+.2f} cannot be drawn with the patient's current calibration; "
                        f"choose from {calibration.min_logmar:+.2f} to {calibration.max_logmar:+.2f}")
    p.remember(eye, procedure)
    if session.paused_reason == "size_not_drawable":  # this size can be drawn: go on
        session.paused_reason = None
        out.patients(ev.RESUMED, {})
        _announce(session, out)
    _put_up(session, eye, presentation, out)
    _record_event(session, "present", "clinician", {"logmar": presentation.logmar})
    _send_current(session, out)
    return {"ok": True, "stimulus": stimulus_payload(session)}


def share_results(session: TestSession, show: bool, out: Outbox) -> dict:
    session.show_results = show
    _record_event(session, "share_results", "clinician", {"show": show})
    if show and session.status in ("done", "ended"):
        out.patients(ev.TEST_DONE, {"show_results": True, "results": results(session)})
    out.state_to_patients = True
    return {"ok": True}
