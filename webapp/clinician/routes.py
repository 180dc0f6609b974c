from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from webapp import audit, plots, tokens
from webapp import events as ev
from webapp import serializers as p
from webapp.auth.accounts import clinician_count
from webapp.clinician import bp
from webapp.clinician.forms import ConfirmForm, NewTestForm
from webapp.clinician.sessions import create_session
from webapp.extensions import db, socketio
from webapp.links import external_url
from webapp.models import TestSession, utcnow


@bp.get("/")
def dashboard():
    """The clinician's tests; anonymous visitors get the landing page."""
    if not current_user.is_authenticated:
        return render_template("index.html", needs_setup=clinician_count() == 0)
    sessions = db.session.scalars(
        select(TestSession)
        .where(TestSession.clinician_id == current_user.id)
        .order_by(TestSession.created_at.desc(), TestSession.id.desc())
    ).all()
    rows = [{"session": s, "results": [p.result_dict(e) for e in s.eye_tests if e.result]} for s in sessions]
    return render_template("clinician/dashboard.html", rows=rows)


def owned(public_id: str) -> TestSession:
    session = db.session.scalar(select(TestSession).where(TestSession.public_id == public_id))
    if session is None or session.clinician_id != current_user.id:
        abort(404)  # another clinician's test is not even acknowledged to exist
    return session


@bp.route("/sessions/new", methods=["GET", "POST"])
@login_required
def new_session():
    form = NewTestForm()
    if form.validate_on_submit():
        session, token = create_session(
            current_user.id, form.patient_reference.data, form.test_config(), bool(form.show_results.data)
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
    return render_template("clinician/new.html", form=form)


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
