"""Creating and checking clinician accounts (passwords hashed with werkzeug.security, by the method
of PASSWORD_HASH_METHOD: scrypt, webapp/config.py; tests set a cheap one)."""

from __future__ import annotations

import functools
import gzip
import re
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db, login_manager
from webapp.models import Clinician, Practice

MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS_PATH = Path(__file__).with_name("data") / "common-passwords.txt.gz"  # source: data/README.md
# local@domain.tld: no spaces, one "@", a dot in the domain, a top-level label of 2+ letters or
# an IDN's xn-- form (RFC 5321 allows more, but no clinician's mail address needs it).
EMAIL_FORM = re.compile(r"[^@\s]{1,64}@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})")


class AccountError(ValueError):
    """An account that cannot be created; the message says why, `field` which form field it is about."""

    def __init__(self, message: str, field: str = "email"):
        super().__init__(message)
        self.field = field


def normalise_email(email: str) -> str:
    return email.strip().lower()


@functools.lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_PATH, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def is_common_password(password: str) -> bool:
    """On the list of the 20,000 most common passwords, in any letter case (NIST SP 800-63B 5.1.1.2)."""
    return password.strip().lower() in _common_passwords()


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use a password of at least {MIN_PASSWORD_LENGTH} characters."
    if is_common_password(password):
        return (
            "This password is on a list of the most common passwords, which attackers try first; "
            "choose another (a few unrelated words make a good one)."
        )
    return None


def email_problem(email: str) -> str | None:
    """Why an e-mail address is refused (after normalise_email), or None."""
    if len(email) > 254 or not EMAIL_FORM.fullmatch(email):
        return "Give a valid email address, like name@clinic.example."
    return None


def clinician_count() -> int:
    return db.session.scalar(select(func.count(Clinician.id))) or 0


def account_problem(email: str, password: str) -> AccountError | None:
    """Why an account with this (normalised) e-mail and password cannot be created, or None."""
    if problem := email_problem(email):
        return AccountError(problem, "email")
    if problem := password_problem(password):
        return AccountError(problem, "password")
    if db.session.scalar(select(Clinician).where(Clinician.email == email)):
        return AccountError(f"A clinician with the email {email} already exists.")
    return None


def create_clinician(email: str, password: str, practice: Practice | None = None, commit: bool = True) -> Clinician:
    """A clinician of `practice`; without one, a new practice they own (its admin), named after them
    until they rename it."""
    email = normalise_email(email)
    if error := account_problem(email, password):
        raise error
    if practice is None:
        practice = Practice(name=f"Practice of {email}"[:120])
    clinician = Clinician(
        email=email,
        password_hash=generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"]),
        practice=practice,
        is_practice_admin=not practice.clinicians,
    )
    db.session.add(clinician)
    if commit:
        db.session.commit()
    return clinician


@functools.lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    """A hash made the way real ones are (same method and cost), of a password nobody knows."""
    import secrets

    return generate_password_hash(secrets.token_hex(16), method=method)


def authenticate(email: str, password: str) -> Clinician | None:
    clinician = db.session.scalar(select(Clinician).where(Clinician.email == normalise_email(email)))
    if clinician is None:
        # Same work as for a wrong password, so the answer's time does not tell whether the e-mail
        # has an account (OWASP ASVS 2.2 / authentication cheat sheet).
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return None
    if check_password_hash(clinician.password_hash, password):
        return clinician
    return None


def set_password(clinician: Clinician, password: str) -> int:
    """A new password (checked as at sign-up); every sign-in of the clinician ends. How many ended."""
    from webapp.auth import sessions

    if problem := password_problem(password):
        raise AccountError(problem, "password")
    clinician.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])
    db.session.commit()
    return sessions.revoke_all(clinician.id)


def _load_clinician(user_id: str) -> Clinician | None:
    from webapp.auth.sessions import load_clinician

    return load_clinician(user_id)


login_manager.user_loader(_load_clinician)
