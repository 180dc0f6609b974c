"""Patient links exchanged once for a browser's device credential (docs/security.md, "Patient links").

Opening the invite link (`/t/<token>`) or the pad link (`/pad/<pad token>`) the first time gives the
browser a random secret in a first-party cookie (HttpOnly, SameSite=Strict, Secure under HTTPS) and
sends it on with a 303 to a token-free page (`/test`, `/pad`) that reloads fine. Only the secret's
SHA-256 hash is stored (DeviceCredential). The Socket.IO connect authenticates from that cookie
alone; the link itself, opened again by a browser without the credential, opens nothing.

The cookies have path=/ because the Socket.IO handshake (`/socket.io/`) must carry them as well as
the page; they are told apart by name, one per device, so one browser may hold a display and a pad.

A link and its credentials stop working LINK_AFTER_END_HOURS after the test is done or ended, and
LINK_MAX_DAYS after the test was created (webapp/config.py).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import Response, current_app, g, request
from sqlalchemy import select

from webapp import events as ev
from webapp import tokens
from webapp.extensions import db, socketio
from webapp.i18n import N_, translate
from webapp.models import DeviceCredential, TestSession, utcnow

DEVICES = ("display", "pad")
COOKIE_NAMES = {"display": "visus_display", "pad": "visus_pad"}
# What the token-free pages are (the 303 after an exchange goes there).
PAGES = {"display": "patient.test", "pad": "patient.pad_page"}


def expires_at(session: TestSession) -> datetime:
    """When the session's links and credentials stop working, whatever the invite's own expiry."""
    limit = session.created_at + timedelta(days=current_app.config["LINK_MAX_DAYS"])
    if session.finished_at is not None:
        limit = min(limit, session.finished_at + timedelta(hours=current_app.config["LINK_AFTER_END_HOURS"]))
    return limit


def session_for_link(token: str, device: str) -> TestSession | None:
    """The test an invite link (`display`) or pad link (`pad`) names, or None.

    Looked up once per request: the rate limit's exemption for a working link (webapp/security.py,
    asked once per limit) and the view ask the same question, and each lookup was a statement."""
    found = g.setdefault("visus_links", {})
    if (device, token) not in found:
        column = TestSession.invite_token_hash if device == "display" else TestSession.pad_token_hash
        found[device, token] = db.session.scalar(select(TestSession).where(column == tokens.token_hash(token)))
    return found[device, token]


# Why a link (and the credentials it was exchanged for) no longer works, as the patient is told.
# The patient reads these in the test's language: marked here, translated on the page (webapp/i18n.py).
PROBLEMS = {
    "unknown": N_("This link is not valid. Ask your clinician for a new link."),
    "withdrawn": N_("This link was withdrawn. Ask your clinician for a new link."),
    "ended": N_("This test has ended and its link has expired. Ask your clinician if you need a new link."),
    "expired": N_("This link has expired. Ask your clinician for a new link."),
}


def link_problem(session: TestSession | None) -> str | None:
    """Which of PROBLEMS stops a session's links and credentials, or None: the one rule of expiry,
    used by the patient's pages and sockets and by the clinician's dashboard."""
    if session is None:
        return "unknown"
    if session.invite_revoked_at is not None:
        return "withdrawn"
    now = utcnow()
    if expires_at(session) < now:
        return "ended"
    # A test under way may run past the invite's expiry; an unused link may not (nor a re-issued one
    # not opened yet).
    if (session.consent_at is None or session.invite_used_at is None) and session.invite_expires_at < now:
        return "expired"
    return None


def invite_problem(session: TestSession | None) -> str | None:
    """Why a session's links (invite, pad) and credentials can no longer be used, or None."""
    problem = link_problem(session)
    return PROBLEMS[problem] if problem else None


def new_invite(session: TestSession, now: datetime | None = None) -> str:
    """A new invite link for the session (not committed): a new nonce, so the token shown before stops
    working; valid for INVITE_TTL_HOURS and openable once. Returns the token."""
    session.invite_nonce = secrets.token_hex(16)
    token = tokens.invite_token(current_app.config["SECRET_KEY"], session.public_id, session.invite_nonce)
    session.invite_token_hash = tokens.token_hash(token)
    session.invite_expires_at = (now or utcnow()) + timedelta(hours=current_app.config["INVITE_TTL_HOURS"])
    session.invite_used_at = None
    return token


def invite_token(session: TestSession) -> str | None:
    """The session's current invite token, made again from the secret key and the stored nonce; None
    for a link made before links could be shown again, or when the secret key has changed since
    (the token would not match the stored hash): such a link can only be re-issued."""
    if not session.invite_nonce:
        return None
    token = tokens.invite_token(current_app.config["SECRET_KEY"], session.public_id, session.invite_nonce)
    return token if tokens.token_hash(token) == session.invite_token_hash else None


def revoke_devices(session: TestSession) -> list[str]:
    """Every browser credential of the session and its pad link stop working (not committed); returns
    the sockets to disconnect after the commit (disconnect_patients)."""
    now = utcnow()
    for credential in session.credentials:
        if credential.revoked_at is None:
            credential.revoked_at = now
    session.pad_nonce = None
    session.pad_token_hash = None
    sids = [sid for sid in (session.display_sid, session.pad_sid) if sid]
    session.display_sid = session.pad_sid = None
    return sids


# Why the patient's open pages were closed (disconnect_patients).
DELETED = N_("This test was deleted. Ask your clinician for a new link.")
REPLACED_LINK = N_("This link was replaced by a new one. Open the newest link you were sent.")


def disconnect_patients(sids, message: str, language: str | None) -> None:
    """After the commit: tell the patient's sockets why (`error` `link_revoked`, `message` in the
    test's `language`) and close them."""
    message = translate(language, message)
    for sid in sids:
        if not sid:
            continue
        socketio.emit(ev.ERROR, {"error": "link_revoked", "message": message}, to=sid, namespace=ev.PATIENT_NS)
        try:
            socketio.server.disconnect(sid, namespace=ev.PATIENT_NS)
        except Exception:  # a socket of another process (message queue) or already gone
            current_app.logger.info("a patient socket was already gone")


def issue(session: TestSession, device: str) -> str:
    """A new credential of this device for the session (not committed); returns its secret.

    Earlier credentials of the same device stop working: one browser holds the display, one the pad
    (a phone paired again replaces the old phone).
    """
    now = utcnow()
    for credential in session.credentials:
        if credential.device == device and credential.revoked_at is None:
            credential.revoked_at = now
    secret = secrets.token_urlsafe(32)
    session.credentials.append(DeviceCredential(device=device, secret_hash=tokens.token_hash(secret), created_at=now))
    return secret


def renew_pad_link(session: TestSession) -> None:
    """A new pad link (not committed): the pad token is derived from the secret key and a new nonce
    (webapp/tokens.py, pad_token), so the link shown before stops working."""
    session.pad_nonce = secrets.token_hex(16)
    session.pad_token_hash = tokens.token_hash(
        tokens.pad_token(current_app.config["SECRET_KEY"], session.public_id, session.pad_nonce)
    )


def set_cookie(response: Response, session: TestSession, device: str, secret: str) -> Response:
    max_age = max(0, int((expires_at(session) - utcnow()).total_seconds()))
    response.set_cookie(
        COOKIE_NAMES[device],
        secret,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


def from_cookie(device: str, *options) -> TestSession | None:
    """The session whose live credential of this device the request's cookie holds, or None."""
    secret = request.cookies.get(COOKIE_NAMES[device], "")
    if not 20 <= len(secret) <= 100:
        return None
    found = db.session.execute(
        select(TestSession)
        .join(DeviceCredential)
        .where(
            DeviceCredential.secret_hash == tokens.token_hash(secret),
            DeviceCredential.device == device,
            DeviceCredential.revoked_at.is_(None),
        )
        .options(*options)
    )
    return found.unique().scalar()  # unique(): `options` may join-load collections


def cross_site_navigation() -> bool:
    """A navigation that came from another site (a link clicked in a webmail): the browser withholds
    SameSite=Strict cookies from it and from the redirects it follows, so the exchange answers with a
    page that navigates again from this site (webapp/templates/patient/continue.html)."""
    return request.headers.get("Sec-Fetch-Site") == "cross-site"
