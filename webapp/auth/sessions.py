"""Server-side sign-in sessions: a signed cookie alone no longer proves a clinician is signed in.

Each sign-in makes a `clinician_session` row; the Flask session cookie carries its random id (only
the SHA-256 of it is stored). Every request and every clinician socket event loads the clinician
through `load_clinician`, which accepts the cookie only while its row exists, is not revoked, has
been used within the idle lifetime and is younger than the absolute lifetime (NIST SP 800-63B
4.2.3, AAL2: re-authentication after 30 minutes of inactivity and at least every 12 hours).
Sign-out revokes the row and disconnects the clinician sockets it opened; a password change revokes
every row of that clinician; a removed clinician's rows go with the account.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask import session as cookie
from sqlalchemy import DateTime, ForeignKey, String, delete, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from webapp import events as ev
from webapp.extensions import db, socketio
from webapp.models import Clinician, utcnow

COOKIE_KEY = "visus_session"
DEFAULT_IDLE_MINUTES = 30.0
DEFAULT_MAX_HOURS = 12.0


class ClinicianSession(db.Model):
    __tablename__ = "clinician_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("clinician.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def idle_lifetime() -> timedelta:
    return timedelta(minutes=float(current_app.config.get("SESSION_IDLE_MINUTES", DEFAULT_IDLE_MINUTES)))


def absolute_lifetime() -> timedelta:
    return timedelta(hours=float(current_app.config.get("SESSION_MAX_HOURS", DEFAULT_MAX_HOURS)))


def socket_room(session_id: int) -> str:
    """The room of the clinician sockets opened under one sign-in (joined at connect)."""
    return f"signin:{session_id}"


def signed_in_room() -> str:
    """The room of this request's sign-in (a valid one: the caller checked current_user)."""
    row = current()
    return socket_room(row.id if row else 0)


def start(clinician: Clinician) -> ClinicianSession:
    """After the password was checked: a new server-side session, its id in the cookie (commits).
    Expired and revoked rows of this clinician are removed on the way."""
    now = utcnow()
    db.session.execute(
        delete(ClinicianSession).where(
            ClinicianSession.clinician_id == clinician.id,
            or_(
                ClinicianSession.revoked_at.is_not(None),
                ClinicianSession.created_at < now - absolute_lifetime(),
                ClinicianSession.last_seen_at < now - idle_lifetime(),
            ),
        )
    )
    token = secrets.token_urlsafe(32)
    row = ClinicianSession(token_hash=_hash(token), clinician_id=clinician.id, created_at=now, last_seen_at=now)
    db.session.add(row)
    db.session.commit()
    cookie.clear()  # nothing from before the sign-in carries over (session fixation)
    cookie[COOKIE_KEY] = token
    return row


def current() -> ClinicianSession | None:
    """The valid server-side session of this request's cookie, or None."""
    token = cookie.get(COOKIE_KEY)
    if not isinstance(token, str) or not token:
        return None
    row = db.session.scalar(select(ClinicianSession).where(ClinicianSession.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    now = utcnow()
    if now - row.created_at > absolute_lifetime() or now - row.last_seen_at > idle_lifetime():
        return None
    # Seen again: written at most once a minute, on a connection of its own, so a request's or a
    # socket event's own transaction is not committed early.
    if now - row.last_seen_at > min(timedelta(minutes=1), idle_lifetime() / 10):
        with db.engine.begin() as connection:
            connection.execute(update(ClinicianSession).where(ClinicianSession.id == row.id).values(last_seen_at=now))
    return row


def load_clinician(user_id: str) -> Clinician | None:
    """Flask-Login's user loader: the clinician of a valid server-side session only."""
    row = current()
    try:
        if row is None or row.clinician_id != int(user_id):
            return None
    except (TypeError, ValueError):
        return None
    return db.session.get(Clinician, row.clinician_id)


def _disconnect_sockets(session_ids: list[int]) -> None:
    """Disconnect the clinician sockets of these sign-ins held by this process (a socket held by
    another process is refused at its next event: every event loads the clinician again)."""
    manager = socketio.server.manager
    for session_id in session_ids:
        try:
            sids = [sid for sid, _ in manager.get_participants(ev.CLINICIAN_NS, socket_room(session_id))]
        except KeyError:  # no such room
            continue
        for sid in sids:
            socketio.server.disconnect(sid, namespace=ev.CLINICIAN_NS)


def end() -> None:
    """Sign-out: revoke this request's session (commits) and disconnect its sockets."""
    row = current()
    cookie.pop(COOKIE_KEY, None)
    if row is None:
        return
    row.revoked_at = utcnow()
    db.session.commit()
    _disconnect_sockets([row.id])


def revoke_all(clinician_id: int) -> int:
    """Every session of a clinician (password changed, account removed); commits. How many."""
    ids = list(
        db.session.scalars(
            select(ClinicianSession.id).where(
                ClinicianSession.clinician_id == clinician_id, ClinicianSession.revoked_at.is_(None)
            )
        )
    )
    if ids:
        db.session.execute(update(ClinicianSession).where(ClinicianSession.id.in_(ids)).values(revoked_at=utcnow()))
    db.session.commit()
    _disconnect_sockets(ids)
    return len(ids)
