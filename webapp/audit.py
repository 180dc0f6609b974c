"""The audit log: which clinician viewed, steered, exported, revoked or deleted which session, and when;
and, with no session, what changed in the practice (PRACTICE_ACTIONS: colleagues invited, joined,
removed, the practice renamed, its notation set).

An entry names the session by its public id, not by a foreign key, so it outlives the session: when a
session is deleted its entries stay, and none of them holds the patient's identity (no patient
reference, no token, no free text). Every clinician of a practice reads the log of the practice's
sessions; each entry says which clinician acted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import JSON, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from webapp.extensions import db
from webapp.models import utcnow

bp = Blueprint("audit", __name__)

# What each action means, for the audit page (every action recorded is listed here).
ACTIONS = {
    "live_view": "opened the live view",
    "watch": "watched the test live",
    "result_view": "viewed the result",
    "report_view": "viewed the report",
    "report_pdf": "downloaded the PDF report",
    "results_csv": "exported the results (CSV)",
    "trials_csv": "exported the trials (CSV)",
    "fhir_export": "exported FHIR",
    "history_view": "viewed the patient's page and history",
    "patient_updated": "changed the patient's details",
    "export_all_results": "exported all results (CSV)",
    "export_all_trials": "exported all trials (CSV)",
    "audit_view": "read this audit log",
    "pause": "paused the test",
    "resume": "resumed the test",
    "request_recalibration": "asked for a new calibration",
    "next_eye": "moved to the next eye",
    "end": "ended the test",
    "note": "added a note",
    "present": "chose a size",
    "score": "scored an answer",
    "share_results": "changed whether the patient sees the results",
    "move_closer": "moved the patient closer, or declined it",
    "category": "recorded a category below the chart",
    "call_started": "started the video call",
    "call_joined": "a patient's device joined the video call",
    "call_ended": "ended the video call",
    "invite_created": "created the test and its invite",
    "invite_sent": "sent the invite link by e-mail",
    "invite_reissued": "re-issued the invite link (the old link and its browsers stopped working)",
    "invite_revoked": "withdrew the invite link",
    "deleted": "deleted the session and all its data",
    "purged": "removed by the retention setting",
}
# Practice-level actions (record_practice): no session; `detail` names a colleague by e-mail (a
# clinician's, never a patient's) and a rename by its old and new names.
PRACTICE_ACTIONS = {
    "colleague_invited": "made an invite link for a colleague",
    "colleague_invite_withdrawn": "withdrew a colleague's invite link",
    "colleague_joined": "joined the practice by an invite link",
    "colleague_removed": "removed a colleague from the practice",
    "practice_renamed": "renamed the practice",
    "notation_set": "set the practice's notation",
}
ACTIONS.update(PRACTICE_ACTIONS)


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for a practice-level entry (PRACTICE_ACTIONS).
    session_public_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # The acting clinician; None for the server itself (retention).
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"), index=True)
    # The clinician who created the session.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"), index=True)
    # The practice of the session's patient: its clinicians read the log (also after deletion).
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


def record(session, action: str, clinician_id: int | None, **detail: Any) -> AuditEntry:
    """Add an entry to the current database transaction (the caller commits it with its change).

    `detail` holds only non-identifying facts (e.g. a size, an eye), never names or free text.
    """
    if action not in ACTIONS:
        raise ValueError(f"Unknown audit action {action!r}; add it to webapp.audit.ACTIONS.")
    return _add(session.patient.practice_id, action, clinician_id, detail, session.public_id, session.clinician_id)


def _add(
    practice_id: int,
    action: str,
    clinician_id: int | None,
    detail: dict[str, Any],
    session_public_id: str | None = None,
    owner_id: int | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        session_public_id=session_public_id,
        clinician_id=clinician_id,
        owner_id=owner_id,
        practice_id=practice_id,
        action=action,
        detail=detail,
        created_at=utcnow(),
    )
    db.session.add(entry)
    return entry


def record_practice(practice_id: int, action: str, clinician_id: int | None, **detail: Any) -> AuditEntry:
    """A practice-level entry (no session), added to the current transaction like record()."""
    if action not in PRACTICE_ACTIONS:
        raise ValueError(f"Unknown practice audit action {action!r}; add it to webapp.audit.PRACTICE_ACTIONS.")
    return _add(practice_id, action, clinician_id, detail)


def practice_entries(practice_id: int, limit: int = 50) -> list[dict]:
    """The practice's own entries (no session), newest first, as the audit page's rows."""
    return _rows(
        list(
            db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.practice_id == practice_id, AuditEntry.session_public_id.is_(None))
                .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
                .limit(limit)
            )
        )
    )


def viewed(session, action: str) -> None:
    """A read by the signed-in clinician: recorded and committed at once (refused, unrecorded, when
    another site started the request: security.refuse_cross_site)."""
    from webapp.security import refuse_cross_site

    refuse_cross_site()
    record(session, action, current_user.id)
    db.session.commit()


def entries_for(public_id: str, practice_id: int) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.session_public_id == public_id, AuditEntry.practice_id == practice_id)
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        )
    )


def _rows(entries: list[AuditEntry]) -> list[dict]:
    from webapp.models import Clinician

    emails = {c.id: c.email for c in db.session.scalars(select(Clinician))}
    return [
        {
            "at": e.created_at,
            "session": e.session_public_id,
            "who": emails.get(e.clinician_id, "a deleted account") if e.clinician_id else "the server",
            "action": e.action,
            "what": ACTIONS.get(e.action, e.action),
            "detail": e.detail,
        }
        for e in entries
    ]


@bp.get("/audit")
@login_required
def all_audit():
    """Every entry of every session of the clinician's practice (deleted ones included), newest first."""
    entries = list(
        db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.practice_id == current_user.practice_id)
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(ALL_AUDIT_LIMIT)
        )
    )
    return (
        render_template(
            "clinician/audit.html", public_id=None, session=None, rows=_rows(entries), limit=ALL_AUDIT_LIMIT
        ),
        200,
        {"Cache-Control": "no-store"},
    )


ALL_AUDIT_LIMIT = 1000


@bp.get("/sessions/<public_id>/audit")
@login_required
def session_audit(public_id: str):
    """Who did what with this session, newest first (also after the session was deleted)."""
    from webapp.models import TestSession
    from webapp.practice import in_practice

    entries = entries_for(public_id, current_user.practice_id)
    session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
    if session is not None and not in_practice(session):
        abort(404)
    if session is None and not entries:
        abort(404)
    if session is not None:
        viewed(session, "audit_view")
    response = render_template("clinician/audit.html", public_id=public_id, session=session, rows=_rows(entries))
    return response, 200, {"Cache-Control": "no-store"}
