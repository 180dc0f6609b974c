from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp import audit, patients, plots, tokens
from webapp import events as ev
from webapp import serializers as p
from webapp.auth.accounts import clinician_count
from webapp.clinician import bp
from webapp.clinician.forms import ConfirmForm, NewTestForm
from webapp.clinician.sessions import create_session
from webapp.extensions import db, socketio
from webapp.links import external_url
from webapp.models import Patient, TestSession, utcnow
from webapp.practice import in_practice, practice_patients, practice_sessions


@bp.get("/")
def dashboard():
    """The practice's tests; anonymous visitors get the landing page."""
    if not current_user.is_authenticated:
        return render_template("index.html", needs_setup=clinician_count() == 0)
    sessions = db.session.scalars(
        select(TestSession).where(practice_sessions()).order_by(TestSession.created_at.desc(), TestSession.id.desc())
    ).all()
    rows = [{"session": s, "results": [p.result_dict(e) for e in s.eye_tests if e.result]} for s in sessions]
    return render_template("clinician/dashboard.html", rows=rows)


def owned(public_id: str) -> TestSession:
    session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
    if session is None or not in_practice(session):
        abort(404)  # another practice's test is not even acknowledged to exist
    return session


@bp.route("/sessions/new", methods=["GET", "POST"])
@login_required
def new_session():
    form = NewTestForm()
    if (patient := submitted_patient(form)) is not None:
        session, token = create_session(
            current_user.id, None, form.test_config(), bool(form.show_results.data), patient=patient
        )
        audit.viewed(session, "invite_created")
        invite_url = external_url("patient.test_page", token=token)
        # Shown once: only the token's hash is stored, so this page is the only place it appears.
        return render_template(
            "clinician/invite.html",
            session=session,
            invite_url=invite_url,
            qr_svg=tokens.qr_svg(invite_url, "Invite link"),
            expires_at=session.invite_expires_at,
        ), 201
    return render_template("clinician/new.html", form=form, **patient_choices(form))


def submitted_patient(form: NewTestForm) -> Patient | None:
    """The patient of a valid new-test POST (not committed), or None: not submitted, a search
    ("Find"), or refused (the form's fields then hold what to fix)."""
    if not form.is_submitted():
        if request.args.get("patient"):  # "new test for this patient" on a patient's page
            form.patient_id.data = request.args["patient"]
        return None
    valid = form.validate()
    patient = None
    if not form.find.data:
        try:
            patient = chosen_patient(form)
        except patients.PatientError as error:
            form[error.field].errors.append(str(error))
    if not valid or patient is None:
        db.session.rollback()  # a patient made for a form that is refused is not kept
        return None
    return patient


def chosen_patient(form: NewTestForm) -> Patient:
    """The patient the form names: one of the practice's by its id, else by the reference typed
    (a new one, or the practice's patient with that reference). Not committed."""
    if form.patient_id.data:
        patient = db.session.scalar(
            select(Patient).where(Patient.public_id == form.patient_id.data, practice_patients())
        )
        if patient is None:
            raise patients.PatientError("That patient is not one of the practice's; find them again.", "patient_id")
        return patient
    if not (form.patient_reference.data or "").strip():
        raise patients.PatientError(
            "Choose a patient of the practice, or give a new patient's reference.", "patient_reference"
        )
    return patients.find_or_create(current_user.practice_id, form.patient_reference.data, **form.patient_details())


def patient_choices(form: NewTestForm) -> dict:
    """The patients the form offers: those found by the search, and the one already chosen."""
    searched = bool(form.find.data and (form.patient_query.data or "").strip())
    found = patients.search(current_user.practice_id, form.patient_query.data) if searched else []
    chosen = None
    if form.patient_id.data:
        chosen = db.session.scalar(
            select(Patient).where(Patient.public_id == form.patient_id.data, practice_patients())
        )
    offered = ([chosen] if chosen else []) + [p for p in found if p is not chosen]
    return {
        "offered": [{"id": p.public_id, "label": patients.label(p)} for p in offered],
        "searched": searched,
        "chosen_id": chosen.public_id if chosen else "",
    }


@bp.get("/sessions/<public_id>")
@login_required
def live(public_id: str):
    session = owned(public_id)
    audit.viewed(session, "live_view")
    page_session = {**p.session_dict(session), "result_url": url_for("clinician.result", public_id=session.public_id)}
    return render_template("clinician/live.html", session=page_session)


@bp.get("/sessions/<public_id>/result")
@login_required
def result(public_id: str):
    session = owned(public_id)
    audit.viewed(session, "result_view")
    eyes = []
    for eye in session.eye_tests:
        trials = [p.trial_dict(eye, trial) for trial in eye.trials]
        eyes.append(
            {
                "eye": eye.eye,
                "status": eye.status,
                "result": p.result_dict(eye),
                "estimate": p.estimate_dict(eye),
                "trials": trials,
                "plot_svg": plots.trial_plot_svg(
                    trials, eye.result, title=f"{eye.eye} eye: size per trial", element_id=f"plot-{eye.eye}"
                ),
            }
        )
    calibrations = [p.calibration_dict(c) for c in session.calibrations]
    return render_template(
        "clinician/result.html",
        session=session,
        eyes=eyes,
        calibrations=calibrations,
        events=[p.event_dict(e) for e in session.events],
        form=ConfirmForm(),
    )


@bp.post("/sessions/<public_id>/invite/revoke")
@login_required
def revoke_invite(public_id: str):
    session = owned(public_id)
    if ConfirmForm().validate_on_submit() is False:
        abort(400)
    session.invite_revoked_at = utcnow()
    audit.record(session, "invite_revoked", current_user.id)
    session.pad_nonce = None
    session.pad_token_hash = None
    sids = [sid for sid in (session.display_sid, session.pad_sid) if sid]
    session.display_sid = session.pad_sid = None
    db.session.commit()
    for sid in sids:
        socketio.emit(
            ev.ERROR,
            {"error": "link_revoked", "message": "This link was withdrawn. Ask your clinician for a new link."},
            to=sid,
            namespace=ev.PATIENT_NS,
        )
        socketio.server.disconnect(sid, namespace=ev.PATIENT_NS)
    flash("The invite link was withdrawn; the patient can no longer use it.")
    return redirect(url_for("clinician.dashboard"))
