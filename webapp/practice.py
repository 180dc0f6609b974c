"""A practice: its clinicians share its patients and tests, and its admin invites colleagues.

Access is practice-level: every clinician of a practice sees and steers every test of the practice's
patients (pages, live view sockets, exports, reports, deletion); a clinician of another practice
gets a 404 on a page and `forbidden` on a socket event, exactly as for a test that does not exist.
This module is the one place that says who may reach a test or a patient.

Colleagues join by an invite link the admin makes for their e-mail address (not by a form where the
admin sets their password): the colleague chooses their own password, under the same rules as every
account (webapp/auth/accounts.py), and nobody else ever knows it. The link is shown to the admin
once, only its SHA-256 hash is stored, it works once and expires after INVITE_TTL_HOURS. The admin
can remove a colleague: the colleague's account leaves the practice for a new, empty one of its own
and every sign-in of it ends, so it reaches none of the practice's patients or tests again.

Every change here is a practice-level entry of the audit log (webapp.audit.record_practice), shown
on this page and on the audit page.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement
from wtforms import EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from acuity.notation import describe
from webapp import audit, tokens
from webapp.auth.accounts import AccountError, create_clinician, email_problem, normalise_email
from webapp.auth.forms import NewPasswordForm
from webapp.extensions import db
from webapp.links import external_url
from webapp.models import Clinician, Patient, Practice, PracticeInvite, TestSession, utcnow

bp = Blueprint("practice", __name__)

INVITE_TTL_HOURS = 72.0  # a colleague has three days to open their link


# ---- who may reach what ----------------------------------------------------------------------------


def in_practice(session: TestSession) -> bool:
    """Whether the signed-in clinician's practice holds this test."""
    return current_user.is_authenticated and session.patient.practice_id == current_user.practice_id


def practice_patients() -> ColumnElement[bool]:
    """SQL: the patient is one of the signed-in clinician's practice."""
    return Patient.practice_id == current_user.practice_id


def practice_sessions() -> ColumnElement[bool]:
    """SQL: the test is one of the signed-in clinician's practice."""
    return TestSession.patient_id.in_(select(Patient.id).where(practice_patients()))


def practice_patient(patient_public_id: str) -> Patient:
    """The practice's patient with this public id; 404 for any other (as if it did not exist)."""
    patient = db.session.scalar(select(Patient).where(Patient.public_id == patient_public_id, practice_patients()))
    if patient is None:
        abort(404)
    return patient


# ---- the practice page: members and invites ----------------------------------------------------------


class PracticeNameForm(FlaskForm):
    name = StringField(
        "Practice name (shown to your colleagues)",
        validators=[DataRequired(message="Give the practice a name."), Length(max=120)],
    )
    save = SubmitField("Save the name")


class ColleagueInviteForm(FlaskForm):
    email = EmailField("Colleague's e-mail address", validators=[DataRequired(), Length(max=254)])
    invite = SubmitField("Make an invite link")


def _notation_choices() -> list[tuple[str, str]]:
    # Each choice shown as a result reads in it (0.30 logMAR), written by acuity.notation.describe.
    names = {"6m": "Snellen in metres", "20ft": "Snellen in feet", "decimal": "Decimal"}
    return [(lead, f"{name}: {describe(0.3, lead=lead)['text']}") for lead, name in names.items()]


class NotationForm(FlaskForm):
    notation = SelectField("What every result leads with (pages, reports, exports, the patient's screen)")
    save_notation = SubmitField("Save the notation")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.notation.choices = _notation_choices()


class JoinForm(NewPasswordForm):
    submit = SubmitField("Join the practice")


def _open_invites() -> list[PracticeInvite]:
    return list(
        db.session.scalars(
            select(PracticeInvite)
            .where(
                PracticeInvite.practice_id == current_user.practice_id,
                PracticeInvite.used_at.is_(None),
                PracticeInvite.revoked_at.is_(None),
                PracticeInvite.expires_at > utcnow(),
            )
            .order_by(PracticeInvite.id)
        )
    )


def _page(name_form=None, invite_form=None, new_link=None, notation_form=None, status=200):
    from webapp.serializers import practice_notation  # here: serializers -> live -> this module

    practice = current_user.practice
    return (
        render_template(
            "clinician/practice.html",
            practice=practice,
            name_form=name_form or PracticeNameForm(name=practice.name),
            invite_form=invite_form or ColleagueInviteForm(),
            notation_form=notation_form or NotationForm(notation=practice_notation(practice)),
            notation_is_default=practice.notation is None,
            server_notation=current_app.config.get("NOTATION", "6m"),
            invites=_open_invites() if current_user.is_practice_admin else [],
            new_link=new_link,
            changes=audit.practice_entries(practice.id),
        ),
        status,
        {"Cache-Control": "no-store"},
    )


@bp.get("/practice")
@login_required
def page():
    """The practice: its name, its clinicians, and (for its admin) colleague invites."""
    return _page()


def _admin_only() -> None:
    if not current_user.is_practice_admin:
        abort(403)


@bp.post("/practice")
@login_required
def rename():
    _admin_only()
    form = PracticeNameForm()
    if not form.validate_on_submit():
        return _page(name_form=form, status=400)
    practice = current_user.practice
    name = form.name.data.strip()
    if name != practice.name:
        audit.record_practice(practice.id, "practice_renamed", current_user.id, **{"from": practice.name, "to": name})
        practice.name = name
    db.session.commit()
    flash("The practice's name was saved.")
    return redirect(url_for("practice.page"))


@bp.post("/practice/invites")
@login_required
def invite():
    """The admin makes a link for a colleague's e-mail address; it is shown on this answer only."""
    _admin_only()
    form = ColleagueInviteForm()
    if not form.validate_on_submit():
        return _page(invite_form=form, status=400)
    email = normalise_email(form.email.data)
    problem = email_problem(email)
    if problem is None and db.session.scalar(select(Clinician).where(Clinician.email == email)):
        problem = f"{email} already has an account; an account belongs to one practice."
    if problem:
        form.email.errors.append(problem)
        return _page(invite_form=form, status=400)
    token = secrets.token_urlsafe(32)  # 256 random bits, shown once
    db.session.add(
        PracticeInvite(
            practice_id=current_user.practice_id,
            email=email,
            token_hash=tokens.token_hash(token),
            created_by_id=current_user.id,
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(hours=INVITE_TTL_HOURS),
        )
    )
    audit.record_practice(current_user.practice_id, "colleague_invited", current_user.id, colleague=email)
    db.session.commit()
    link = {"email": email, "url": external_url("practice.join", token=token)}
    return _page(invite_form=ColleagueInviteForm(formdata=None), new_link=link)


def _admin_action_on(model, row_id: int):
    """The practice's row (an invite, a clinician) an admin's posted action names: 403 for a
    non-admin, 400 without the CSRF token, 404 for another practice's or none."""
    _admin_only()
    if not FlaskForm().validate_on_submit():
        abort(400)
    row = db.session.get(model, row_id)
    if row is None or row.practice_id != current_user.practice_id:
        abort(404)
    return row


@bp.post("/practice/invites/<int:invite_id>/withdraw")
@login_required
def withdraw(invite_id: int):
    invite = _admin_action_on(PracticeInvite, invite_id)
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        audit.record_practice(invite.practice_id, "colleague_invite_withdrawn", current_user.id, colleague=invite.email)
    db.session.commit()
    flash(f"The invite for {invite.email} was withdrawn.")
    return redirect(url_for("practice.page"))


@bp.post("/practice/notation")
@login_required
def set_notation():
    """The practice's notation: every result of its tests leads with it from now on (stored results
    are written again in it: the server computes every string when it is shown)."""
    _admin_only()
    form = NotationForm()
    if not form.validate_on_submit():
        return _page(notation_form=form, status=400)
    practice = current_user.practice
    if form.notation.data != practice.notation:
        audit.record_practice(practice.id, "notation_set", current_user.id, notation=form.notation.data)
        practice.notation = form.notation.data
    db.session.commit()
    flash("The practice's notation was saved: every result now leads with it.")
    return redirect(url_for("practice.page"))


@bp.post("/practice/members/<int:clinician_id>/remove")
@login_required
def remove(clinician_id: int):
    """The admin removes a colleague: the account moves to a new, empty practice of its own and every
    sign-in of it ends. The tests it made stay with this practice (its patients' tests)."""
    from webapp.auth import sessions

    colleague = _admin_action_on(Clinician, clinician_id)
    if colleague.id == current_user.id:
        flash("You cannot remove yourself: you are the practice's admin.")
        return redirect(url_for("practice.page"))
    audit.record_practice(current_user.practice_id, "colleague_removed", current_user.id, colleague=colleague.email)
    colleague.practice = Practice(name=f"Practice of {colleague.email}"[:120])
    colleague.is_practice_admin = True  # of the new, empty practice only
    db.session.commit()
    sessions.revoke_all(colleague.id)
    flash(f"{colleague.email} was removed from the practice and signed out; they no longer see its tests.")
    return redirect(url_for("practice.page"))


def _usable_invite(token: str) -> PracticeInvite | None:
    invite = db.session.scalar(select(PracticeInvite).where(PracticeInvite.token_hash == tokens.token_hash(token)))
    if invite is None or invite.used_at or invite.revoked_at or invite.expires_at <= utcnow():
        return None
    return invite


@bp.route("/join/<token>", methods=["GET", "POST"])
def join(token: str):
    """A colleague's invite link: they choose a password and are signed in as a clinician of the practice."""
    from webapp.auth import sessions

    invite = _usable_invite(token)
    if invite is None:
        return render_template(
            "errors/error.html",
            code=404,
            title="This invite link does not work",
            message="It was used already, withdrawn, or it expired. Ask your practice's admin for a new one.",
        ), 404
    form = JoinForm()
    if form.validate_on_submit():
        try:
            clinician = create_clinician(invite.email, form.password.data, invite.practice, commit=False)
        except AccountError as error:
            form.password.errors.append(str(error))  # the e-mail is the invite's: only the password can be wrong
        else:
            invite.used_at = utcnow()
            db.session.flush()  # the new clinician's id, for the audit entry
            audit.record_practice(invite.practice_id, "colleague_joined", clinician.id, colleague=clinician.email)
            db.session.commit()
            sessions.start(clinician)
            login_user(clinician)
            flash(f"Welcome to {invite.practice.name}. You see and run the practice's tests.")
            return redirect(url_for("clinician.dashboard"))
    return render_template("auth/join.html", form=form, invite=invite), 200, {"Cache-Control": "no-store"}
