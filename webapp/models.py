"""Database models (SQLAlchemy 2.0 typed mappings).

What is stored is enough to rebuild any test's state: the session's configuration, each eye's
procedure configuration and seed, every answered trial, and the presentation currently shown.
Identity is kept to the minimum a clinician needs: a display name or their own reference.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, exists
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from webapp.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Practice(db.Model):
    """A practice: its clinicians share its patients and tests (webapp/practice.py)."""

    __tablename__ = "practice"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What its results lead with (acuity.notation.LEADS); None: the server's VISUS_NOTATION
    # (webapp.serializers.practice_notation).
    notation: Mapped[str | None] = mapped_column(String(10))

    clinicians: Mapped[list[Clinician]] = relationship(back_populates="practice", order_by="Clinician.id")
    patients: Mapped[list[Patient]] = relationship(back_populates="practice")


class Clinician(UserMixin, db.Model):
    __tablename__ = "clinician"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"), index=True)
    # The practice's admin (its first clinician) invites colleagues into it.
    is_practice_admin: Mapped[bool] = mapped_column(default=False)
    # The IANA time zone the clinician's pages show times in (their browser's, sent once; or chosen).
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # The clinician's own invite e-mail text (webapp/mail.py, DEFAULT_MESSAGE has the placeholders).
    invite_message: Mapped[str | None] = mapped_column(Text)

    practice: Mapped[Practice] = relationship(back_populates="clinicians")
    sessions: Mapped[list[TestSession]] = relationship(back_populates="clinician")


class Patient(db.Model):
    """A patient of a practice: the practice's own reference (unique in the practice) and, only if the
    clinician gives them, a name, a year of birth and an e-mail address for invites."""

    __tablename__ = "patient"
    __table_args__ = (UniqueConstraint("practice_id", "reference", name="uq_patient_practice_reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)  # in URLs: no identity, no count
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"), index=True)
    reference: Mapped[str] = mapped_column(String(120))
    name: Mapped[str | None] = mapped_column(String(120))
    birth_year: Mapped[int | None]
    contact_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    practice: Mapped[Practice] = relationship(back_populates="patients")
    sessions: Mapped[list[TestSession]] = relationship(back_populates="patient", order_by="TestSession.id")


class PracticeInvite(db.Model):
    """A link the practice's admin made for a colleague to join the practice with their own
    password; only its SHA-256 hash is stored, it works once and expires."""

    __tablename__ = "practice_invite"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("clinician.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    practice: Mapped[Practice] = relationship()


class TestSession(db.Model):
    """One remote test: a patient, one invite, one or two eyes (or both together)."""

    __test__ = False  # not a pytest test class, despite the name
    __tablename__ = "test_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("clinician.id"), index=True)  # who created it
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    # The patient's reference when the test was made (a patient's reference never changes).
    patient_reference: Mapped[str] = mapped_column(String(120))
    # {eyes, optotype_set, procedure, correction, setup, answer_mode}
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="invited")  # invited|active|done|ended
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    show_results: Mapped[bool] = mapped_column(default=False)
    # How the patient reaches the practice ("Riverside Eye Clinic, 01632 960 123"): shown on the
    # welcome step as plain text (webapp/clinician/forms.py checks it).
    contact_line: Mapped[str | None] = mapped_column(String(160))
    # The language of the patient's pages, pad and e-mails (webapp/i18n.py, LANGUAGES): chosen by the
    # clinician, changed by the patient on the welcome step.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")

    invite_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The invite token is derived from the secret key and this nonce like the pad token, so the
    # clinician's pages can show the link again; None for links made before (only random, not shown).
    invite_nonce: Mapped[str | None] = mapped_column(String(64))
    invite_expires_at: Mapped[datetime]
    invite_revoked_at: Mapped[datetime | None]
    # The pad token is derived from the secret key and this nonce (so the display can be shown it
    # again after a reload); only its hash is stored, and a new nonce revokes it.
    pad_nonce: Mapped[str | None] = mapped_column(String(64))
    pad_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # When the invite link was exchanged for the display's credential (it works once); the pad link
    # is single-use by its nonce being renewed at the exchange (webapp/patient/credentials.py).
    invite_used_at: Mapped[datetime | None]
    # The short pairing code the display shows (typed at /pad): only its HMAC is stored, with its
    # expiry; cleared when used, when the pad connects, or when a new one is issued (webapp/pairing.py).
    pad_code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    pad_code_expires_at: Mapped[datetime | None]
    # The practice letter before an eye starts, chosen by the server: {id, symbol, response, correct};
    # not a trial, cleared when the eye starts (webapp/live/commands.py, practice).
    practice: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    consent_at: Mapped[datetime | None]
    current_eye_index: Mapped[int] = mapped_column(default=0)
    seq: Mapped[int] = mapped_column(default=0)  # stimuli put up so far (session-wide)
    paused_reason: Mapped[str | None] = mapped_column(String(60))
    # The webcam distance guard's numbers (webapp/live/distance_guard.py): never an image.
    distance_guard: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    display_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    pad_sid: Mapped[str | None] = mapped_column(String(64), index=True)

    clinician: Mapped[Clinician] = relationship(back_populates="sessions")
    patient: Mapped[Patient] = relationship(back_populates="sessions")
    eye_tests: Mapped[list[EyeTest]] = relationship(
        back_populates="session", order_by="EyeTest.order_index", cascade="all, delete-orphan"
    )
    calibrations: Mapped[list[Calibration]] = relationship(
        back_populates="session", order_by="Calibration.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[SessionEvent]] = relationship(
        back_populates="session", order_by="SessionEvent.id", cascade="all, delete-orphan"
    )
    credentials: Mapped[list[DeviceCredential]] = relationship(
        back_populates="session", order_by="DeviceCredential.id", cascade="all, delete-orphan"
    )

    @property
    def current_calibration(self) -> Calibration | None:
        """The latest calibration, if still valid."""
        if not self.calibrations:
            return None
        latest = self.calibrations[-1]
        return None if latest.invalidated_at else latest

    @property
    def current_eye_test(self) -> EyeTest | None:
        if 0 <= self.current_eye_index < len(self.eye_tests):
            return self.eye_tests[self.current_eye_index]
        return None


class EyeTest(db.Model):
    """The measurement of one eye (or both together) within a session."""

    __tablename__ = "eye_test"
    __table_args__ = (UniqueConstraint("session_id", "order_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_session.id"), index=True)
    eye: Mapped[str] = mapped_column(String(10))  # right | left | both
    order_index: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|active|done|skipped
    seed: Mapped[int]
    # acuity.procedure.ProcedureConfig.to_dict(), frozen when the eye starts (measurable range included)
    procedure_config: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The presentation on screen and not yet answered:
    # {trial_id, seq, index, logmar, optotypes, height_css_px, presented_at} or None
    pending: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # AcuityResult.to_dict()
    # Low vision: the moves closer, [acuity.procedure.DistanceStep.to_dict()] (replayed with the
    # trials), the distance the patient is asked to move to now (until they measure it), and the
    # clinician's category below the chart ({code, distance_mm}, acuity.low_vision).
    distance_steps: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    move_to_mm: Mapped[float | None]
    category: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    session: Mapped[TestSession] = relationship(back_populates="eye_tests")
    trials: Mapped[list[Trial]] = relationship(
        back_populates="eye_test", order_by="Trial.index", cascade="all, delete-orphan"
    )


class Trial(db.Model):
    """One answered presentation. (eye_test_id, index) is unique: an answer counts once."""

    __tablename__ = "trial"
    __table_args__ = (UniqueConstraint("eye_test_id", "index", name="uq_trial_eye_test_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    eye_test_id: Mapped[int] = mapped_column(ForeignKey("eye_test.id"), index=True)
    index: Mapped[int]
    seq: Mapped[int]
    logmar: Mapped[float]
    optotypes: Mapped[list[str]] = mapped_column(JSON)
    responses: Mapped[list[str | None]] = mapped_column(JSON)
    correct: Mapped[list[bool]] = mapped_column(JSON)
    response_time_ms: Mapped[float | None]
    height_css_px: Mapped[float | None]
    scored_by: Mapped[str] = mapped_column(String(10))  # patient | clinician
    presented_at: Mapped[datetime | None]
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)

    eye_test: Mapped[EyeTest] = relationship(back_populates="trials")


class Calibration(db.Model):
    """Screen scale and viewing distance as measured on the patient's display."""

    __tablename__ = "calibration"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_session.id"), index=True)
    css_px_per_mm: Mapped[float]
    device_pixel_ratio: Mapped[float]
    viewport_width_css_px: Mapped[int]
    viewport_height_css_px: Mapped[int]
    scale_method: Mapped[str] = mapped_column(String(20))
    distance_method: Mapped[str] = mapped_column(String(20))
    distance_input: Mapped[dict[str, Any]] = mapped_column(JSON)
    viewing_distance_mm: Mapped[float]
    mirrored: Mapped[bool]
    min_logmar: Mapped[float]
    max_logmar: Mapped[float]
    user_agent: Mapped[str] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    invalidated_at: Mapped[datetime | None]
    invalidated_reason: Mapped[str | None] = mapped_column(String(200))

    session: Mapped[TestSession] = relationship(back_populates="calibrations")


class SessionEvent(db.Model):
    """Page events, warnings and clinician notes, in order."""

    __tablename__ = "session_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_session.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    device: Mapped[str | None] = mapped_column(String(20))  # display | pad | clinician | server
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[TestSession] = relationship(back_populates="events")


class DeviceCredential(db.Model):
    """A browser's credential for one device of one test, given once for its link
    (webapp/patient/credentials.py): the cookie holds the secret, this row only its SHA-256 hash."""

    __tablename__ = "device_credential"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_session.id"), index=True)
    device: Mapped[str] = mapped_column(String(10))  # display | pad
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]  # a newer pad was paired

    session: Mapped[TestSession] = relationship(back_populates="credentials")


# Whether a phone holds a live pad credential of the session: a correlated EXISTS, loaded only with the
# statement of a live event (webapp/live/procedures.py, LIVE_SESSION_LOAD) and kept through its flushes;
# read it through webapp/live/payloads.py, pad_paired (which prefers credentials changed since).
TestSession.pad_paired_loaded = column_property(
    exists()
    .where(
        DeviceCredential.session_id == TestSession.id,
        DeviceCredential.device == "pad",
        DeviceCredential.revoked_at.is_(None),
    )
    .correlate_except(DeviceCredential),
    deferred=True,
    expire_on_flush=False,
)
