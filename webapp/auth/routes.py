import unicodedata
from urllib.parse import unquote, urlsplit

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp.auth import bp, sessions
from webapp.auth.accounts import AccountError, authenticate, clinician_count, create_clinician
from webapp.auth.forms import LoginForm, SetupForm


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site, else None.

    Only "/path" with no scheme, host, backslash, control character or white space, in the value as
    given and after one more percent-decoding: browsers drop tabs and newlines from a URL and read a
    backslash as "/", so "/%09/evil.example" and "/%5Cevil.example" would both leave the site, and a
    newline would break the Location header (OWASP unvalidated-redirects cheat sheet).
    """
    if not target:
        return None
    for text in (target, unquote(target)):
        if "\\" in text or any(ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in text):
            return None
        if not text.startswith("/") or text.startswith("//"):
            return None
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return None
    return target


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    """First run: create the first clinician. Gone once any clinician exists."""
    if clinician_count() > 0:
        abort(404)
    form = SetupForm()
    if form.validate_on_submit():
        try:
            clinician = create_clinician(form.email.data, form.password.data)
        except AccountError as error:
            form[error.field].errors.append(str(error))
        else:
            sessions.start(clinician)
            login_user(clinician)
            flash("Account created. You are signed in.")
            return redirect(url_for("clinician.dashboard"))
    return render_template("setup.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if clinician_count() == 0:
        return redirect(url_for("auth.setup"))
    if current_user.is_authenticated:
        return redirect(url_for("clinician.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        clinician = authenticate(form.email.data, form.password.data)
        if clinician:
            sessions.start(clinician)  # a server-side session: sign-out and expiry end it for good
            login_user(clinician)
            # Only local paths: an open redirect would let a phishing link borrow our login page.
            return redirect(safe_next(request.args.get("next")) or url_for("clinician.dashboard"))
        form.password.errors.append("The email or the password is wrong.")
        status = 401
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    sessions.end()  # the cookie, even a copy of it, no longer signs anyone in; its sockets are dropped
    logout_user()
    flash("Signed out.")
    return redirect(url_for("auth.login"))
