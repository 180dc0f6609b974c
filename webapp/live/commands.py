"""The live test's commands: what each event does to a stored test session, and what it queues
for whom.

Each command asks the state machine (webapp/live/phases.py) whether it applies where the test is,
changes rows and queues messages in an Outbox; it never commits and never emits. The socket
handlers (webapp/live/common.py) commit first, then flush the outbox: every change is stored before
anyone hears of it. An eye's procedure is rebuilt from the database, or reused from the last
committed event while it matches what is stored (webapp/live/procedures.py), so a restart loses
nothing.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select

from acuity.low_vision import NEAREST_DISTANCE_MM, PROCEDURES, closer_distances_mm, vision_category
from acuity.notation import format_distance_mm
from acuity.optotypes import optotype_set
from acuity.procedure import WRONG_UNNAMED, DistanceStep, Procedure, ProcedureConfig, ProcedureError
from calibration.capability import check_drawn, css_px_size_changed, measurable_range
from calibration.distance import distance_from_blind_spot, distance_from_mirror, distance_from_tape
from calibration.errors import CalibrationError
from calibration.screen import screen_scale
from calibration.size import optotype_height_css_px
from webapp import events as ev
from webapp import i18n
from webapp import serializers as s
from webapp.extensions import db
from webapp.i18n import N_
from webapp.live import phases
from webapp.live import procedures as proc
from webapp.live.errors import LiveError
from webapp.live.outbox import Outbox
from webapp.live.payloads import (
    answer_request_payload,
    child_mode,
    eye_distance_mm,
    helper_tapping,
    move_payload,
    practice_left,
    practice_payload,
    practice_request_payload,
    practice_result_payload,
    results,
    stimulus_payload,
    stimulus_shown_payload,
)
from webapp.live.phases import EyeStatus, PauseReason, Phase, Status
from webapp.live.trial_ids import format_trial_id, parse_trial_id
from webapp.models import Calibration, EyeTest, SessionEvent, TestSession, Trial, utcnow
from webapp.patient_words import distance_text, move_closer_words, screen_words
from webapp.setups import SETUP_DISTANCE_METHODS, SETUP_DISTANCE_MM

# A measured distance this far from the set-up's is stored with a warning for the clinician.
DISTANCE_WARNING_FRACTION = 0.10


# ---- moving between phases (every stored change of status or pause reason goes through these) ----


def _set_pause(session: TestSession, reason: PauseReason | None) -> None:
    session.paused_reason = reason


def _set_status(session: TestSession, status: Status) -> None:
    session.status = status


def _record_event(
    session: TestSession, kind: str, device: str, detail: dict | None = None, text: str | None = None
) -> SessionEvent:
    event = SessionEvent(
        session_id=session.id, kind=kind, device=device, detail=detail or {}, text=text, created_at=utcnow()
    )
    db.session.add(event)  # not session.events.append: that would load every stored event first
    return event


# What one test stores of what its pages report (page events, device_replaced warnings), docs/security.md.
# A real test sends a few dozen: each hide and show of a page, full-screen change, resize (debounced,
# webapp/static/js/patient/page-events.js) or zoom, and a reconnect now and then; 500 is ten times a
# long, troubled test's. Beyond it they are counted in one stored warning and dropped.
PAGE_EVENTS_PER_SESSION = 500
# A real test calibrates a handful of times (again after each zoom or move); each one is a stored row.
CALIBRATIONS_PER_SESSION = 100
# The reason of a calibration voided for the distance alone to be measured again (docs/protocol.md).
DISTANCE_CHECK = "distance_check"


def _record_page_report(session: TestSession, kind: str, device: str, detail: dict) -> SessionEvent | None:
    """Store what a page reported, unless the test already holds PAGE_EVENTS_PER_SESSION of them:
    then count it in the one `events_dropped` warning and return None."""
    stored = db.session.scalar(
        select(func.count())
        .select_from(SessionEvent)
        .where(
            SessionEvent.session_id == session.id,
            SessionEvent.kind.in_(("page_event", "warning")),
            SessionEvent.device.in_(("display", "pad")),
        )
    )
    if stored < PAGE_EVENTS_PER_SESSION:
        return _record_event(session, kind, device, detail)
    warnings = db.session.scalars(
        select(SessionEvent).where(
            SessionEvent.session_id == session.id, SessionEvent.kind == "warning", SessionEvent.device == "server"
        )
    )
    dropped = next((w for w in warnings if (w.detail or {}).get("code") == "events_dropped"), None)
    if dropped is None:
        _record_event(
            session, "warning", "server", {"code": "events_dropped", "dropped": 1, "limit": PAGE_EVENTS_PER_SESSION}
        )
    else:
        dropped.detail = {**dropped.detail, "dropped": dropped.detail.get("dropped", 0) + 1}
    return None


def device_replaced(session: TestSession, device: str) -> dict[str, Any]:
    """A newer connection of `device` took over (a second device on the same link, or the same
    device back before its old connection was closed): stored as a warning; returns the clinician's
    `page_event` payload, to send after the commit."""
    event = _record_page_report(session, "warning", device, {"code": "device_replaced"})
    return {
        "kind": "warning",
        "detail": {"code": "device_replaced"},
        "device": device,
        "at": s.iso(event.created_at if event else utcnow()),
    }


# ---- patient commands --------------------------------------------------------------------------


def consent(session: TestSession, out: Outbox) -> dict:
    if not phases.check(session, ev.CONSENT):
        return {"ok": True}
    session.consent_at = utcnow()
    _set_status(session, Status.ACTIVE)
    _record_event(session, "consent", "display")
    out.announce()
    return {"ok": True}


def set_language(session: TestSession, code: str, out: Outbox) -> dict:
    """The patient's pages, pad and e-mails in `code` from now on; the optotype set follows the
    language when the clinician allowed it (webapp/i18n.py, optotypes_for_language)."""
    phases.check(session, ev.LANGUAGE)
    if session.language != code:
        session.language = code
        session.config = i18n.optotypes_for_language(session.config, code)
        _record_event(session, "language", "display", {"language": code})
        out.announce()
    return {"ok": True, "language": code}


def _optotypes_per_row(session: TestSession) -> int:
    if session.config["procedure"] == "chart" and session.config.get("chart_presentation", "row") in ("row", "text"):
        return ProcedureConfig().chart_letters_per_row
    return 1


def calibrate(session: TestSession, data: dict, out: Outbox) -> dict:
    """Store a calibration of the display; answers with what the screen can measure."""
    phases.check(session, ev.CALIBRATION)
    setup = session.config["setup"]
    distance = data["distance"]
    if distance["method"] not in SETUP_DISTANCE_METHODS[setup]:
        allowed = " or ".join(SETUP_DISTANCE_METHODS[setup])
        raise LiveError(
            "invalid_payload",
            f"This test's set-up ({setup}) measures the distance by {allowed}; set the distance that way.",
        )
    try:
        if distance["method"] == "tape":
            viewing = distance_from_tape(distance["distance_mm"])
        elif distance["method"] == "mirror":
            viewing = distance_from_mirror(distance["patient_to_mirror_mm"])
        else:
            viewing = distance_from_blind_spot(distance["offsets_mm"])
        scale = screen_scale(data["css_px_per_mm"], data["device_pixel_ratio"], data["scale_method"])
        width, height = data["viewport_css_px"]
        drawable = measurable_range(
            scale,
            (width, height),
            viewing.viewing_distance_mm,
            crowding=True,
            optotypes_per_row=_optotypes_per_row(session),
        )
    except CalibrationError as error:
        raise LiveError("calibration_refused", str(error)) from None

    eye = session.current_eye_test
    moving = eye is not None and eye.status == EyeStatus.ACTIVE and eye.move_to_mm is not None
    step = _move_step(session, eye, viewing.viewing_distance_mm, drawable) if moving else None
    if len(session.calibrations) >= CALIBRATIONS_PER_SESSION:
        raise LiveError(
            "too_many_calibrations",
            N_("This test has been calibrated {count} times; ask your clinician for a new test."),
            count=CALIBRATIONS_PER_SESSION,
        )
    calibration = Calibration(
        css_px_per_mm=scale.css_px_per_mm,
        device_pixel_ratio=scale.device_pixel_ratio,
        viewport_width_css_px=width,
        viewport_height_css_px=height,
        scale_method=scale.method,
        distance_method=viewing.method,
        distance_input=dict(distance),
        viewing_distance_mm=viewing.viewing_distance_mm,
        mirrored=viewing.mirrored,
        min_logmar=drawable.min_logmar,
        max_logmar=drawable.max_logmar,
        user_agent=data.get("user_agent", "")[:512],
        created_at=utcnow(),
    )
    previous = session.calibrations[-1] if session.calibrations else None
    for older in session.calibrations:
        if older.invalidated_at is None:
            older.invalidated_at = utcnow()
            older.invalidated_reason = "replaced by a new calibration"
    session.calibrations.append(calibration)
    moved = (eye.distance_steps or []) if eye is not None and eye.status == EyeStatus.ACTIVE else []
    # Where the patient should be: the set-up's distance, or where this eye was last moved to.
    expected = moved[-1]["distance_mm"] if moved else SETUP_DISTANCE_MM[setup]
    if step is not None:
        eye.distance_steps = [*(eye.distance_steps or ()), step.to_dict()]
        eye.move_to_mm = None
        _record_event(session, "moved_closer", "display", step.to_dict())
        out.clinician(ev.MOVE_CLOSER, move_payload(session, eye, done=True))
    elif expected and abs(viewing.viewing_distance_mm - expected) > DISTANCE_WARNING_FRACTION * expected:
        _record_event(
            session,
            "warning",
            "server",
            {"code": "distance_differs", "viewing_distance_mm": viewing.viewing_distance_mm, "setup_mm": expected},
        )
    if eye is not None and eye.status == EyeStatus.ACTIVE and session.paused_reason != PauseReason.CLINICIAN:
        # Mid-eye: the patient says `ready` before the trial is shown again at the new size (or held
        # again if this calibration cannot draw it either).
        _set_pause(session, PauseReason.AWAITING_READY)
    if eye is not None and eye.status == EyeStatus.ACTIVE and eye.procedure_config and step is None:
        frozen = moved[-1] if moved else eye.procedure_config  # the range this eye's test uses now
        if drawable.min_logmar > frozen["min_logmar"] + 1e-9 or drawable.max_logmar < frozen["max_logmar"] - 1e-9:
            _record_event(
                session,
                "warning",
                "server",
                {
                    "code": "range_narrower_than_eye_test",
                    "min_logmar": drawable.min_logmar,
                    "max_logmar": drawable.max_logmar,
                },
            )
    _record_event(
        session,
        "calibration",
        "display",
        {
            "viewing_distance_mm": viewing.viewing_distance_mm,
            "css_px_per_mm": scale.css_px_per_mm,
            "device_pixel_ratio": scale.device_pixel_ratio,
            # The distance before this calibration (a distance check's before and after).
            **({"previous_viewing_distance_mm": previous.viewing_distance_mm} if previous else {}),
        },
    )
    measurable = s.range_dict(drawable.min_logmar, drawable.max_logmar, session)
    out.clinician(ev.CALIBRATION, {"calibration": s.calibration_dict(calibration), "measurable_range": measurable})
    out.announce()
    return {
        "ok": True,
        "measurable_range": measurable,
        # What the patient reads about it (no logMAR on a patient screen): webapp/patient_words.py.
        "screen": screen_words(
            scale,
            (width, height),
            viewing.viewing_distance_mm,
            drawable.min_logmar,
            drawable.max_logmar,
            setup=setup,
            mirrored=viewing.mirrored,
            optotypes_per_row=_optotypes_per_row(session),
            language=session.language,
        ),
        "viewing_distance_mm": viewing.viewing_distance_mm,
        "viewing_distance_text": format_distance_mm(viewing.viewing_distance_mm),
        "mirrored": viewing.mirrored,
    }


def ready(session: TestSession, out: Outbox) -> dict:
    """The patient is in place with one eye covered: start or continue the current eye."""
    phases.check(session, ev.READY)
    _set_pause(session, None)
    session.practice = None
    eye = session.current_eye_test
    assert eye is not None  # the table allows `ready` only while an eye is left
    starting = eye.status == EyeStatus.PENDING
    if starting:
        _start_eye(session, eye)
    _show(session, eye, out, proc.start(eye) if starting else None)
    out.announce()
    return {"ok": True}


def practice(session: TestSession, out: Outbox) -> dict:
    """A practice letter before an eye starts (not a trial, never scored into the result): the
    server chooses it, the display draws it, the pad gets buttons for it."""
    phases.check(session, ev.PRACTICE)
    symbols = optotype_set(session.config["optotype_set"]).symbols
    previous = session.practice or {}
    number = previous.get("id", 0) + 1
    choices, matched = list(symbols), []
    if child_mode(session):
        # A child's round teaches matching: each letter of the set once, matched right, before it
        # starts again; a letter missed comes back later, never twice in a row when another is left.
        matched = list(previous.get("matched", [])) if practice_left(session) else []
        choices = [symbol for symbol in symbols if symbol not in matched]
        if len(choices) > 1 and previous.get("symbol") in choices:
            choices.remove(previous["symbol"])
    # Not part of the measurement (whose randomness is the eye's seed): any fair choice will do.
    session.practice = {
        "id": number,
        "symbol": secrets.choice(choices),
        "response": None,
        "correct": None,
        "matched": matched,
    }
    out.display(ev.PRACTICE, practice_payload(session))
    out.pad(ev.PRACTICE_REQUEST, practice_request_payload(session))
    return {"ok": True, "practice_id": number}


# What the clinician reads when the helper mode changes (the live view's events, the reports).
HELPER_TEXT = {
    True: "An adult helper taps the answers on the phone; the child points.",
    False: "The child taps the answers again (no helper).",
}


def helper(session: TestSession, data: dict, out: Outbox) -> dict:
    """A child's test: an adult helper taps on the pad the answers the child points to (`on`), or no
    longer. Stored as an event with the test (the latest one says which), relayed to the clinician.
    Not a command of the phase table: allowed until the test is closed."""
    if session.status in phases.CLOSED:
        raise LiveError("session_closed", N_("This test has finished. Ask your clinician if you need another."))
    if not child_mode(session):
        raise LiveError("wrong_phase", N_("The helper mode is for a child's test; answer on the buttons as they are."))
    on = data["on"]
    if helper_tapping(session) == on:
        return {"ok": True, "helper": on}  # a repeat changes nothing
    event = _record_event(session, "helper", "pad", {"on": on}, HELPER_TEXT[on])
    db.session.flush()  # the event's time and id, for the clinician's copy
    out.clinician(ev.HELPER, {"helper": on, "event": s.event_dict(event)})
    out.patients(ev.HELPER, {"helper": on})
    return {"ok": True, "helper": on}


def practice_answer(session: TestSession, data: dict, out: Outbox) -> dict:
    """The patient's answer to the practice letter (pad or display keyboard): both devices are told
    whether it was right, and which letter it was."""
    phases.check(session, ev.PRACTICE_ANSWER)
    current = session.practice
    if not current or current["id"] != data["practice_id"]:
        raise LiveError("stale_trial", N_("That practice letter is no longer shown; answer the one on screen."))
    if current["response"] is not None or current["correct"] is not None:
        return {"ok": True, "duplicate": True, **practice_result_payload(session)}
    response = _responses_for(session, {"optotypes": [current["symbol"]]}, [data["response"]])[0]
    correct = response == current["symbol"]
    matched = list(current.get("matched", [])) + ([current["symbol"]] if correct else [])
    session.practice = {**current, "response": response, "correct": correct, "matched": matched}
    result = practice_result_payload(session)
    out.patients(ev.PRACTICE_RESULT, result)
    return {"ok": True, "duplicate": False, **result}


def drawn(session: TestSession, data: dict, out: Outbox) -> dict:
    """The display reports the ink it drew; more than 2% off (calibration.capability.check_drawn),
    or a changed devicePixelRatio or pinch zoom, voids the calibration."""
    phases.check(session, ev.DRAWN)
    eye = session.current_eye_test
    pending = eye.pending if eye else None
    if not pending or pending["trial_id"] != data["trial_id"] or pending["seq"] != data["seq"]:
        raise LiveError("stale_trial", N_("That trial is no longer on screen; draw the current one."))
    calibration = session.current_calibration
    if calibration is None:
        raise LiveError("recalibration_needed", N_("Calibrate the screen again first."))
    try:
        check = check_drawn(
            pending["height_css_px"],
            calibration.device_pixel_ratio,
            data["ink_device_px"],
            data["device_pixel_ratio"],
            data["visual_viewport_scale"],
            len(pending["optotypes"]),
        )
    except CalibrationError as error:
        raise LiveError("invalid_payload", str(error)) from None
    out.clinician(
        ev.DRAWN_REPORT,
        {
            "trial_id": pending["trial_id"],
            "seq": pending["seq"],
            "requested_css_px": pending["height_css_px"],
            "drawn_css_px": check.drawn_device_px / calibration.device_pixel_ratio,
            **check.to_dict(),
        },
    )
    if not check.within_tolerance:
        invalidate_calibration(session, check.reason, "display", out)
    return {"ok": True, "within_tolerance": check.within_tolerance}


def _responses_for(session: TestSession, pending: dict, responses: list, wrong_allowed: bool = False) -> list:
    """The responses checked against the set's symbols; a clinician may also score WRONG_UNNAMED."""
    symbols = set(optotype_set(session.config["optotype_set"]).symbols) | ({WRONG_UNNAMED} if wrong_allowed else set())
    if len(responses) != len(pending["optotypes"]):
        raise LiveError(
            "invalid_payload",
            f"send {len(pending['optotypes'])} responses (one per optotype shown), got {len(responses)}",
        )
    for i, response in enumerate(responses):
        if response is not None and response not in symbols:
            raise LiveError(
                "invalid_payload",
                f"responses[{i}] {response!r} is not a symbol of {session.config['optotype_set']}; "
                f"send one of {', '.join(sorted(symbols))} or null for not sure (not seen)",
            )
    return responses


def stored_answer(session: TestSession, trial_id_text: str) -> Trial | None:
    """The stored trial a trial id names in this session, or None."""
    parsed = parse_trial_id(trial_id_text)
    if parsed is None:
        return None
    eye_name, index = parsed
    eye = next((eye for eye in session.eye_tests if eye.eye == eye_name), None)
    return proc.stored_trial(eye, index) if eye else None


def answer(session: TestSession, data: dict, scored_by: str, out: Outbox) -> dict:
    """Score one answer to the trial on screen (patient `answer` or clinician `score`).

    Returns the ack; the caller commits before acknowledging. A repeat of the answered
    (trial_id, seq) is a duplicate, counted once; anything else not current is stale.
    """
    eye = session.current_eye_test
    pending = eye.pending if eye else None
    current = bool(pending) and pending["trial_id"] == data["trial_id"] and pending["seq"] == data["seq"]
    # Not the trial on screen (which is never stored yet): a repeat of a stored answer, in any phase.
    stored = None if current else stored_answer(session, data["trial_id"])
    if stored is not None and stored.seq == data["seq"]:
        return {"ok": True, "accepted": True, "duplicate": True}
    phases.check(session, ev.ANSWER if scored_by == "patient" else ev.SCORE)
    if stored is not None:
        raise LiveError("stale_trial", N_("That trial was already answered; answer the one on screen."))
    if not current:
        raise LiveError("stale_trial", N_("That trial is no longer on screen; answer the one shown now."))
    mode = session.config["answer_mode"]
    if mode != scored_by:
        raise LiveError(
            "answer_mode",
            "The clinician scores this test."
            if mode == "clinician"
            else "The patient answers this test; the clinician cannot score it.",
        )
    if "correct" in data:
        flags = data["correct"]
        if len(flags) != len(pending["optotypes"]):
            raise LiveError(
                "invalid_payload", f"send {len(pending['optotypes'])} correct flags (one per optotype shown)"
            )
        responses = [shown if ok else WRONG_UNNAMED for shown, ok in zip(pending["optotypes"], flags, strict=False)]
    else:
        responses = _responses_for(session, pending, data["responses"], wrong_allowed=scored_by == "clinician")

    procedure = proc.rebuild(eye)
    try:
        record = procedure.record(proc.pending_presentation(eye), responses)
    except ProcedureError as error:
        raise LiveError("procedure_error", str(error)) from None
    row = proc.trial_row(
        eye,
        record,
        seq=pending["seq"],
        scored_by=scored_by,
        response_time_ms=data.get("response_time_ms"),
        height_css_px=pending["height_css_px"],
        presented_at=pending.get("presented_at"),
    )
    proc.add_trial(eye, row)
    eye.pending = None
    estimate = s.with_notation(procedure.estimate().to_dict(), session)
    out.clinician(ev.ANSWER_SCORED, {"trial": s.trial_dict(eye, row), "estimate": estimate})
    out.clinician(ev.ESTIMATE, {"eye": eye.eye, "estimate": estimate})
    _advance(session, eye, procedure, out)
    _send_current(session, out)
    if eye.status == EyeStatus.ACTIVE:  # a finished eye's procedure is not needed again (and is large)
        proc.remember(eye, procedure)
    return {"ok": True, "accepted": True, "duplicate": False}


def page_event(session: TestSession, device: str, data: dict, out: Outbox) -> dict:
    """Store a page event, relay it to the clinician, and pause or void the calibration if needed."""
    phases.check(session, ev.PAGE_EVENT)
    kind, detail = data["kind"], data.get("detail", {})
    calibration = session.current_calibration
    # A resize by itself says nothing about the measurement (pages report one at start-up, on
    # entering full screen, ...): it is neither stored nor shown; `_window_warning` below stores
    # one warning when the window's change matters.
    if kind != "resize":
        # The server's kind and the page's detail apart: no detail can pass for a kind (issue 12).
        event = _record_page_report(session, "page_event", device, {"kind": kind, "client": detail})
        if event is not None:  # one dropped beyond the cap still acts below, but is neither stored nor relayed
            out.clinician(
                ev.PAGE_EVENT, {"kind": kind, "detail": detail, "device": device, "at": s.iso(event.created_at)}
            )
    if session.status in phases.CLOSED:
        return {"ok": True, "paused": False}
    if device == "display" and calibration is not None:
        # A zoom of any kind (browser zoom, another monitor, pinch zoom) changes the size of a CSS px.
        if kind == "zoom" or css_px_size_changed(
            calibration.device_pixel_ratio, detail.get("device_pixel_ratio"), detail.get("visual_viewport_scale")
        ):
            invalidate_calibration(session, "zoom_or_screen_changed", device, out)
            return {"ok": True, "paused": True}
    if device == "display" and calibration is not None and kind in WINDOW_EVENTS:
        _window_warning(session, calibration, detail.get("viewport_css_px"), out)
        if not _pending_fits_viewport(session, calibration, detail.get("viewport_css_px")):
            invalidate_calibration(session, "window_too_small", device, out)
            return {"ok": True, "paused": True}
    if kind == "hidden" and device == "display" and phases.phase(session) == Phase.TESTING:
        _set_pause(session, PauseReason.PAGE_HIDDEN)
        out.patients(ev.PAUSED, {"reason": PauseReason.PAGE_HIDDEN})
        out.announce()
        return {"ok": True, "paused": True}
    return {"ok": True, "paused": phases.phase(session) in (Phase.PAUSED, Phase.CALIBRATE)}


# Page events that say the display's window may have changed size.
WINDOW_EVENTS = ("resize", "fullscreen_exit", "fullscreen_enter")
# A change of the largest size the window can draw smaller than one step of the 0.01 logMAR size
# grid changes no size the test may show: not worth a warning.
WINDOW_CHANGE_LOGMAR = 0.01


def _largest_in_window(session: TestSession, calibration: Calibration, viewport: Any) -> float | None:
    """The largest size (logMAR) the calibrated screen can draw in this window, at most the
    calibration's own largest (the test's range); None when no letter fits at all."""
    drawable = _stored_range(session, calibration, (viewport[0], viewport[1]), calibration.viewing_distance_mm)
    return None if drawable is None else min(drawable.max_logmar, calibration.max_logmar)


def _stored_range(session: TestSession, calibration: Calibration, viewport_css_px, distance_mm: float):
    """What a stored calibration's screen can draw in this window at this distance
    (calibration.capability.measurable_range); None when no letter fits at all."""
    try:
        scale = screen_scale(calibration.css_px_per_mm, calibration.device_pixel_ratio, calibration.scale_method)
        return measurable_range(
            scale, viewport_css_px, distance_mm, crowding=True, optotypes_per_row=_optotypes_per_row(session)
        )
    except CalibrationError:
        return None


def _window_warning(session: TestSession, calibration: Calibration, viewport: Any, out: Outbox) -> None:
    """Store and relay one warning when the display's window changed the largest size it can draw
    (by a step of the size grid or more) since the calibration or the last such warning; a window
    that changed nothing that matters, or reported the same size again, gives none (issue 14)."""
    if not (isinstance(viewport, list) and len(viewport) == 2):
        return
    largest = _largest_in_window(session, calibration, viewport)
    previous = calibration.max_logmar
    earlier = db.session.scalars(
        select(SessionEvent)
        .where(
            SessionEvent.session_id == session.id,
            SessionEvent.kind == "warning",
            SessionEvent.device == "display",
            SessionEvent.created_at >= calibration.created_at,
        )
        .order_by(SessionEvent.id.desc())
    )
    last = next((e for e in earlier if (e.detail or {}).get("code") == "window_size_changed"), None)
    if last is not None:
        previous = last.detail.get("largest_logmar")
    if largest is not None and previous is not None and abs(largest - previous) < WINDOW_CHANGE_LOGMAR:
        return
    if largest is None and previous is None:
        return
    detail = {
        "code": "window_size_changed",
        "largest_logmar": largest,
        "calibrated_largest_logmar": calibration.max_logmar,
        "viewport_css_px": list(viewport),
        "calibrated_viewport_css_px": [calibration.viewport_width_css_px, calibration.viewport_height_css_px],
    }
    event = _record_page_report(session, "warning", "display", detail)
    if event is not None:
        out.clinician(
            ev.PAGE_EVENT,
            {
                "kind": "warning",
                "detail": detail,
                "detail_text": s.detail_text(detail, session),
                "device": "display",
                "at": s.iso(event.created_at),
            },
        )


def _pending_fits_viewport(session: TestSession, calibration: Calibration, viewport: Any) -> bool:
    """Whether the stimulus on screen still fits a resized window (the calibration's largest size
    was computed for the window it was made in)."""
    eye = session.current_eye_test
    if not eye or not eye.pending or not (isinstance(viewport, list) and len(viewport) == 2):
        return True
    # Only a stimulus on screen can stop fitting: a trial held for `ready` after a re-calibration,
    # or held because this calibration cannot draw it, is not on screen.
    if phases.phase(session) != Phase.TESTING or eye.pending.get("calibration_id") != calibration.id:
        return True
    largest = _largest_in_window(session, calibration, viewport)
    return largest is not None and eye.pending["logmar"] <= largest + 1e-9  # None: nothing fits this window


# ---- clinician commands ------------------------------------------------------------------------


def pause(session: TestSession, out: Outbox) -> dict:
    if not phases.check(session, ev.PAUSE):
        return {"ok": True}
    _set_pause(session, PauseReason.CLINICIAN)
    _record_event(session, "paused", "clinician")
    out.patients(ev.PAUSED, {"reason": PauseReason.CLINICIAN})
    out.announce()
    return {"ok": True}


def resume(session: TestSession, out: Outbox) -> dict:
    if not phases.check(session, ev.RESUME):
        return {"ok": True}
    if session.paused_reason == PauseReason.DISTANCE:
        from webapp.live import distance_guard  # it builds on this module

        distance_guard.suspend(session)
    _set_pause(session, None)
    _record_event(session, "resumed", "clinician")
    out.patients(ev.RESUMED, {})
    eye = session.current_eye_test
    if phases.phase(session) == Phase.TESTING and eye is not None:
        _show(session, eye, out)
    out.announce()
    return {"ok": True}


def request_recalibration(session: TestSession, out: Outbox, part: str = "all") -> dict:
    """The clinician voids the calibration: all of it, or (`part` "distance") only the distance, which
    the display measures again with the screen's scale it has (the near test's blind-spot sweep)."""
    phases.check(session, ev.REQUEST_RECALIBRATION)
    invalidate_calibration(session, DISTANCE_CHECK if part == "distance" else "clinician_request", "clinician", out)
    return {"ok": True}


def new_link(session: TestSession, out: Outbox) -> None:
    """The clinician re-issued the invite link (webapp/clinician/routes.py): the browser that opens the
    new link is another screen, so a test under way calibrates again there before it goes on."""
    if session.status not in phases.CLOSED:
        invalidate_calibration(session, "new_link", "clinician", out)


def next_eye(session: TestSession, out: Outbox) -> dict:
    phases.check(session, ev.NEXT_EYE)
    eye = session.current_eye_test
    assert eye is not None  # an open test has an eye left
    procedure = proc.rebuild(eye) if eye.procedure_config else None
    _finish_eye(session, eye, procedure, out)
    return {"ok": True}


def end(session: TestSession, out: Outbox, by: str = "clinician") -> dict:
    """The clinician's `end`, or the patient's `stop` (`by` "patient"): results so far are kept."""
    phases.check(session, ev.END if by == "clinician" else ev.STOP)
    for eye in session.eye_tests:
        if eye.status == EyeStatus.ACTIVE:
            procedure = proc.rebuild(eye)
            eye.result = _result(session, eye, procedure) if procedure.history else None
            eye.status = EyeStatus.DONE if procedure.history else EyeStatus.SKIPPED
            eye.finished_at = utcnow()
        elif eye.status == EyeStatus.PENDING:
            eye.status = EyeStatus.SKIPPED
    _record_event(session, "ended" if by == "clinician" else "stopped", by)
    _finish_session(session, Status.ENDED, out)
    return {"ok": True}


def note(session: TestSession, text: str, out: Outbox) -> dict:
    phases.check(session, ev.NOTE)
    event = _record_event(session, "note", "clinician", text=text.strip())
    out.clinician(ev.NOTE, {"text": event.text, "at": s.iso(event.created_at)})
    return {"ok": True}


def present(session: TestSession, logmar: float, out: Outbox) -> dict:
    """The clinician chooses the next size (manual procedure; an override in the others)."""
    phases.check(session, ev.PRESENT)
    eye = session.current_eye_test
    if eye is None or eye.status != EyeStatus.ACTIVE:  # paused by the clinician before the eye started
        raise LiveError(*phases.REFUSALS[(ev.PRESENT, None)])
    calibration = session.current_calibration
    assert calibration is not None  # the table allows `present` only with a calibration
    procedure = proc.rebuild(eye)
    try:
        presentation = procedure.next_presentation(requested_logmar=logmar)
    except ProcedureError as error:
        raise LiveError("procedure_error", str(error)) from None
    if presentation is None:
        raise LiveError("procedure_error", "This eye's test has finished; go to the next eye.")
    if not _drawable(calibration, presentation.logmar):
        raise LiveError(
            "procedure_error",
            f"logMAR {presentation.logmar:+.2f} cannot be drawn with the patient's current calibration; "
            f"choose from {calibration.min_logmar:+.2f} to {calibration.max_logmar:+.2f}",
        )
    proc.remember(eye, procedure)
    if session.paused_reason == PauseReason.SIZE_NOT_DRAWABLE:  # this size can be drawn: go on
        _set_pause(session, None)
        out.patients(ev.RESUMED, {})
        out.announce()
    _put_up(session, eye, presentation, out)
    _record_event(session, "present", "clinician", {"logmar": presentation.logmar})
    _send_current(session, out)
    return {"ok": True, "stimulus": stimulus_payload(session)}


def share_results(session: TestSession, show: bool, out: Outbox) -> dict:
    phases.check(session, ev.SHARE_RESULTS)
    session.show_results = show
    _record_event(session, "share_results", "clinician", {"show": show})
    if show and session.status in phases.CLOSED:
        out.patients(ev.TEST_DONE, {"show_results": True, "results": results(session)})
    out.state_to_patients = True
    return {"ok": True}


def move_closer(session: TestSession, distance_mm: float | None, decline: bool, by: str, out: Outbox) -> dict:
    """Low vision, the clinician's steering: move the patient to `distance_mm` (at any time during
    an eye, or instead of the distance the server proposed), or decline the server's proposal (the
    eye ends where it is, its result a bound: "or worse")."""
    phases.check(session, ev.MOVE_CLOSER)
    eye = session.current_eye_test
    if eye is None or eye.status != EyeStatus.ACTIVE or not eye.procedure_config:
        raise LiveError(*phases.REFUSALS[(ev.MOVE_CLOSER, None)])
    if eye.procedure_config.get("reach_max_logmar") is None:
        raise LiveError(
            "procedure_error",
            "This test does not move the patient closer: create the test with low vision "
            "(move closer) and the adaptive or manual procedure at a tape-measured distance.",
        )
    if decline:
        if eye.move_to_mm is None:
            raise LiveError("wrong_phase", "No move closer is asked now; there is nothing to decline.")
        eye.move_to_mm = None
        latest = max(session.calibrations, key=lambda c: c.id, default=None)
        if latest is not None and latest.invalidated_reason == "move_closer":
            latest.invalidated_at = None  # the patient stays where they measured: nothing to measure again
            latest.invalidated_reason = None
        _record_event(session, "move_declined", by, {"trial": proc.trial_count(eye)})
        _finish_eye(session, eye, proc.rebuild(eye), out)
        return {"ok": True}
    current_mm = eye_distance_mm(session, eye)
    if not NEAREST_DISTANCE_MM - 1e-6 <= distance_mm <= current_mm * (1 - DISTANCE_WARNING_FRACTION / 2):
        raise LiveError(
            "invalid_payload",
            f"Choose a distance closer than where the patient is ({format_distance_mm(current_mm)}) and no nearer "
            f"than {format_distance_mm(NEAREST_DISTANCE_MM)}, for example "
            f"{', '.join(format_distance_mm(d) for d in closer_distances_mm(current_mm)) or 'none: the patient is as close as the test goes'}.",
        )
    _ask_to_move(session, eye, float(distance_mm), by, out)
    return {"ok": True}


def record_category(session: TestSession, eye_name: str, code: str, distance_mm: float | None, out: Outbox) -> dict:
    """Low vision: the clinician records an eye below the chart (CF, HM, LP, NLP). An eye still
    being tested ends with it; an eye that read letters (a result that is not a bound "or worse")
    keeps its measured result and is refused."""
    phases.check(session, ev.CATEGORY)
    eye = next((e for e in session.eye_tests if e.eye == eye_name), None)
    if eye is None:
        raise LiveError("invalid_payload", f"This test has no {eye_name} eye; choose one of its eyes.")
    category = vision_category(code)
    if category.needs_distance and distance_mm is None:
        raise LiveError(
            "invalid_payload",
            f"Give distance_mm, the distance at which you tested {category.name} (for example 1000 for 1 m).",
        )
    open_test = session.status not in phases.CLOSED
    if open_test and eye.status == EyeStatus.PENDING and eye.order_index != session.current_eye_index:
        raise LiveError(
            "invalid_payload",
            f"The {eye.eye} eye is tested later: record its category when its turn comes, or after the test.",
        )
    result = eye.result
    if result and result.get("bound") != ">=":
        raise LiveError(
            "invalid_payload",
            f"This eye read letters (logMAR {result['logmar']:.2f}); a category is only for an eye that could "
            "not read the largest letter at the nearest distance.",
        )
    eye.category = {"code": category.code, "distance_mm": distance_mm if category.needs_distance else None}
    _record_event(session, "category", "clinician", {"eye": eye.eye, **eye.category})
    if open_test and eye.status in (EyeStatus.ACTIVE, EyeStatus.PENDING):  # the current eye ends with it
        _finish_eye(session, eye, proc.rebuild(eye) if eye.procedure_config else None, out)
    out.clinician(ev.CATEGORY, {"eye": eye.eye, "result": s.result_dict(eye)})
    out.announce()
    return {"ok": True, "result": s.result_dict(eye)}


def _reach_max_logmar(session: TestSession, calibration: Calibration) -> float | None:
    """Low vision: the largest size drawable at the nearest distance (acuity.low_vision), when the
    test moves the patient closer; None otherwise."""
    cfg = session.config
    if not cfg.get("move_closer") or cfg["procedure"] not in PROCEDURES:
        return None
    if calibration.distance_method != "tape" or calibration.viewing_distance_mm <= NEAREST_DISTANCE_MM + 1e-6:
        return None
    viewport = (calibration.viewport_width_css_px, calibration.viewport_height_css_px)
    nearest = _stored_range(session, calibration, viewport, NEAREST_DISTANCE_MM)
    if nearest is None:
        return None
    return nearest.max_logmar if nearest.max_logmar > calibration.max_logmar + 1e-9 else None


def _move_step(session: TestSession, eye: EyeTest, distance_mm: float, drawable) -> DistanceStep:
    """The move closer a calibration during a move records; refused unless the patient is closer."""
    here = eye_distance_mm(session, eye)
    asked = format_distance_mm(eye.move_to_mm)
    if distance_mm > here * (1 - DISTANCE_WARNING_FRACTION / 2):
        raise LiveError(
            "calibration_refused",
            N_(
                "Please come closer to the screen, to {distance}, measure that distance and enter it "
                "(you measured {measured})."
            ),
            distance=distance_text(eye.move_to_mm, session.language),
            measured=distance_text(distance_mm, session.language),
        )
    step = DistanceStep(proc.trial_count(eye), distance_mm, drawable.min_logmar, drawable.max_logmar)
    try:
        proc.rebuild(eye).move(step)
    except ProcedureError as error:
        raise LiveError("calibration_refused", f"{error}. Come closer to the screen, to {asked}.") from None
    return step


def _ask_to_move(session: TestSession, eye: EyeTest, to_mm: float, by: str, out: Outbox) -> None:
    """Ask the patient to move to `to_mm` and measure it: the calibration is void until they do."""
    eye.move_to_mm = to_mm
    eye.pending = None  # the trial not answered is put up again, at the new distance, after the move
    if session.paused_reason in (PauseReason.SIZE_NOT_DRAWABLE, PauseReason.PAGE_HIDDEN):
        _set_pause(session, None)
    _record_event(session, "move_closer", by, {"to_mm": to_mm, "trial": proc.trial_count(eye)})
    extra = {"distance_mm": to_mm, **move_closer_words(to_mm, session.language)}
    if session.current_calibration is not None:
        invalidate_calibration(session, "move_closer", by, out, extra)
    else:
        out.display(ev.RECALIBRATE, {"reason": "move_closer", **extra})
    out.clinician(ev.MOVE_CLOSER, move_payload(session, eye))
    out.announce()


# ---- what the commands share -------------------------------------------------------------------


def _start_eye(session: TestSession, eye: EyeTest) -> None:
    calibration = session.current_calibration
    assert calibration is not None
    cfg = session.config
    config = ProcedureConfig(
        procedure=cfg["procedure"],
        optotype_set=cfg["optotype_set"],
        min_logmar=calibration.min_logmar,
        max_logmar=calibration.max_logmar,
        chart_presentation=cfg.get("chart_presentation", "row"),
        # A text-like row is crowded by its own letters, a stroke apart: no bars around it.
        crowding=not (cfg["procedure"] == "chart" and cfg.get("chart_presentation") == "text"),
        reach_max_logmar=_reach_max_logmar(session, calibration),
    )
    eye.procedure_config = config.to_dict()
    eye.status = EyeStatus.ACTIVE
    eye.started_at = utcnow()


def _show(session: TestSession, eye: EyeTest, out: Outbox, procedure: Procedure | None = None) -> None:
    """Put the current trial on screen: the stored one (again), or the procedure's next (of
    `procedure` when the caller has it: an eye starting now)."""
    calibration = session.current_calibration
    if eye.pending:
        if eye.pending.get("calibration_id") != (calibration.id if calibration else None):
            # Calibrated again since it was put up: same trial, new size, new seq.
            presentation = proc.pending_presentation(eye)
            _put_up(session, eye, presentation, out)
        elif _hold_if_not_drawable(session, eye, out):
            return
    else:
        procedure = procedure or proc.rebuild(eye)
        _advance(session, eye, procedure, out)
        proc.remember(eye, procedure)
    _send_current(session, out)


def invalidate_calibration(
    session: TestSession, reason: str, device: str, out: Outbox, extra: dict | None = None
) -> None:
    calibration = session.current_calibration
    if calibration is None:
        return
    calibration.invalidated_at = utcnow()
    calibration.invalidated_reason = reason
    _record_event(session, "calibration_invalidated", device, {"reason": reason})
    out.display(ev.RECALIBRATE, {"reason": reason, **(extra or {})})
    out.pad(ev.PAUSED, {"reason": phases.PAD_PAUSED_FOR_RECALIBRATION})
    out.clinician(ev.CALIBRATION, {"calibration": None, "measurable_range": None, "reason": reason})
    out.announce()


def _put_up(session: TestSession, eye: EyeTest, presentation, out: Outbox) -> None:
    """Make `presentation` the trial on screen, with a new seq."""
    calibration = session.current_calibration
    assert calibration is not None
    session.seq += 1
    height = optotype_height_css_px(presentation.logmar, calibration.viewing_distance_mm, calibration.css_px_per_mm)
    eye.pending = {
        "trial_id": format_trial_id(eye.eye, presentation.index),
        "seq": session.seq,
        "index": presentation.index,
        "logmar": presentation.logmar,
        "optotypes": list(presentation.optotypes),
        "height_css_px": height,
        "calibration_id": calibration.id,
        "presented_at": s.iso(utcnow()),
    }
    _hold_if_not_drawable(session, eye, out)


def _drawable(calibration: Calibration, logmar: float) -> bool:
    return calibration.min_logmar - 1e-9 <= logmar <= calibration.max_logmar + 1e-9


def _hold_if_not_drawable(session: TestSession, eye: EyeTest, out: Outbox) -> bool:
    """A size the current calibration cannot draw is never shown (docs/measurement.md, "Optotype
    size"): hold the test and tell the clinician (who can present another size, or ask for a new
    calibration)."""
    calibration = session.current_calibration
    if not eye.pending or calibration is None or _drawable(calibration, eye.pending["logmar"]):
        return False
    if session.paused_reason != PauseReason.CLINICIAN:
        _set_pause(session, PauseReason.SIZE_NOT_DRAWABLE)
    _record_event(
        session,
        "warning",
        "server",
        {
            "code": "size_not_drawable",
            "logmar": eye.pending["logmar"],
            "min_logmar": calibration.min_logmar,
            "max_logmar": calibration.max_logmar,
        },
    )
    out.patients(ev.PAUSED, {"reason": PauseReason.SIZE_NOT_DRAWABLE})
    out.announce()
    return True


def _send_current(session: TestSession, out: Outbox) -> None:
    stimulus = stimulus_payload(session)
    if stimulus is None:
        return
    out.display(ev.STIMULUS, stimulus)
    out.pad(ev.ANSWER_REQUEST, answer_request_payload(session))
    out.clinician(ev.STIMULUS_SHOWN, stimulus_shown_payload(stimulus))


def _advance(session: TestSession, eye: EyeTest, procedure: Procedure, out: Outbox) -> None:
    """After an answer (or a start): the next trial, or the end of this eye."""
    if procedure.finished:
        _finish_eye(session, eye, procedure, out)
        return
    if procedure.config.procedure == "manual":
        eye.pending = None  # the clinician chooses the next size (`present`)
        return
    if procedure.wants_closer():
        _ask_to_move(session, eye, closer_distances_mm(eye_distance_mm(session, eye))[0], "server", out)
        return
    presentation = procedure.next_presentation()
    if presentation is None:
        _finish_eye(session, eye, procedure, out)
        return
    _put_up(session, eye, presentation, out)


def _result(session: TestSession, eye: EyeTest, procedure: Procedure) -> dict:
    """The stored result: the procedure's estimate and the distance it was measured at (low vision
    moves the patient; every surface says where)."""
    return {**procedure.estimate().to_dict(), "distance_mm": eye_distance_mm(session, eye)}


def _finish_eye(session: TestSession, eye: EyeTest, procedure: Procedure | None, out: Outbox) -> None:
    eye.pending = None
    eye.move_to_mm = None  # a move asked for this eye is void with it
    eye.finished_at = utcnow()
    if procedure is not None and procedure.history:
        eye.result = _result(session, eye, procedure)
        eye.status = EyeStatus.DONE
    else:
        eye.status = EyeStatus.SKIPPED
    next_eye = session.eye_tests[eye.order_index + 1] if eye.order_index + 1 < len(session.eye_tests) else None
    result = s.result_dict(eye)
    out.patients(ev.EYE_DONE, {"eye": eye.eye, "next_eye": next_eye.eye if next_eye else None})
    out.clinician(ev.EYE_DONE, {"eye": eye.eye, "next_eye": next_eye.eye if next_eye else None, "result": result})
    if session.current_eye_index == eye.order_index and next_eye is not None:
        session.current_eye_index = next_eye.order_index
        if session.paused_reason in (PauseReason.AWAITING_READY, PauseReason.SIZE_NOT_DRAWABLE):
            _set_pause(session, None)  # held for the finished eye's trial, which is gone
    elif next_eye is None:
        _finish_session(session, Status.DONE, out)
    out.announce()


def _finish_session(session: TestSession, status: Status, out: Outbox) -> None:
    _set_status(session, status)
    session.finished_at = utcnow()
    _set_pause(session, None)
    for eye in session.eye_tests:
        eye.pending = None
    all_results = results(session)
    out.patients(
        ev.TEST_DONE,
        {"show_results": session.show_results, **({"results": all_results} if session.show_results else {})},
    )
    out.clinician(ev.TEST_DONE, {"results": all_results, "status": status})
    out.announce()
