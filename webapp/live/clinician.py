"""Namespace /clinician: the clinician's live view watches and steers a test.

The socket is authenticated by the Flask-Login session cookie at connect. Every event names a
session by its public id; the server checks on every event that the test is one of the signed-in
clinician's practice (webapp/practice.py).
"""

from __future__ import annotations

from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from webapp import events as ev
from webapp.auth.sessions import signed_in_room
from webapp.extensions import socketio
from webapp.live import call, commands, payloads
from webapp.live.common import handler
from webapp.live.errors import LiveError
from webapp.live.procedures import load_live_session
from webapp.models import TestSession
from webapp.practice import in_practice


@socketio.on("connect", namespace=ev.CLINICIAN_NS)
def connect(auth=None):
    """Sent by the live view when it connects: refused unless a clinician is signed in."""
    if not current_user.is_authenticated:
        raise ConnectionRefusedError("Sign in again to watch this test.")
    join_room(signed_in_room())  # sign-out disconnects this socket (webapp/auth/sessions.py)


def owned_session(data: dict) -> tuple[TestSession, int]:
    if not current_user.is_authenticated:
        raise LiveError("forbidden", "Sign in again to watch this test.")
    session = load_live_session(TestSession.public_id == data["session_id"])
    if session is None:
        raise LiveError("not_found", "There is no such test; go back to the dashboard.")
    if not in_practice(session):
        raise LiveError("forbidden", "This test belongs to another practice.")
    return session, current_user.id


@handler(ev.WATCH, ev.CLINICIAN_NS, owned_session)
def on_watch(session, clinician_id, data, out):
    """Clinician: start watching one of their sessions; joins its room, gets the full snapshot."""
    join_room(ev.watch_room(session.public_id))
    return {"ok": True, "snapshot": payloads.snapshot(session), "call": call.state_as_loaded(session, "clinician")}


@handler(ev.PAUSE, ev.CLINICIAN_NS, owned_session)
def on_pause(session, clinician_id, data, out):
    """Clinician: hold the test; the patient's screen shows that it is paused."""
    return commands.pause(session, out)


@handler(ev.RESUME, ev.CLINICIAN_NS, owned_session)
def on_resume(session, clinician_id, data, out):
    """Clinician: continue a paused test; the current trial is shown again."""
    return commands.resume(session, out)


@handler(ev.REQUEST_RECALIBRATION, ev.CLINICIAN_NS, owned_session)
def on_request_recalibration(session, clinician_id, data, out):
    """Clinician: void the calibration; the patient calibrates again before the test goes on (`part`
    "distance": they measure only the distance again, e.g. the blind-spot sweep of a near test)."""
    return commands.request_recalibration(session, out, data.get("part", "all"))


@handler(ev.NEXT_EYE, ev.CLINICIAN_NS, owned_session)
def on_next_eye(session, clinician_id, data, out):
    """Clinician: finish the current eye with its estimate so far and move to the next."""
    return commands.next_eye(session, out)


@handler(ev.END, ev.CLINICIAN_NS, owned_session)
def on_end(session, clinician_id, data, out):
    """Clinician: end the test now; results so far are kept."""
    return commands.end(session, out)


@handler(ev.NOTE, ev.CLINICIAN_NS, owned_session)
def on_note(session, clinician_id, data, out):
    """Clinician: a free-text note stored with the session."""
    return commands.note(session, data["text"], out)


@handler(ev.PRESENT, ev.CLINICIAN_NS, owned_session)
def on_present(session, clinician_id, data, out):
    """Clinician: show this size next (manual procedure, or an override)."""
    return commands.present(session, data["logmar"], out)


@handler(ev.SCORE, ev.CLINICIAN_NS, owned_session)
def on_score(session, clinician_id, data, out):
    """Clinician (clinician-scored mode): record what the patient read for the current trial."""
    return commands.answer(session, data, "clinician", out)


@handler(ev.MOVE_CLOSER, ev.CLINICIAN_NS, owned_session)
def on_move_closer(session, clinician_id, data, out):
    """Clinician (low vision): move the patient to distance_mm, or decline the server's proposal."""
    return commands.move_closer(session, data.get("distance_mm"), bool(data.get("decline")), "clinician", out)


@handler(ev.CATEGORY, ev.CLINICIAN_NS, owned_session)
def on_category(session, clinician_id, data, out):
    """Clinician (low vision): record an eye below the chart as CF, HM, LP or NLP."""
    return commands.record_category(session, data["eye"], data["code"], data.get("distance_mm"), out)


@handler(ev.SHARE_RESULTS, ev.CLINICIAN_NS, owned_session)
def on_share_results(session, clinician_id, data, out):
    """Clinician: allow (or stop) showing the results on the patient's screen."""
    return commands.share_results(session, data["show"], out)


@handler(ev.CALL_START, ev.CLINICIAN_NS, owned_session)
def on_call_start(session, clinician_id, data, out):
    """Clinician: start the video call; the patient's devices are asked to join."""
    return call.start(session, clinician_id, data["video"], out)


@handler(ev.CALL_END, ev.CLINICIAN_NS, owned_session)
def on_call_end(session, clinician_id, data, out):
    """Clinician: end the video call for everyone."""
    return call.end(session, clinician_id, out)


@handler(ev.CALL_SIGNAL, ev.CLINICIAN_NS, owned_session)
def on_call_signal(session, clinician_id, data, out):
    """Clinician: an offer or ICE candidate for the display or the pad (relayed, not stored)."""
    return call.signal(session, data, out)


@handler(ev.CALL_MEDIA, ev.CLINICIAN_NS, owned_session)
def on_call_media(session, clinician_id, data, out):
    """Clinician: their microphone, camera or "hide my video" changed; the patient's devices are told."""
    return call.clinician_media(session, data, out)
