"""Deleting a patient's data: one session at a time by its clinician (after a confirmation), and every
session older than the retention period (VISUS_RETENTION_DAYS) by `flask --app webapp purge-expired`
and when `python3 server.py` starts (webapp/startup.py). Deleting a session deletes its eyes, trials, calibrations and events, and its patient's record when it was
their last test; its audit entries stay (they hold no patient identity) with one more saying who deleted it."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp import audit
from webapp.credentials import DELETED, disconnect_patients
from webapp.extensions import db
from webapp.models import TestSession, utcnow
from webapp.schema import forget_deleted

bp = Blueprint("privacy", __name__, cli_group=None)


def retention_days(app: Flask) -> float | None:
    """Days a session is kept (from its creation); None keeps sessions until deleted by hand."""
    value = app.config.get("RETENTION_DAYS")
    if value in (None, ""):
        return None
    days = float(value)
    if not days > 0:
        raise ValueError(f"VISUS_RETENTION_DAYS must be a number of days above 0, not {value!r}.")
    return days


def delete_session(session: TestSession, clinician_id: int | None, action: str = "deleted") -> None:
    """Delete the session and everything under it, record who did it; commits."""
    sids = (session.display_sid, session.pad_sid)
    language = session.language
    audit.record(session, action, clinician_id)
    patient = session.patient
    db.session.delete(session)  # cascades: eye tests -> trials, calibrations, events
    db.session.flush()
    if not db.session.scalar(select(TestSession.id).where(TestSession.patient_id == patient.id).limit(1)):
        db.session.delete(patient)  # their last test: the record (reference, name, ...) was kept for it only
    db.session.commit()
    forget_deleted(db.session)  # SQLite: nothing of it left in the write-ahead log
    db.session.commit()
    disconnect_patients(sids, DELETED, language)


def purge_expired(app: Flask, days: float | None = None) -> int:
    """Delete every session created more than `days` (default: the retention setting) ago."""
    days = retention_days(app) if days is None else days
    if days is None:
        return 0
    cutoff = utcnow() - timedelta(days=days)
    old = db.session.scalars(select(TestSession).where(TestSession.created_at < cutoff)).all()
    for session in old:
        delete_session(session, None, "purged")
    return len(old)


@bp.cli.command("purge-expired")
@click.option("--days", type=float, default=None, help="Override VISUS_RETENTION_DAYS for this run.")
def purge_expired_command(days: float | None) -> None:
    """Delete sessions older than VISUS_RETENTION_DAYS: flask --app webapp purge-expired"""
    try:
        if days is None and retention_days(current_app) is None:
            raise click.ClickException("Set VISUS_RETENTION_DAYS (or give --days) to say how long sessions are kept.")
        if days is not None and not days > 0:
            raise click.ClickException("--days must be above 0.")
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Deleted {purge_expired(current_app, days)} session(s).")


@bp.route("/sessions/<public_id>/delete", methods=["GET", "POST"])
@login_required
def delete(public_id: str):
    """GET: the confirmation page. POST (with the CSRF token and the confirm box): delete."""
    from webapp.clinician.forms import ConfirmForm
    from webapp.clinician.routes import owned

    session = owned(public_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        from flask import request

        if request.form.get("confirm") != "yes":
            flash("Tick the box to confirm the deletion.")
            return render_template("clinician/delete.html", session=session, form=form), 400
        delete_session(session, current_user.id)
        flash("The session and all its data were deleted.")
        return redirect(url_for("clinician.dashboard"))
    if form.is_submitted():
        abort(400)
    return render_template("clinician/delete.html", session=session, form=form)
