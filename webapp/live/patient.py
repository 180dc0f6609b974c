"""Namespace /patient: the patient's display (shows optotypes) and pad (answers).

A device authenticates with the credential cookie its browser got for opening the invite link (the
display) or the pad link (the pad), webapp/credentials.py; the connect `auth` names only which of
the two it is. The server remembers which socket is which device in the database (display_sid,
pad_sid), so every later event is tied to the session by the server, never by what the client names.
"""

from __future__ import annotations

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room
from sqlalchemy import or_, select, update

from webapp import events as ev
from webapp import pairing, security
from webapp.credentials import from_cookie, invite_problem, renew_pad_link
from webapp.extensions import db, socketio
from webapp.i18n import N_, browser_language, translate
from webapp.live import call, commands, distance_guard, payloads, phases, processes
from webapp.live.common import handler, state_for
from webapp.live.errors import LiveError
from webapp.live.procedures import LIVE_SESSION_LOAD, live_session_of_socket
from webapp.models import TestSession


def current_device() -> tuple[TestSession, str]:
    """The session and device of the socket sending this event, from the database."""
    sid = request.sid
    session = live_session_of_socket(sid)
    if session is None:
        raise LiveError(
            "not_connected", N_("This screen was replaced by another one or lost its link; reload the page.")
        )
    problem = invite_problem(session)
    if problem:
        raise LiveError("link_revoked", problem)
    return session, ("display" if session.display_sid == sid else "pad")


def _single_process() -> bool:
    """Without a Socket.IO message queue Visus runs as one process (docs/deploy.md), which then
    holds every live socket."""
    return not current_app.config.get("REDIS_URL")


def _may_be_connected(sid: str) -> bool:
    """Whether a stored device sid may still be a live socket (with several processes, not if its
    process is dead: webapp/live/processes.py)."""
    return processes.sid_alive(sid)


def forget_connections_of_earlier_runs() -> int:
    """At start-up of the one server process: a device sid stored by a run that ended (a crash
    skips the disconnect handler) is no connection, so the live view must not show it as one.
    Several processes (a message queue) cannot know which sids are dead; they leave them."""
    if not _single_process():
        return 0
    forgotten = db.session.execute(
        update(TestSession)
        .where(or_(TestSession.display_sid.is_not(None), TestSession.pad_sid.is_not(None)))
        .values(display_sid=None, pad_sid=None)
    ).rowcount
    db.session.commit()
    return forgotten


def _load(data: dict) -> tuple[TestSession, str]:
    return current_device()


def _display_only(device: str) -> None:
    if device != "display":
        raise LiveError("wrong_device", N_("Do this on the screen that shows the letters, not on the pad."))


# A connect without this browser's credential for the device (never opened here, or replaced by a
# newer pairing): the same words as the page that has none (webapp/patient/routes.py).
NO_CREDENTIAL = {
    "display": N_(
        "This browser has no eye test open. Open the link from your e-mail or message again, "
        "or ask your clinician for a new link."
    ),
    "pad": N_("This phone is no longer paired with the test. Scan the code on the test screen again."),
}
CANNOT_CONNECT = N_("This page cannot connect. Open the link from your e-mail or message again.")
REPLACED = N_("This test was opened on another screen.")


@socketio.on("connect", namespace=ev.PATIENT_NS)
def connect(auth=None):
    """Sent by a display or pad when it connects (`auth` {device}): authenticate from the device's
    credential cookie, join its room, send its state."""
    if not isinstance(auth, dict) or auth.get("device") not in ("display", "pad"):
        raise ConnectionRefusedError(security.connect_refused(CANNOT_CONNECT, browser_language()))
    device = auth["device"]
    session = from_cookie(device, *LIVE_SESSION_LOAD)
    if session is None:
        raise ConnectionRefusedError(security.connect_refused(NO_CREDENTIAL[device], browser_language()))
    problem = invite_problem(session)
    if problem:
        raise ConnectionRefusedError(security.connect_refused(problem, session.language))
    assert session is not None
    sid_field = "display_sid" if device == "display" else "pad_sid"
    room = ev.display_room(session.public_id) if device == "display" else ev.pad_room(session.public_id)
    previous = getattr(session, sid_field)
    setattr(session, sid_field, request.sid)
    replaced = previous and previous != request.sid and _may_be_connected(previous)
    notice = commands.device_replaced(session, device) if replaced else None
    if device == "display" and not session.pad_nonce:
        renew_pad_link(session)
    if device == "pad":
        pairing.clear(session)  # a code is live only while the test's phone is not connected
    db.session.commit()
    processes.record(request.sid)
    if replaced:  # the newer connection takes over; the older is told, then closed (no reconnect)
        leave_room(room, sid=previous, namespace=ev.PATIENT_NS)
        emit(
            ev.ERROR,
            {"error": "replaced", "message": translate(session.language, REPLACED)},
            to=previous,
            namespace=ev.PATIENT_NS,
        )
        socketio.server.disconnect(previous, namespace=ev.PATIENT_NS)
        socketio.emit(ev.PAGE_EVENT, notice, to=ev.watch_room(session.public_id), namespace=ev.CLINICIAN_NS)
    join_room(room)
    emit(ev.STATE, state_for(session, device))
    if device == "display":
        stimulus = payloads.stimulus_payload(session)
        if stimulus:
            emit(ev.STIMULUS, stimulus)
    else:
        request_payload = payloads.answer_request_payload(session)
        if request_payload:
            emit(ev.ANSWER_REQUEST, request_payload)
    call_state = call.state(session, device)
    if call_state["active"]:  # a reload or a reconnect during a call: join it again
        emit(ev.CALL_STATE, call_state)
    tell_device_status(session)


def tell_device_status(session: TestSession) -> None:
    status = payloads.device_status(session)
    # The clinician's copy also has the link's state: a display connecting is the link opened.
    link = {**status, "link": payloads.link_payload(session)}
    socketio.emit(ev.DEVICE_STATUS, link, to=ev.watch_room(session.public_id), namespace=ev.CLINICIAN_NS)
    for room in (ev.display_room(session.public_id), ev.pad_room(session.public_id)):
        socketio.emit(ev.DEVICE_STATUS, status, to=room, namespace=ev.PATIENT_NS)


@socketio.on("disconnect", namespace=ev.PATIENT_NS)
def disconnect(reason=None):
    """A display or pad went away: mark it disconnected and tell the others."""
    sid = request.sid
    processes.forget(sid)
    session = db.session.scalar(
        select(TestSession).where(or_(TestSession.display_sid == sid, TestSession.pad_sid == sid))
    )
    if session is None:
        return
    if session.display_sid == sid:
        session.display_sid = None
    if session.pad_sid == sid:
        session.pad_sid = None
    db.session.commit()
    tell_device_status(session)


@handler(ev.CONSENT, ev.PATIENT_NS, _load)
def on_consent(session, device, data, out):
    """Display: the patient agreed to take the test (welcome -> calibrate)."""
    _display_only(device)
    return commands.consent(session, out)


@handler(ev.LANGUAGE, ev.PATIENT_NS, _load)
def on_language(session, device, data, out):
    """Display, welcome step: the patient chose another language; both devices reload in it."""
    _display_only(device)
    return commands.set_language(session, data["language"], out)


@handler(ev.CALIBRATION, ev.PATIENT_NS, _load)
def on_calibration(session, device, data, out):
    """Display: screen scale and viewing distance measured; stored with what the screen can show."""
    _display_only(device)
    return commands.calibrate(session, data, out)


@handler(ev.READY, ev.PATIENT_NS, _load)
def on_ready(session, device, data, out):
    """Display or pad: patient in place, one eye covered; starts or continues the current eye
    (start, continue after switching eyes, go on after a pause of the page)."""
    return commands.ready(session, out)


@handler(ev.PRACTICE, ev.PATIENT_NS, _load)
def on_practice(session, device, data, out):
    """Pad or display: show a practice letter (before an eye starts; not a trial)."""
    return commands.practice(session, out)


@handler(ev.PRACTICE_ANSWER, ev.PATIENT_NS, _load)
def on_practice_answer(session, device, data, out):
    """Pad or display: the answer to the practice letter; both devices hear whether it was right."""
    return commands.practice_answer(session, data, out)


@handler(ev.STOP, ev.PATIENT_NS, _load)
def on_stop(session, device, data, out):
    """Pad or display: the patient stops the test (their page asked them to confirm); results so far are kept."""
    return commands.end(session, out, by="patient")


@handler(ev.PAD_CODE, ev.PATIENT_NS, _load)
def on_pad_code(session, device, data, out):
    """Display: a new short code for pairing a phone at /pad (the older one stops working)."""
    _display_only(device)
    if session.status in phases.CLOSED:
        raise LiveError("session_closed", N_("This test has finished. Ask your clinician if you need another."))
    code, ttl_s = pairing.issue(session)
    return {"ok": True, "code": code, "code_text": pairing.display_text(code), "expires_in_s": ttl_s}


@handler(ev.HELPER, ev.PATIENT_NS, _load)
def on_helper(session, device, data, out):
    """Pad: an adult helper taps the answers the child points to (or no longer); stored, the clinician is told."""
    if device != "pad":
        raise LiveError("wrong_device", N_("Turn the helper on or off on the phone with the answer buttons."))
    return commands.helper(session, data, out)


@handler(ev.DRAWN, ev.PATIENT_NS, _load)
def on_drawn(session, device, data, out):
    """Display: the size it actually drew; more than 5% off voids the calibration."""
    _display_only(device)
    return commands.drawn(session, data, out)


@handler(ev.ANSWER, ev.PATIENT_NS, _load)
def on_answer(session, device, data, out):
    """Pad or display: the patient's answer to the trial on screen; committed, then acknowledged."""
    return commands.answer(session, data, "patient", out)


@handler(ev.PAGE_EVENT, ev.PATIENT_NS, _load)
def on_page_event(session, device, data, out):
    """Display or pad: the page was hidden, left full screen, resized or zoomed; stored and relayed."""
    return commands.page_event(session, device, data, out)


@handler(ev.DISTANCE_GUARD, ev.PATIENT_NS, _load)
def on_distance_guard(session, device, data, out):
    """Display: the webcam distance guard's reference, a sample (numbers only), or that it is off."""
    _display_only(device)
    return distance_guard.report(session, data, out)


@handler(ev.CALL_JOIN, ev.PATIENT_NS, _load)
def on_call_join(session, device, data, out):
    """Display or pad: ready for the clinician's offer (again), with its camera allowed or not."""
    return call.join(session, device, data, out)


@handler(ev.CALL_REPLY, ev.PATIENT_NS, _load)
def on_call_reply(session, device, data, out):
    """Display or pad: its answer or an ICE candidate for the clinician (relayed, not stored)."""
    return call.reply(session, device, data, out)


@handler(ev.CALL_DEVICE_MEDIA, ev.PATIENT_NS, _load)
def on_call_device_media(session, device, data, out):
    """Display or pad: its microphone or camera was switched off or on; the clinician is told."""
    return call.device_media(session, device, data, out)
