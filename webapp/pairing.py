"""Pairing the phone by a short code (docs/security.md, "Pairing code").

The display asks for a code (`pad_code`); the patient types it at `/pad` on the phone, which
exchanges it for the pad credential cookie exactly as opening the pad link does. A code is
CODE_DIGITS random digits, lives CODE_TTL_MINUTES, works once, and only while that test's phone is
not connected (the pad's connect clears it). Only an HMAC of it (keyed by the app's secret key) is
stored: a copy of the database does not give the codes, and 10^8 candidates are too few to hide a
plain hash. Failed attempts are limited per client address, per code typed and in all
(webapp/security.py, PAD_CODE_LIMITS); the arithmetic of what a guesser can reach is in docs/security.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from webapp.extensions import db
from webapp.models import TestSession, utcnow

CODE_DIGITS = 8
CODE_TTL_MINUTES = 10
# How the display groups the digits so they are read and typed in two halves ("4821 0937").
GROUP = 4


def code_hash(code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(key, f"pad-code:{code}".encode(), hashlib.sha256).hexdigest()


def normalise(typed: object) -> str | None:
    """The digits of what the patient typed (spaces and dashes allowed), or None if it cannot be a code."""
    if not isinstance(typed, str) or len(typed) > 40:
        return None
    digits = "".join(ch for ch in typed if ch not in " -\u00a0\t")
    if len(digits) != CODE_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return digits


def display_text(code: str) -> str:
    return " ".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def _live(hashed: str):
    return (TestSession.pad_code_hash == hashed) & (TestSession.pad_code_expires_at > utcnow())


def issue(session: TestSession) -> tuple[str, int]:
    """A new code for the session (not committed), replacing its older one; returns the code and
    its lifetime in seconds. Never the code of another live test (drawn again on a clash)."""
    for _ in range(20):
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        hashed = code_hash(code)
        clash = db.session.scalar(select(TestSession.id).where(_live(hashed), TestSession.id != session.id))
        if clash is None:
            break
    else:  # 20 clashes in a row: 10^8 codes cannot be that full; refuse rather than share one
        raise RuntimeError("no free pairing code")
    session.pad_code_hash = hashed
    session.pad_code_expires_at = utcnow() + timedelta(minutes=CODE_TTL_MINUTES)
    return code, CODE_TTL_MINUTES * 60


def clear(session: TestSession) -> None:
    session.pad_code_hash = None
    session.pad_code_expires_at = None


def session_for_code(code: str) -> TestSession | None:
    """The test whose live code this is, or None."""
    return db.session.scalar(select(TestSession).where(_live(code_hash(code))))


def claim(session: TestSession) -> bool:
    """Use the session's code up, in one statement (two phones typing it at once: one wins)."""
    return bool(
        db.session.execute(
            update(TestSession)
            .where(TestSession.id == session.id, TestSession.pad_code_hash == session.pad_code_hash)
            .values(pad_code_hash=None, pad_code_expires_at=None)
        ).rowcount
    )
