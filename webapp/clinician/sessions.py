"""Creating a test session with its invite (used by the new-test page and by the benchmark)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app

from webapp import patients, tokens
from webapp.extensions import db
from webapp.models import Clinician, EyeTest, Patient, TestSession, utcnow


def create_session(
    clinician_id: int,
    patient_reference: str | None,
    config: dict,
    show_results: bool = False,
    patient: Patient | None = None,
) -> tuple[TestSession, str]:
    """A new session and its invite token; only the token's SHA-256 hash is stored. The test is for
    `patient`, or else the practice's patient with `patient_reference` (made if new)."""
    if patient is None:
        practice_id = db.session.get(Clinician, clinician_id).practice_id
        patient = patients.find_or_create(practice_id, patient_reference or "")
    token = tokens.new_token()
    session = TestSession(
        public_id=tokens.new_public_id(),
        clinician_id=clinician_id,
        patient=patient,
        patient_reference=patient.reference,
        config=config,
        show_results=show_results,
        invite_token_hash=tokens.token_hash(token),
        invite_expires_at=utcnow() + timedelta(hours=current_app.config["INVITE_TTL_HOURS"]),
        created_at=utcnow(),
    )
    for order_index, eye in enumerate(config["eyes"]):
        # Each eye's own seed: its trials are a pure function of (config, seed, answers).
        session.eye_tests.append(EyeTest(eye=eye, order_index=order_index, seed=secrets.randbits(31)))
    db.session.add(session)
    db.session.commit()
    return session, token
