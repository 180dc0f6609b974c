"""The practice's patients: the list (with a search) and each patient's page with their details,
the history of their tests, a plot of the results over time per eye and the change flag.

Patients are named in URLs by a random public id, and the search is sent by POST, so no patient's
reference or name goes into a URL, a server log or the browser's history."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import StringField, SubmitField
from wtforms.validators import Length

from webapp import audit, patients
from webapp.clinician import bp
from webapp.clinician.forms import PatientEditForm
from webapp.extensions import db
from webapp.models import Patient, TestSession
from webapp.practice import practice_patient, practice_patients
from webapp.reports import charts
from webapp.reports.data import DEFAULT_CHANGE_LIMIT_LOGMAR, history
from webapp.security import refuse_cross_site

LIST_LIMIT = 200


class PatientSearchForm(FlaskForm):
    patient_query = StringField("Reference or name", validators=[Length(max=120)])
    find = SubmitField("Find")


@bp.route("/patients", methods=["GET", "POST"])
@login_required
def patient_list():
    """The practice's patients, newest first; a POSTed search narrows them."""
    form = PatientSearchForm()
    if form.validate_on_submit() and (form.patient_query.data or "").strip():
        shown = patients.search(current_user.practice_id, form.patient_query.data)
    else:
        shown = list(
            db.session.scalars(select(Patient).where(practice_patients()).order_by(Patient.id.desc()).limit(LIST_LIMIT))
        )
    counts = dict(
        db.session.execute(
            select(TestSession.patient_id, func.count(TestSession.id))
            .where(TestSession.patient_id.in_([p.id for p in shown]))
            .group_by(TestSession.patient_id)
        ).all()
    )
    rows = [{"patient": p, "tests": counts.get(p.id, 0)} for p in shown]
    return (
        render_template("clinician/patients.html", form=form, rows=rows, limit=LIST_LIMIT),
        200,
        {"Cache-Control": "no-store"},
    )


def patient_page(patient: Patient, form: PatientEditForm | None = None, status: int = 200) -> Response:
    """A patient's page; every test it shows is recorded in the audit log as viewed."""
    refuse_cross_site()
    sessions = list(patient.sessions)
    for session in sessions:
        audit.record(session, "history_view", current_user.id)
    db.session.commit()
    limit = float(current_app.config.get("HISTORY_CHANGE_LIMIT_LOGMAR", DEFAULT_CHANGE_LIMIT_LOGMAR))
    data = history(sessions, limit)
    form = form or PatientEditForm(
        patient_name=patient.name, birth_year=patient.birth_year, patient_email=patient.contact_email
    )
    page = render_template(
        "clinician/patient.html",
        patient=patient,
        history=data,
        plot_svg=charts.history_plot_svg(data["eyes"], title="logMAR over time, per eye"),
        sessions=sorted(sessions, key=lambda s: (s.created_at, s.id), reverse=True),
        form=form,
    )
    return Response(page, status, headers={"Cache-Control": "no-store"})


@bp.get("/patients/<patient_id>")
@login_required
def patient(patient_id: str):
    return patient_page(practice_patient(patient_id))


@bp.post("/patients/<patient_id>")
@login_required
def edit_patient(patient_id: str):
    """Change the optional details (the reference stays: every test was made under it)."""
    patient = practice_patient(patient_id)
    form = PatientEditForm()
    if form.validate_on_submit():
        try:
            for field, value in patients.details(**form.patient_details()).items():
                setattr(patient, field, value)
        except patients.PatientError as error:
            form[error.field].errors.append(str(error))
        else:
            for session in patient.sessions:
                audit.record(session, "patient_updated", current_user.id)
            db.session.commit()
            flash("The patient's details were saved.")
            return redirect(url_for("clinician.patient", patient_id=patient.public_id))
    db.session.rollback()
    return patient_page(patient, form, 400)
