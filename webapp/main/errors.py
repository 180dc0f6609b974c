"""The error pages anyone can reach (a mistyped address, a form left open too long, a fault of the
server): in the patient's language where the page is a patient's (the test's, set by the patient
routes), else in the browser's (Accept-Language); a signed-in clinician reads English, as on every
clinician page. Each says what happened and what to do, never a bare status line."""

from __future__ import annotations

from flask import g, make_response, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp import i18n
from webapp.i18n import N_
from webapp.main import bp

# (heading, what to do) by HTTP status; a status not listed reads as 400.
PAGES = {
    400: (N_("This request could not be used"), N_("Go back, reload the page and try again.")),
    403: (
        N_("This page is not open to you"),
        N_("If a link led you here, open it again from your e-mail or message, or ask for a new one."),
    ),
    404: (
        N_("This page does not exist"),
        N_("Check the address, or open the link from your e-mail or message again."),
    ),
    500: (
        N_("Something went wrong on the server"),
        N_(
            "Nothing you did caused this, and nothing you entered before is lost. Wait a minute, then "
            "reload the page; if it happens again, tell your clinician."
        ),
    ),
}
EXPIRED_FORM = (
    N_("This page was open too long"),
    N_("For your safety a form works for a limited time. Go back, reload the page and send it again."),
)


# The clinician's blueprints: their error pages stay English, like their other pages.
CLINICIAN_BLUEPRINTS = frozenset({"auth", "clinician", "reports", "audit", "privacy", "practice"})


def error_language() -> str:
    """The language of an error page: the test's where a patient route knows it, English on the
    clinician's pages and for a signed-in clinician, else the browser's (Accept-Language)."""
    if g.get("patient_language"):
        return g.patient_language
    if request.blueprint in CLINICIAN_BLUEPRINTS or (current_user and current_user.is_authenticated):
        return i18n.DEFAULT
    return i18n.browser_language()


def error_page(status: int, heading: str, message: str, **params):
    """errors/error.html with `heading` and `message` (English message ids) in the page's language."""
    i18n.use_language(error_language())
    _ = i18n.translator(i18n.page_language().code)
    page = render_template("errors/error.html", code=status, title=_(heading), message=_(message, **params))
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_errorhandler(CSRFError)
def expired_form(error: CSRFError):
    return error_page(400, *EXPIRED_FORM)


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    if error.code is None or error.code < 400 or error.response is not None:
        return error  # a page of its own (the rate limit's, webapp/security.py), or not an error
    heading, message = PAGES.get(error.code, PAGES[404 if error.code in (405, 410) else 400])
    response = error_page(error.code, heading, message)
    if error.code == 405:
        response.headers["Allow"] = ", ".join(error.valid_methods or [])
    return response


@bp.app_errorhandler(InternalServerError)
def server_error(error: InternalServerError):
    return error_page(500, *PAGES[500])
