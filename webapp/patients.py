"""A practice's patients: found by the practice's reference or name, made on the new-test form.

A patient's reference is the practice's own (a file number, initials and a date, ...), unique in the
practice and never changed once made, so every test keeps the reference it was made under. Name,
year of birth and e-mail address are optional: the clinician gives only what the practice needs.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, or_, select

from webapp import tokens
from webapp.auth.accounts import email_problem, normalise_email
from webapp.extensions import db
from webapp.models import Patient, utcnow

EARLIEST_BIRTH_YEAR = 1900
SEARCH_LIMIT = 20


class PatientError(ValueError):
    """Details that cannot be stored; the message says why, `field` which form field it is about."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def details(name: str | None, birth_year: str | int | None, contact_email: str | None) -> dict:
    """The optional details as typed, tidied and checked (PatientError says what to fix)."""
    name = (name or "").strip() or None
    email = normalise_email(contact_email or "") or None
    if email and (problem := email_problem(email)):
        raise PatientError(problem, "patient_email")
    year_text = str(birth_year if birth_year is not None else "").strip()
    this_year = datetime.now(UTC).year
    four_digits = len(year_text) == 4 and year_text.isascii() and year_text.isdigit()
    if year_text and not (four_digits and EARLIEST_BIRTH_YEAR <= int(year_text) <= this_year):
        raise PatientError(
            f"Give the year of birth as four digits, {EARLIEST_BIRTH_YEAR} to {this_year}.", "birth_year"
        )
    return {"name": name, "birth_year": int(year_text) if year_text else None, "contact_email": email}


def by_reference(practice_id: int, reference: str) -> Patient | None:
    return db.session.scalar(
        select(Patient).where(Patient.practice_id == practice_id, Patient.reference == reference.strip())
    )


def find_or_create(practice_id: int, reference: str, **given) -> Patient:
    """The practice's patient with this reference, made if new (not committed).

    Details given for an existing patient must agree with what is stored: a second person under the
    same reference would mix two people's results.
    """
    reference = reference.strip()
    if not reference:
        raise PatientError("Give the patient's reference (your practice's own).", "patient_reference")
    wanted = details(**given) if given else {}
    patient = by_reference(practice_id, reference)
    if patient is None:
        patient = Patient(
            public_id=tokens.new_public_id(),
            practice_id=practice_id,
            reference=reference,
            created_at=utcnow(),
            **wanted,
        )
        db.session.add(patient)
        return patient
    for field, value in wanted.items():
        stored = getattr(patient, field)
        if value is not None and stored is not None and value != stored:
            raise PatientError(
                f"{reference} is already a patient of the practice with other details; choose them with "
                "“Find a patient”, or give this patient another reference.",
                "patient_reference",
            )
        if stored is None and value is not None:
            setattr(patient, field, value)  # a detail the record did not have yet
    return patient


def search(practice_id: int, text: str) -> list[Patient]:
    """The practice's patients whose reference or name contains `text` (any letter case)."""
    text = text.strip()[:120]
    if not text:
        return []
    pattern = "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(
        db.session.scalars(
            select(Patient)
            .where(
                Patient.practice_id == practice_id,
                or_(
                    func.lower(Patient.reference).like(pattern, escape="\\"),
                    func.lower(Patient.name).like(pattern, escape="\\"),
                ),
            )
            .order_by(Patient.reference)
            .limit(SEARCH_LIMIT)
        )
    )


def label(patient: Patient) -> str:
    """How a patient is named on a page: reference, then name and year of birth when known."""
    extra = ", ".join(x for x in (patient.name, f"born {patient.birth_year}" if patient.birth_year else None) if x)
    return f"{patient.reference} ({extra})" if extra else patient.reference
