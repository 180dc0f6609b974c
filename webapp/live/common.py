"""What every socket handler shares: validation, error acks, commit-then-send."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import current_app, request
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from webapp import audit, security, tokens
from webapp import events as ev
from webapp.extensions import db, socketio
from webapp.i18n import N_, browser_language
from webapp.links import external_url
from webapp.live.errors import LiveError, patient_text
from webapp.live.outbox import Outbox
from webapp.live.payloads import state, status_payload
from webapp.live.procedures import write_changed_rows
from webapp.models import TestSession, Trial
from webapp.validation import PayloadError, validate


def error_ack(code: str, message: str) -> dict:
    return {"ok": False, "error": code, "message": message}


NOT_STORED = N_(
    "This could not be stored: it conflicts with what is stored already. Nothing changed; reload the page and try again."
)
SERVER_ERROR = N_("Something went wrong on the server; try again.")


def words(namespace: str, language: str | None, error: str, message: str, **params) -> str:
    """An error's message for whoever sent the event: a patient's display or pad reads it in the
    test's language (the browser's before the test is known), the clinician in English."""
    if namespace != ev.PATIENT_NS:
        return message.format(**params) if params else message
    return patient_text(error, message, language or _socket_language() or browser_language(), **params)


def _socket_language() -> str | None:
    """The language of the test this patient socket belongs to, for a refusal before the session was
    loaded (a payload that does not validate); None for a socket of no test."""
    sid = request.sid
    return db.session.scalar(
        select(TestSession.language).where(or_(TestSession.display_sid == sid, TestSession.pad_sid == sid)).limit(1)
    )


def pad_link(session: TestSession) -> tuple[str | None, str | None]:
    """The pad URL of a session and its QR code as inline SVG (display only)."""
    if not session.pad_nonce:
        return None, None
    token = tokens.pad_token(current_app.config["SECRET_KEY"], session.public_id, session.pad_nonce)
    url = external_url("patient.pad", pad_token=token)
    # The display's `state` carries this on every change of phase: tokens.qr_svg keeps each link's.
    return url, tokens.qr_svg(url, "Link for the answer pad")


def pad_short_url() -> str:
    """The address to type on the phone, as the display shows it: host and path, no scheme ("visus.example.org/pad")."""
    url = external_url("patient.pad_page")
    return url.split("://", 1)[-1]


def state_for(session: TestSession, device: str) -> dict:
    if device == "display":
        url, svg = pad_link(session)
        return state(session, "display", url, svg, pad_short_url())
    return state(session, "pad")


def send(session: TestSession, out: Outbox) -> None:
    """After the commit: the clinician's `status` and each patient device's `state` if the phase
    changed, then the outbox.

    The phase goes first, so a page always knows the phase the messages that follow belong to (a
    `stimulus` arrives on a screen already in `testing`; `paused`, `recalibrate`, `test_done` on one
    already in that phase) and never has to guess it from an event.
    """
    if out.status_to_clinician:
        socketio.emit(
            ev.STATUS, status_payload(session), to=ev.watch_room(session.public_id), namespace=ev.CLINICIAN_NS
        )
    if out.state_to_patients:
        # Only to a device that is connected (its socket id is stored, on whichever process holds it:
        # webapp/live/patient.py); one that connects later gets its state on connecting. A `state` is
        # the largest message (about 1 ms of CPU to build), and most tests never pair a pad.
        if session.display_sid is not None:
            socketio.emit(
                ev.STATE, state_for(session, "display"), to=ev.display_room(session.public_id), namespace=ev.PATIENT_NS
            )
        if session.pad_sid is not None:
            socketio.emit(
                ev.STATE, state_for(session, "pad"), to=ev.pad_room(session.public_id), namespace=ev.PATIENT_NS
            )
    out.flush()


# The one unique constraint an answer can break: (eye_test_id, index) of a stored trial, i.e. the
# same trial answered twice at once (webapp/models.py, Trial).
ANSWER_UNIQUE = next(c for c in Trial.__table__.constraints if c.name == "uq_trial_eye_test_index")
ANSWER_EVENTS = (ev.ANSWER, ev.SCORE)
CALL_EVENTS = (ev.CALL_START, ev.CALL_END) + ev.CALL_RELAYED


def breaks_answer_uniqueness(error: IntegrityError) -> bool:
    """Whether an IntegrityError is the answer's own unique constraint, and no other.

    PostgreSQL names the constraint (psycopg2's `diag.constraint_name`); SQLite names the columns
    ("UNIQUE constraint failed: trial.eye_test_id, trial.index").
    """
    name = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if name is not None:
        return name == ANSWER_UNIQUE.name
    columns = ", ".join(f"{ANSWER_UNIQUE.table.name}.{column.name}" for column in ANSWER_UNIQUE.columns)
    return f"UNIQUE constraint failed: {columns}" == str(error.orig)


def audit_detail(event: str, data: dict) -> dict:
    """What the audit log keeps of a steering event: sizes and switches, never a note's text."""
    return {
        key: data[key] for key in ("logmar", "show", "trial_id", "distance_mm", "decline", "eye", "code") if key in data
    }


def lock_for_event(session: TestSession) -> None:
    """Serialise the events of one test across processes: hold its row until the commit.

    PostgreSQL: SELECT ... FOR UPDATE, then what was loaded before the lock is read again, so two
    different events (say the clinician's `present` and the patient's `answer`) on two processes
    cannot overwrite each other's fields. SQLite has one writer at a time and drops FOR UPDATE, so
    there the re-read (about 2 ms an answer) buys nothing and is skipped.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        return
    db.session.execute(select(TestSession.id).where(TestSession.id == session.id).with_for_update())
    db.session.expire_all()


def handler(event: str, namespace: str, load: Callable[[dict], tuple[TestSession, object]]):
    """Register `fn(session, who, data, out) -> ack` for `event`.

    `load(data)` finds the session the sender may act on (raising LiveError otherwise). The
    payload is validated first; a refusal returns an error ack and rolls back; a success commits,
    then sends what the outbox holds, then acknowledges.
    """

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args):
            language = None  # the test's, once known: a patient's refusal is in it (`words`)
            try:
                security.socket_hit(event)
                if len(args) > 1:  # emit(event, a, b): else a TypeError, and no ack at all
                    raise PayloadError(f"send one object as the payload of {event}, not {len(args)} values")
                data = validate(event, args[0] if args else None)
                session, who = load(data)
                language = session.language
                security.session_hit(event, session.public_id)
                if event not in ev.CALL_RELAYED:  # a relayed call message changes no row
                    lock_for_event(session)
                out = Outbox(session.public_id)
                ack = fn(session, who, data, out)
                if namespace == ev.CLINICIAN_NS and event not in CALL_EVENTS:
                    # who watched and steered, committed with the change (the call audits itself:
                    # started, joined, ended; webapp/live/call.py)
                    audit.record(session, event, who, **audit_detail(event, data))
                write_changed_rows()
                db.session.commit()
            except security.RateLimited as error:
                db.session.rollback()
                message = words(
                    namespace, language, "rate_limited", security.RateLimited.MESSAGE, seconds=error.seconds
                )
                return {**error_ack("rate_limited", message), "retry_after_s": round(error.retry_after_s, 1)}
            except PayloadError as error:
                db.session.rollback()
                return error_ack(error.code, words(namespace, language, error.code, str(error)))
            except LiveError as error:
                db.session.rollback()
                return error_ack(error.code, words(namespace, language, error.code, error.template, **error.params))
            except IntegrityError as error:
                db.session.rollback()
                if event in ANSWER_EVENTS and breaks_answer_uniqueness(error):
                    # Two copies of one answer raced: the other one was stored; this one is the duplicate.
                    return {"ok": True, "accepted": True, "duplicate": True}
                current_app.logger.exception("socket event %s broke a database constraint", event)
                return error_ack("not_stored", words(namespace, language, "not_stored", NOT_STORED))
            except Exception:  # never crash the connection; the log has the traceback
                db.session.rollback()
                current_app.logger.exception("socket event %s failed", event)
                return error_ack("server_error", words(namespace, language, "server_error", SERVER_ERROR))
            send(session, out)
            return ack

        socketio.on(event, namespace=namespace)(wrapper)
        return wrapper

    return decorate
