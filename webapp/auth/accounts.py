"""Creating and checking clinician accounts (passwords hashed with werkzeug.security, by the method
of PASSWORD_HASH_METHOD: scrypt, webapp/config.py; tests set a cheap one)."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.extensions import db, login_manager
from webapp.models import Clinician


class AccountError(ValueError):
    """An account that cannot be created; the message says why."""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def clinician_count() -> int:
    return db.session.scalar(select(func.count(Clinician.id))) or 0


def create_clinician(email: str, password: str) -> Clinician:
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("Give a valid email address.")
    if len(password) < 10:
        raise AccountError("Use a password of at least 10 characters.")
    if db.session.scalar(select(Clinician).where(Clinician.email == email)):
        raise AccountError(f"A clinician with the email {email} already exists.")
    clinician = Clinician(email=email, password_hash=generate_password_hash(
        password, method=current_app.config["PASSWORD_HASH_METHOD"]))
    db.session.add(clinician)
    db.session.commit()
    return clinician


def authenticate(email: str, password: str) -> Clinician | None:
    clinician = db.session.scalar(select(Clinician).where(Clinician.email == normalise_email(email)))
    if clinician and check_password_hash(clinician.password_hash, password):
        return clinician
    return None


@login_manager.user_loader
def load_clinician(user_id: str) -> Clinician | None:
    try:
        return db.session.get(Clinician, int(user_id))
    except ValueError:
        return None
