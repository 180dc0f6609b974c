"""Creating a test session with its invite (used by the new-test page and by the benchmark)."""

from __future__ import annotations

import secrets

from webapp import credentials, i18n, patients, tokens
from webapp.extensions import db
from webapp.live.phases import CLOSED, Status
from webapp.models import Clinician, EyeTest, Patient, TestSession, utcnow


def create_session(
    clinician_id: int,
    patient_reference: str | None,
    config: dict,
    show_results: bool = False,
    contact_line: str | None = None,
    patient: Patient | None = None,
    language: str = "en",
) -> tuple[TestSession, str]:
    """A new session and its invite token; only the token's SHA-256 hash is stored (the token is made
    again from the secret key when the clinician's pages show it: webapp/credentials.py). The test is
    for `patient`, or else the practice's patient with `patient_reference` (made if new)."""
    if patient is None:
        practice_id = db.session.get(Clinician, clinician_id).practice_id
        patient = patients.find_or_create(practice_id, patient_reference or "")
    session = TestSession(
        public_id=tokens.new_public_id(),
        clinician_id=clinician_id,
        patient=patient,
        patient_reference=patient.reference,
        config=i18n.optotypes_for_language(config, language),
        language=i18n.language(language).code,
        show_results=show_results,
        contact_line=(contact_line or "").strip() or None,
        created_at=utcnow(),
    )
    token = credentials.new_invite(session, now=session.created_at)
    for order_index, eye in enumerate(config["eyes"]):
        # Each eye's own seed: its trials are a pure function of (config, seed, answers).
        session.eye_tests.append(EyeTest(eye=eye, order_index=order_index, seed=secrets.randbits(31)))
    db.session.add(session)
    db.session.commit()
    return session, token


# What the dashboard calls each test's state, and what it means (docs/protocol.md, section 1).
STATES = {
    "invited": "link not opened yet",
    "opened": "link opened, test not started",
    "testing": "test under way",
    "done": "every eye finished",
    "ended": "ended by a clinician",
    "withdrawn": "link withdrawn",
    "expired": "link expired",
}


def test_state(session: TestSession) -> str:
    """One of STATES, from what is stored; expiry by the patient's own rule (credentials.link_problem)."""
    if session.status in CLOSED:
        return session.status
    problem = credentials.link_problem(session)
    if problem == "withdrawn":
        return "withdrawn"
    if problem is not None:
        return "expired"
    if session.status == Status.ACTIVE:
        return "testing"
    return "opened" if session.invite_used_at is not None else "invited"
