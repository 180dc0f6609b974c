from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from acuity import low_vision
from acuity.procedure import WRONG_UNNAMED
from webapp import audit, credentials, mail, patients, plots, tokens
from webapp import serializers as p
from webapp.auth.accounts import clinician_count
from webapp.clinician import bp
from webapp.clinician.forms import ConfirmForm, InviteMailForm, InvitePanelForm, NewTestForm
from webapp.clinician.sessions import STATES, create_session, test_state
from webapp.clinician.times import local_time, valid_zone, zone_choices, zone_name
from webapp.extensions import db
from webapp.links import external_url
from webapp.live import commands
from webapp.live.common import send
from webapp.live.outbox import Outbox
from webapp.live.phases import CLOSED
from webapp.models import Patient, TestSession, utcnow
from webapp.practice import in_practice, practice_patients, practice_sessions


@bp.route("/", methods=["GET", "POST"])
def dashboard():
    """The practice's tests, with each one's state; filtered by state (?state=expired) and by the
    patient's reference, which comes only in a POST body so that it never lands in a URL, the browser's
    history or a log. Anonymous visitors get the landing page."""
    if not current_user.is_authenticated:
        return render_template("index.html", needs_setup=clinician_count() == 0)
    query = (request.form.get("q") or "").strip()[:120]
    state = request.values.get("state") or ""
    state = state if state in STATES else ""
    statement = select(TestSession).where(practice_sessions())
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(TestSession.patient_reference.ilike(f"%{escaped}%", escape="\\"))
    sessions = db.session.scalars(statement.order_by(TestSession.created_at.desc(), TestSession.id.desc())).all()
    rows = [
        {"session": s, "state": test_state(s), "results": [p.result_dict(e) for e in s.eye_tests if e.result]}
        for s in sessions
    ]
    counts = {name: sum(row["state"] == name for row in rows) for name in STATES}
    if state:
        rows = [row for row in rows if row["state"] == state]
    return render_template(
        "clinician/dashboard.html",
        rows=rows,
        states=STATES,
        counts=counts,
        state=state,
        query=query,
        zones=zone_choices(),
        form=ConfirmForm(),
    )


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
        session, _ = create_session(
            current_user.id,
            None,
            form.test_config(),
            bool(form.show_results.data),
            form.contact_line.data,
            patient=patient,
            language=form.language.data,
        )
        audit.viewed(session, "invite_created")
        # Post/redirect/get: reloading the invite page shows the same link, never makes a second test.
        return redirect(url_for("clinician.invite", public_id=session.public_id), 303)
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


def can_reissue(session: TestSession) -> bool:
    """Not after a withdrawal, once the test is over, or past the longest any link lives."""
    return (
        session.invite_revoked_at is None
        and session.status not in CLOSED
        and credentials.expires_at(session) > utcnow()
    )


def invite_panel(session: TestSession, back: str, mail_form: InviteMailForm | None = None) -> dict:
    """What the invite panel (clinician/_invite_panel.html) shows of a session's link."""
    problem = credentials.link_problem(session)
    token = credentials.invite_token(session) if problem is None else None
    url = external_url("patient.test_page", token=token) if token else None
    expires_text = f"{local_time(session.invite_expires_at)} ({zone_name()})"
    if mail_form is None:
        subject, message = mail.default_text(session, current_user.invite_message)  # the test's language
        mail_form = InviteMailForm(
            formdata=None,
            back=back,
            to=session.patient.contact_email,  # the patient's e-mail for invites, if the practice has it
            subject=subject,
            message=message,
        )
    return {
        "session": session,
        "state": test_state(session),
        "states": STATES,
        "problem": problem,
        "url": url,
        "qr_svg": tokens.qr_svg(url, "Invite link as a QR code") if url else None,
        "expires_text": expires_text,
        "back": back,
        "can_reissue": can_reissue(session),
        "can_withdraw": session.invite_revoked_at is None and problem != "ended",
        "mail_configured": mail.configured(),
        "mail_form": mail_form,
    }


@bp.get("/sessions/<public_id>/invite")
@login_required
def invite(public_id: str):
    """The invite page: the link (made again from the secret key; only its hash is stored), its QR code,
    e-mail, re-issue and withdraw."""
    return _invite_page(owned(public_id))


def _invite_page(session: TestSession, mail_form: InviteMailForm | None = None, status: int = 200):
    page = render_template("clinician/invite.html", session=session, invite=invite_panel(session, "invite", mail_form))
    return page, status, {"Cache-Control": "no-store"}


def _back(public_id: str, back: str | None):
    endpoint = {"live": "clinician.live", "dashboard": "clinician.dashboard"}.get(back or "", "clinician.invite")
    values = {} if endpoint == "clinician.dashboard" else {"public_id": public_id}
    return redirect(url_for(endpoint, **values), 303)


@bp.get("/sessions/<public_id>")
@login_required
def live(public_id: str):
    session = owned(public_id)
    audit.viewed(session, "live_view")
    page_session = {
        **p.session_dict(session),
        "result_url": url_for("clinician.result", public_id=session.public_id),
        "wrong_response": WRONG_UNNAMED,  # what the scoring's ✗ sends (docs/protocol.md, `score`)
    }
    return render_template(
        "clinician/live.html",
        session=page_session,
        invite=invite_panel(session, "live"),
        categories=low_vision.CATEGORIES.values(),  # the categories below the chart, worded once
    )


@bp.get("/sessions/<public_id>/result")
@login_required
def result(public_id: str):
    # The report's builder (imported here: webapp.reports imports this module for `owned`), so
    # the result page and the report say the same, in the same words.
    from webapp.reports.data import session_report

    session = owned(public_id)
    audit.viewed(session, "result_view")
    report = session_report(session)
    for eye in report["eyes"]:
        eye["plot_svg"] = plots.trial_plot_svg(
            eye["trials"], eye["result"], title=f"{eye['eye_name']}: size per trial", element_id=f"plot-{eye['eye']}"
        )
    return render_template("clinician/result.html", session=session, report=report, form=ConfirmForm())


def _panel_action(public_id: str) -> tuple[TestSession, InvitePanelForm]:
    """The owner's session and the posted form of a panel action (CSRF checked), or 404 / 400."""
    session = owned(public_id)
    form = InvitePanelForm()
    if not form.validate_on_submit():
        abort(400)
    return session, form


@bp.post("/sessions/<public_id>/invite/revoke")
@login_required
def revoke_invite(public_id: str):
    """Withdraw: the link, the pad link and every browser credential stop working; the test cannot go
    on (a new test is needed)."""
    session, form = _panel_action(public_id)
    if session.invite_revoked_at is None:
        session.invite_revoked_at = utcnow()
        audit.record(session, "invite_revoked", current_user.id)
        sids = credentials.revoke_devices(session)
        db.session.commit()
        credentials.disconnect_patients(sids, credentials.PROBLEMS["withdrawn"], session.language)
    flash("The invite link was withdrawn; the patient can no longer use it.")
    return _back(public_id, form.back.data)


@bp.post("/sessions/<public_id>/invite/reissue")
@login_required
def reissue_invite(public_id: str):
    """A new link; the old one and every browser that opened it stop working at once."""
    session, form = _panel_action(public_id)
    if not can_reissue(session):
        flash("This test's link cannot be re-issued (it was withdrawn, or the test is over): create a new test.")
        return _back(public_id, form.back.data)
    credentials.new_invite(session)
    sids = credentials.revoke_devices(session)
    out = Outbox(session.public_id)
    commands.new_link(session, out)
    audit.record(session, "invite_reissued", current_user.id)
    db.session.commit()
    credentials.disconnect_patients(sids, credentials.REPLACED_LINK, session.language)
    send(session, out)
    flash("A new link was made. The old link, and any screen or phone that opened it, no longer work.")
    return _back(public_id, form.back.data)


@bp.post("/sessions/<public_id>/invite/send")
@login_required
def email_invite(public_id: str):
    """Send the link by e-mail through the configured SMTP server (webapp/mail.py)."""
    session = owned(public_id)
    form = InviteMailForm()
    if not mail.configured():
        abort(404)
    if not form.validate_on_submit():
        return _invite_page(session, form, 400)
    panel = invite_panel(session, form.back.data, form)
    if panel["url"] is None:
        form.to.errors = ["This link no longer works, so it cannot be sent. Re-issue it first."]
        return _invite_page(session, form, 409)
    try:
        values = mail.placeholders(session, panel["expires_text"], current_user.email, panel["url"])
        body = mail.fill(form.message.data, values)
        message = mail.message(form.to.data, form.subject.data, body, reply_to=current_user.email)
        mail.send(message)
    except mail.MailError as error:
        form.to.errors = [str(error)]
        return _invite_page(session, form, error.status)
    if form.save_message.data:
        current_user.invite_message = form.message.data.replace("\r\n", "\n")
    audit.record(session, "invite_sent", current_user.id)
    db.session.commit()
    flash(f"The link was sent by e-mail to {message['To']}.")
    return _back(public_id, form.back.data)


@bp.post("/account/time-zone")
@login_required
def set_time_zone():
    """The clinician's time zone: sent once by their browser (fetch, 204), or chosen on the dashboard."""
    zone = valid_zone(request.form.get("time_zone", ""))
    if zone is None:
        if request.form.get("from") == "browser":
            return "", 422  # a browser whose zone this server does not know: times stay in UTC
        flash("Choose a time zone from the list.")
    else:
        current_user.time_zone = zone
        db.session.commit()
        if request.form.get("from") == "browser":
            return "", 204
        flash(f"Times are now shown in {zone}.")
    return redirect(url_for("clinician.dashboard"), 303)
